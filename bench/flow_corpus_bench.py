"""The real-world Flow yardstick: every flow of tests/localorg/flows/corpus/ deployed into a fresh local org.

For each `<Name>.flow-meta.xml` (real files from public Salesforce projects, listed with repository, path
and commit in corpus/SOURCES) the flow is deployed alone as MDAPI (`flows/<Name>.flow` + package.xml)
together with generated stubs for the custom objects and fields it names that the org lacks: every
`X__c` object of an `<object>` tag becomes a custom object with a Text name, every `F__c` field read or
written on an object becomes a Text(255) field of it (a number/date comparison then still deploys: the
validator checks names, not types). Standard objects and fields are the org's own. A flow that deploys
and is record-triggered is then run: one record of its object is inserted (and, for update flows,
updated) with what the org requires. Counted: deployed / deployed and ran / refused at deploy by reason
/ refused on save; and crashes (an exception that is not a Salesforce error, or a refusal that names no
line), which the test (tests/localorg/flows/test_flow_corpus.py) requires to be zero.

    python -m bench flow_corpus     # prints the counts and the most common refusals
"""

from __future__ import annotations

import io
import re
import sys
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from slotforce.localorg import records
from slotforce.localorg.errors import SalesforceError
from slotforce.localorg.metadata import attach
from slotforce.localorg.models import Org

CORPUS = Path(__file__).resolve().parents[1] / "tests" / "localorg" / "flows" / "corpus"
NS = "http://soap.sforce.com/2006/04/metadata"
_FIELD_REF = re.compile(r"\$Record(?:__Prior)?\.([A-Za-z0-9_]+__c)\b")
_REQUIRED = {"Contact": {"LastName": "Corpus"}, "Lead": {"LastName": "Corpus", "Company": "Corpus"},
             "Account": {"Name": "Corpus"}, "Opportunity": {"Name": "Corpus", "StageName": "Prospecting",
                                                              "CloseDate": "2026-01-01"},
             "Task": {"Subject": "Corpus"}, "Event": {"Subject": "Corpus", "DurationInMinutes": 30,
                                                      "ActivityDateTime": "2026-01-01T10:00:00.000+0000"}}


@dataclass
class Outcome:
    name: str
    deployed: bool = False
    ran: bool | None = None  # None: not record-triggered (or not deployed)
    reason: str = ""  # the refusal's category
    problem: str = ""
    crash: str = ""  # a 500-class failure: must never happen


@dataclass
class Report:
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def deployed(self) -> int:
        return sum(o.deployed for o in self.outcomes)

    def reasons(self) -> Counter:
        return Counter(o.reason for o in self.outcomes if not o.deployed)

    def summary(self) -> str:
        ran = sum(1 for o in self.outcomes if o.ran)
        save_refused = sum(1 for o in self.outcomes if o.ran is False)
        lines = [f"{len(self.outcomes)} flows: {self.deployed} deployed ({ran} record-triggered ran on a save, "
                 f"{save_refused} refused on save), {len(self.outcomes) - self.deployed} refused at deploy, "
                 f"{sum(1 for o in self.outcomes if o.crash)} crashes",
                 "refused at deploy, by reason:"]
        lines += [f"  {n:4d}  {reason}" for reason, n in self.reasons().most_common()]
        return "\n".join(lines)


def reason_of(problem: str) -> str:
    """A refusal's category: the construct named, without the flow's own names."""
    rules = [
        (r"processType (\w+)", "processType {0}"),
        (r"there is no quick action", "quick action not in the org (global or not deployed)"),
        (r"actionCalls \S+ \((\w+)", "action call {0}"),
        (r"triggerType (\w+)", "triggerType {0}"),
        (r"the function (\w+\(\))", "formula function {0}"),
        (r"function (\w+\(\)) is not supported", "formula function {0}"),
        (r"the global (\$\w+)", "global {0}"),
        (r"(\$Api\.\w+)", "{0}"),
        (r"\$Setup\.\w+__\w+__c", "namespaced (managed package) names"),
        (r"(\$Setup)\.", "$Setup (setting not in the org)"),
        (r"RecordTypeId", "record types (RecordTypeId)"),
        (r"polymorphic", "polymorphic cross-object reference"),
        (r"\w+__\w+__c", "namespaced (managed package) names"),
        (r"has no parent relationship", "parent relationship not in the org"),
        (r"the object \w+__e does not exist", "platform event objects (__e)"),
        (r"the object \w+__Share does not exist", "sharing objects (__Share)"),
        (r"the object \w+__c does not exist", "custom object not in the org"),
        (r"the object (\w+) does not exist", "standard object {0} not in the org"),
        (r"field .* does not exist", "field not in the org"),
        (r"\(<(\w+)>\) are not supported", "<{0}>"),
        (r"<(\w+)> is not supported", "<{0}>"),
        (r"dataType (\w+)", "variable dataType {0}"),
        (r"(Apex-defined variables)", "{0}"),
        (r"(doesUpsert)", "Create Records upsert"),
        (r"value <(\w+)>", "value <{0}>"),
        (r"is not a variable", "unknown resource"),
        (r"neither deployed nor in this deployment", "subflow outside the corpus"),
        (r"operator (\w+)", "operator {0}"),
        (r"malformed XML", "malformed XML"),
    ]
    for pattern, label in rules:
        m = re.search(pattern, problem)
        if m:
            return label.format(*m.groups())
    return problem[:80]


def _stubs(sources: list[bytes], org: Org) -> dict[str, str]:
    """objects/X.object files for the custom objects and fields the flows name that the org lacks."""
    wanted: dict[str, set[str]] = {}
    lookups: dict[str, dict[str, str]] = {}
    settings: dict[str, set[str]] = {}
    for source in sources:
        try:
            root = etree.fromstring(source, etree.XMLParser(resolve_entities=False, no_network=True))
        except etree.XMLSyntaxError:
            continue
        _needs(root, source.decode("utf-8", "replace"), wanted, lookups, settings,
               {o.name.lower(): o.name for o in org.schema if not o.custom})
    return _stub_files(org, wanted, lookups, settings)


def _needs(root, text: str, wanted: dict, lookups: dict, settings: dict, standard: dict[str, str]) -> None:
    start = root.find(f"{{{NS}}}start")
    trigger = start.findtext(f"{{{NS}}}object") if start is not None else None
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        obj = el.findtext(f"{{{NS}}}object")
        if obj:
            names = {(f.text or "").strip() for f in el.iter(f"{{{NS}}}field")}
            names |= {(f.text or "").strip() for f in el.iter(f"{{{NS}}}queriedFields")}
            wanted.setdefault(obj.strip(), set()).update(n for n in names if n.endswith("__c") and "." not in n)
            if "SetupOwnerId" in names and obj.strip().endswith("__c"):  # read as a hierarchy custom setting
                settings.setdefault(obj.strip(), set())
    if trigger:
        wanted.setdefault(trigger, set()).update(_FIELD_REF.findall(text))
        for el in root:  # elements on $Record (no <object> of their own): their fields are the trigger object's
            if isinstance(el.tag, str) and el.find(f"{{{NS}}}object") is None \
                    and (el.findtext(f"{{{NS}}}inputReference") or "").strip() == "$Record":
                wanted[trigger].update((f.text or "").strip() for f in el.iter(f"{{{NS}}}field")
                                       if (f.text or "").strip().endswith("__c"))
        for el in root.iter(f"{{{NS}}}assignToReference"):
            m = re.fullmatch(r"\$Record\.(\w+__c)", (el.text or "").strip())
            if m:
                wanted[trigger].add(m.group(1))
    # Resource.Field__c where the resource is a record: a Get Records element or an SObject variable.
    record_of = {}
    for el in root:
        if not isinstance(el.tag, str):
            continue
        name, obj = el.findtext(f"{{{NS}}}name"), el.findtext(f"{{{NS}}}object") or el.findtext(f"{{{NS}}}objectType")
        if name and obj:
            record_of[name.lower()] = obj.strip()
    for head, fname in re.findall(r"\b(\w+)\.(\w+__c)\b", text):
        if head.lower() in record_of:
            wanted.setdefault(record_of[head.lower()], set()).add(fname)
    # Res.F__r.X: F__c becomes a lookup to an object F__c (generated when missing): the usual naming.
    owners = dict(record_of)
    if trigger:
        owners["$record"] = owners["$record__prior"] = trigger
    for head, hops, leaf in re.findall(r"(\$?\w+)((?:\.\w+__r)+)\.(\w+)", text):
        owner = owners.get(head.lower())
        if owner is None:
            continue
        for rel in hops.split(".")[1:]:
            # User__r -> the standard User; Property__r -> a custom Property__c
            target = standard.get(rel[:-3].lower(), f"{rel[:-3]}__c")
            lookups.setdefault(owner, {})[f"{rel[:-3]}__c"] = target
            wanted.setdefault(target, set())
            owner = target
        if leaf.endswith("__c"):
            wanted[owner].add(leaf)
    for setting, fname in re.findall(r"\$Setup\.(\w+__c)\.(\w+__c)", text):
        settings.setdefault(setting, set()).add(fname)


def _stub_files(org: Org, wanted: dict, lookups: dict, settings: dict) -> dict[str, str]:
    out = {}
    for setting, fields in settings.items():
        fields = fields | wanted.pop(setting, set())
        if org.schema.get(setting) is None:
            body = "".join(f"<fields><fullName>{f}</fullName><label>{f[:-3]}</label><length>255</length>"
                           f"<type>Text</type></fields>" for f in sorted(fields))
            out[f"objects/{setting}.object"] = (f'<?xml version="1.0"?><CustomObject xmlns="{NS}"><customSettingsType>'
                                                f"Hierarchy</customSettingsType>{body}<label>{setting[:-3]}</label>"
                                                "</CustomObject>")
    for obj in lookups:
        wanted.setdefault(obj, set())
    for obj, fields in wanted.items():
        existing = org.schema.get(obj)
        if existing is None and not obj.endswith(("__c", "__e")):
            continue  # a standard object the org does not have: that is the finding
        refs = {f: t for f, t in lookups.get(obj, {}).items() if existing is None or existing.field(f) is None}
        missing = sorted(f for f in fields if (existing is None or existing.field(f) is None) and f not in refs)
        if existing is not None and not missing and not refs:
            continue
        body = "".join(f"<fields><fullName>{f}</fullName><label>{f[:-3]}</label><length>255</length>"
                       f"<type>Text</type></fields>" for f in missing)
        body += "".join(f"<fields><fullName>{f}</fullName><deleteConstraint>SetNull</deleteConstraint><label>{f[:-3]}"
                        f"</label><referenceTo>{t}</referenceTo><relationshipName>{obj[:-3]}_{f[:-3]}s"
                        "</relationshipName><type>Lookup</type></fields>" for f, t in sorted(refs.items()))
        if existing is None and obj.endswith("__e"):
            body += (f"<deploymentStatus>Deployed</deploymentStatus><eventType>HighVolume</eventType><label>{obj[:-3]}"
                     f"</label><pluralLabel>{obj[:-3]}s</pluralLabel><publishBehavior>PublishAfterCommit"
                     "</publishBehavior>")
        elif existing is None:
            body += (f"<label>{obj[:-3]}</label><nameField><label>Name</label><type>Text</type></nameField>"
                     f"<pluralLabel>{obj[:-3]}s</pluralLabel><deploymentStatus>Deployed</deploymentStatus>"
                     "<sharingModel>ReadWrite</sharingModel>")
        out[f"objects/{obj}.object"] = f'<?xml version="1.0"?><CustomObject xmlns="{NS}">{body}</CustomObject>'
    return out


def _zip(files: dict[str, str | bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, content in files.items():
            zf.writestr(name, content)
    return buf.getvalue()


def check_one(path: Path) -> Outcome:
    name = path.name[: -len(".flow-meta.xml")]
    out = Outcome(name)
    org = Org()
    service = attach(org)
    # CumulusCI's namespace injection of an unmanaged deploy: the token stands for no namespace.
    source = path.read_bytes().replace(b"%%%NAMESPACED_ORG%%%", b"").replace(b"%%%NAMESPACE%%%", b"")
    flows = {name: source}
    for called in re.findall(rb"<flowName>(\w+)</flowName>", source):  # subflows of the corpus go along
        other = path.parent / f"{called.decode()}.flow-meta.xml"
        if other.exists():
            flows[called.decode()] = other.read_bytes().replace(b"%%%NAMESPACED_ORG%%%", b"")
    stubs = _stubs(list(flows.values()), org)
    members = "".join(f"<members>{n[len('objects/'):-len('.object')]}</members>" for n in stubs)
    flow_members = "".join(f"<members>{n}</members>" for n in flows)
    package = (f'<?xml version="1.0"?><Package xmlns="{NS}"><types>{flow_members}<name>Flow</name></types>'
               + (f"<types>{members}<name>CustomObject</name></types>" if stubs else "")
               + "<version>62.0</version></Package>")
    try:
        result = service.deploy(_zip({"package.xml": package, **{f"flows/{n}.flow": b for n, b in flows.items()},
                                      **stubs}), {})
    except Exception as exc:  # noqa: BLE001 - the yardstick's point: nothing may escape as a crash
        out.crash = f"deploy raised {type(exc).__name__}: {exc}"
        return out
    if result.error_message:
        out.crash = f"deploy failed while applying: {result.error_message}"
        return out
    failures = [c for c in result.components if not c.success]
    flow_failures = [c for c in failures if c.component_type == "Flow" and c.full_name == name] or \
        [c for c in failures if c.component_type == "Flow"]
    if failures:
        c = (flow_failures or failures)[0]
        out.problem, out.reason = c.problem or "", reason_of(c.problem or "")
        if c.component_type == "Flow" and not c.line:
            out.crash = f"a refusal without a line: {c.problem}"
        return out
    out.deployed = True
    flow = service.registry.active(name)
    if flow is None or not flow.is_record_triggered or flow.start.record_trigger_type == "Delete":
        return out
    obj = org.schema.get(flow.start.object)
    try:
        with org.transaction() as ctx:
            [saved] = records.save(ctx, "insert", obj, [dict(_REQUIRED.get(obj.name, {}))], all_or_none=False)
            if saved.success and flow.start.record_trigger_type in ("Update", "CreateAndUpdate"):
                [saved] = records.save(ctx, "update", obj, [{"Id": saved.id}], all_or_none=False)
        out.ran = saved.success
        if not saved.success:
            out.problem = saved.errors[0].message if saved.errors else ""
    except SalesforceError as exc:
        out.ran, out.problem = False, exc.message
    except Exception as exc:  # noqa: BLE001
        out.crash = f"save raised {type(exc).__name__}: {exc}"
    return out


def run(corpus: Path = CORPUS) -> Report:
    return Report([check_one(p) for p in sorted(corpus.glob("*.flow-meta.xml"))])


def main() -> None:
    report = run()
    print(report.summary())
    for o in report.outcomes:
        if o.crash:
            print(f"CRASH {o.name}: {o.crash}")
    if "-v" in sys.argv:
        for o in report.outcomes:
            print(f"{o.name}: {'deployed' if o.deployed else 'refused'}"
                  f"{'' if o.ran is None else ', ran' if o.ran else ', save refused'}: {o.problem}")


if __name__ == "__main__":
    main()
