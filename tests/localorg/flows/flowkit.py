"""Helpers for flow tests: part 1's Org in memory, one custom object, flows deployed from XML."""

from __future__ import annotations

from slotforce.localorg import records
from slotforce.localorg.flows import FlowRegistry, parse_flow, validate_flow
from slotforce.localorg.flows.adapter import install
from slotforce.localorg.models import Org
from slotforce.localorg.schema import Field, PicklistValue, SObject


def booking_object() -> SObject:
    s = SObject("Booking__c", "Booking", "Bookings", "", custom=True)
    for f in [
        Field("Action__c", "picklist", "Action", length=255,
              picklist_values=[PicklistValue(v, v) for v in ("Created", "Canceled", "Other")]),
        Field("Email__c", "email", "Email", length=80),
        Field("Subject__c", "string", "Subject", length=255),
        Field("Status__c", "string", "Status", length=40),
        Field("Error__c", "textarea", "Error", length=32000),
        Field("Count__c", "double", "Count", precision=18),
        Field("Start__c", "datetime", "Start"),
        Field("Event_Id__c", "string", "Event Id", length=18),
    ]:
        f.custom = True
        s.add_field(f)
    return s


class FlowOrg:
    def __init__(self) -> None:
        self.org = Org()
        self.org.add_custom_object(booking_object())
        self.registry = FlowRegistry()
        self.hooks = install(self.org, self.registry)

    def deploy(self, *sources: str) -> None:
        flows = [parse_flow(src.encode(), name) for name, src in (split_name(s) for s in sources)]
        known = {f.name.lower(): f for f in flows}
        for d in self.registry:
            known.setdefault(d.name.lower(), d.latest)
        for f in flows:
            validate_flow(f, self.org.schema, known)
        for f in flows:
            self.registry.deploy(f)

    def save(self, operation: str, sobject: str, rows: list[dict], *, all_or_none: bool = True):
        """One API request: one transaction, the API's own save (not counted against limits)."""
        with self.org.transaction() as ctx:
            results = records.save(ctx, operation, self.org.sobject(sobject), rows, all_or_none=all_or_none)
            if all_or_none and not all(r.success for r in results):
                raise results[0].errors[0] if results[0].errors else RuntimeError(results)
            return results

    def query(self, soql: str) -> list[dict]:
        return self.org.execute_query(soql).records


def split_name(source: str) -> tuple[str, str]:
    """Test flows start with a comment naming them: <!-- name: X -->."""
    head = source.strip().splitlines()[0]
    assert head.startswith("<!-- name:"), head
    return head.split("name:")[1].split("-->")[0].strip(), source.strip().split("\n", 1)[1]


def flow(name: str, body: str, *, status: str = "Active", start: str = "", label: str | None = None) -> str:
    """Flow XML with the usual header; `start` is the inside of <start>."""
    return f"""<!-- name: {name} -->
<?xml version="1.0" encoding="UTF-8"?>
<Flow xmlns="http://soap.sforce.com/2006/04/metadata">
    <apiVersion>62.0</apiVersion>
    <label>{label or name.replace('_', ' ')}</label>
    <processType>AutoLaunchedFlow</processType>
{body}
    <start>
{start}
    </start>
    <status>{status}</status>
</Flow>"""


def record_start(obj: str, target: str, *, trigger: str = "RecordAfterSave", on: str = "Create",
                 extra: str = "") -> str:
    return f"""        <connector><targetReference>{target}</targetReference></connector>
        <object>{obj}</object>
        <recordTriggerType>{on}</recordTriggerType>
        <triggerType>{trigger}</triggerType>
{extra}"""


def https_deploy(server, files: dict[str, str], tmp_path) -> dict:
    """Deploy an MDAPI zip with simple-salesforce over HTTPS; the finished deploy status."""
    import io
    import time
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, content in files.items():
            zf.writestr(name, content)
    path = tmp_path / "deploy.zip"
    path.write_bytes(buf.getvalue())
    sf = server.client()
    result = sf.deploy(str(path), sandbox=False, checkOnly=False, singlePackage=True)
    for _ in range(100):
        status = sf.checkDeployStatus(result["asyncId"])
        if status.get("state") in ("Succeeded", "Failed"):
            return status
        time.sleep(0.05)
    raise AssertionError(status)


def package(types: dict[str, list[str]]) -> str:
    body = "".join(f"<types>{''.join(f'<members>{m}</members>' for m in members)}<name>{t}</name></types>"
                   for t, members in types.items())
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<Package xmlns="http://soap.sforce.com/2006/04/metadata">'
            f"{body}<version>62.0</version></Package>")


def flow_package(*flows: str, objects: dict[str, str] | None = None) -> dict[str, str]:
    """An MDAPI package (path -> text) of flow sources (`flow()` text) and custom objects (name -> XML)."""
    from slotforce.package.writer import to_schema_order

    out = {f"objects/{name}.object": xml for name, xml in (objects or {}).items()}
    names = []
    for src in flows:
        name, body = split_name(src)
        out[f"flows/{name}.flow"] = to_schema_order(body)
        names.append(name)
    out["package.xml"] = package({**({"CustomObject": list(objects)} if objects else {}), "Flow": names})
    return out
