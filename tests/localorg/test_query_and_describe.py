"""Query paging, Tooling queries, describe shapes (wire-formats §2.3, §2.7; cumulusci-notes §3.4)."""

import pytest
import json
import pathlib

import yaml

from slotforce.localorg.schema import Field

# The recorded describes live in the shared/ folder beside the repository (as CI lays it out).
REFERENCE = pathlib.Path(__file__).resolve().parents[3] / "shared" / "reference" / "describes"


def _bulk_contacts(local_org, n):
    """Insert quickly through the model (the API path is tested elsewhere)."""
    from slotforce.localorg import records

    with local_org.org.transaction() as ctx:
        s = local_org.org.sobject("Contact")
        for start in range(0, n, 500):
            records.save(ctx, "insert", s, [{"LastName": f"P{i:05d}"} for i in range(start, min(n, start + 500))],
                         all_or_none=True)


def test_query_pages_by_2000_with_a_path_next_records_url(sf, local_org):
    """§2.3: up to 2,000 per batch; totalSize is the full count; nextRecordsUrl is /services/data/vXX.X/query/01g...-2000."""
    _bulk_contacts(local_org, 2500)
    first = sf.query("SELECT Id, LastName FROM Contact ORDER BY LastName")
    assert first["totalSize"] == 2500 and first["done"] is False and len(first["records"]) == 2000
    assert first["nextRecordsUrl"].startswith("/services/data/v62.0/query/01g")
    assert first["nextRecordsUrl"].endswith("-2000")
    rest = sf.query_more(first["nextRecordsUrl"], identifier_is_url=True)
    assert rest["done"] is True and len(rest["records"]) == 500 and rest["records"][-1]["LastName"] == "P02499"
    everything = sf.query_all("SELECT Id FROM Contact")
    assert len(everything["records"]) == 2500


def test_batch_size_header(local_org):
    """§2.3: Sforce-Query-Options: batchSize=N (200..2000)."""
    _bulk_contacts(local_org, 450)
    r = local_org.session().get(f"{local_org.instance_url}/services/data/v62.0/query",
                                params={"q": "SELECT Id FROM Contact"},
                                headers={"Authorization": f"Bearer {local_org.access_token}",
                                         "Sforce-Query-Options": "batchSize=200"})
    assert len(r.json()["records"]) == 200 and r.json()["nextRecordsUrl"].endswith("-200")


def test_count_query_and_malformed_query(sf):
    """§2.3: SELECT COUNT() -> totalSize with no records; a bad query -> 400 MALFORMED_QUERY."""
    from simple_salesforce.exceptions import SalesforceMalformedRequest

    assert sf.query("SELECT COUNT() FROM Account") == {"totalSize": 0, "done": True, "records": []}
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.query("SELECT Id FRM Account")
    assert exc.value.content[0]["errorCode"] == "MALFORMED_QUERY"


def test_tooling_queries_cumulusci_sends(sf):
    """cumulusci-notes §3.4: InstalledSubscriberPackage -> {"size":0,"totalSize":0,"done":true,"records":[]}."""
    q = "SELECT SubscriberPackage.Id, SubscriberPackage.NamespacePrefix, SubscriberPackageVersionId FROM InstalledSubscriberPackage"
    body = sf.toolingexecute(f"query/?q={q}")
    assert body["size"] == 0 and body["totalSize"] == 0 and body["done"] is True and body["records"] == []


def _recorded(name):
    cassette = yaml.safe_load((REFERENCE / f"{name}.yaml").read_text())
    return json.loads(cassette["response"]["body"]["string"])


@pytest.mark.skipif(not REFERENCE.exists(), reason="recorded describes not available")
@pytest.mark.parametrize("name", ["Account", "Contact", "Lead", "Event"])
def test_describe_is_shaped_like_the_recorded_one(sf, name):
    """§2.7: describe keys match the real v59 response; field entries carry the same keys and facts."""
    real = _recorded(name)
    ours = getattr(sf, name).describe()
    assert set(real) - set(ours) <= {"associateEntityType", "associateParentEntity"}
    real_fields = {f["name"]: f for f in real["fields"]}
    for f in ours["fields"]:
        assert set(f) == set(real_fields.get(f["name"], f)), f["name"]
        if f["name"] in real_fields and not f["custom"]:
            for key in ("type", "length", "nillable", "createable", "updateable", "referenceTo"
                        if f["type"] != "reference" else "relationshipName"):
                assert f[key] == real_fields[f["name"]][key], (f["name"], key)
    assert ours["keyPrefix"] == real["keyPrefix"]
    assert ours["recordTypeInfos"][-1]["recordTypeId"] == "012000000000000AAA"


def test_global_describe_lists_the_modeled_objects(sf):
    """§2.7: {"encoding", "maxBatchSize": 200, "sobjects": [...]} with key prefixes from the issue."""
    body = sf.describe()
    prefixes = {s["name"]: s["keyPrefix"] for s in body["sobjects"]}
    assert body["maxBatchSize"] == 200
    assert prefixes.items() >= {"Account": "001", "Contact": "003", "Lead": "00Q", "Opportunity": "006",
                             "Event": "00U", "Task": "00T", "User": "005", "Profile": "00e",
                             "Organization": "00D", "RecordType": "012", "EventRelation": "0RE",
                             "PermissionSet": "0PS", "PermissionSetAssignment": "0Pa"}.items()


def test_custom_fields_appear_in_describe_and_activity_fields_on_event_and_task(sf, local_org):
    """Activity custom fields are defined once and appear on both Event and Task (DESIGN 'The package')."""
    local_org.org.add_field("Activity", Field("Booking_Uid__c", "string", "Booking UID", length=255,
                                              external_id=True, unique=True, custom=True))
    for name in ("Event", "Task"):
        fields = {f["name"]: f for f in getattr(sf, name).describe()["fields"]}
        assert fields["Booking_Uid__c"]["externalId"] is True and fields["Booking_Uid__c"]["custom"] is True
    ev = sf.Event.create({"Subject": "x", "StartDateTime": "2026-02-01T10:00:00Z", "DurationInMinutes": 30,
                          "Booking_Uid__c": "uid-1"})["id"]
    assert sf.Event.get_by_custom_id("Booking_Uid__c", "uid-1")["Id"] == ev


def test_record_types_show_in_describe_and_are_checked_on_save(sf, local_org):
    """§2.7 recordTypeInfos next to Master; a record type of another object is refused."""
    rt = sf.RecordType.create({"Name": "Partner", "DeveloperName": "Partner", "SobjectType": "Account"})["id"]
    infos = sf.Account.describe()["recordTypeInfos"]
    names = [i["developerName"] for i in infos]
    assert "Partner" in names and names[-1] == "Master"  # record types are configuration: they outlive resets
    assert sf.Account.create({"Name": "P", "RecordTypeId": rt})["success"]
    from simple_salesforce.exceptions import SalesforceMalformedRequest

    with pytest.raises(SalesforceMalformedRequest):
        sf.Contact.create({"LastName": "x", "RecordTypeId": rt})


def test_date_literals_follow_the_org_clock():
    """TODAY / LAST_N_DAYS:n are evaluated against the org's clock (SOQL date literals, wire-formats §3)."""
    import datetime as dt

    from slotforce.localorg import records
    from slotforce.localorg.models import Org

    org = Org(clock=lambda: dt.datetime(2020, 3, 10, 12, 0, tzinfo=dt.timezone.utc))
    with org.transaction() as ctx:
        records.save(ctx, "insert", org.sobject("Account"), [{"Name": "Then"}], all_or_none=True)
    assert org.execute_query("SELECT COUNT() FROM Account WHERE CreatedDate = TODAY").total_size == 1
    assert org.execute_query("SELECT COUNT() FROM Account WHERE CreatedDate = LAST_N_DAYS:3").total_size == 1


def test_columns_true_describes_the_selected_columns_for_the_sf_cli(local_org):
    """`sf data query` asks `query?q=...&columns=true` before printing its table."""
    def columns(soql):
        r = local_org.session().get(local_org.instance_url + "/services/data/v62.0/query",
                                    params={"q": soql, "columns": "true"},
                                    headers={"Authorization": f"Bearer {local_org.access_token}"})
        assert r.status_code == 200, r.text
        return r.json()

    body = columns("SELECT Id, Username, Profile.Name FROM User")
    assert body["entityName"] == "User" and body["keyPrefix"] == "005"
    names = [(c["columnName"], [j["columnName"] for j in c["joinColumns"]]) for c in body["columnMetadata"]]
    assert names == [("Id", []), ("Username", []), ("Profile", ["Name"])]
    [count] = columns("SELECT COUNT(Id) n FROM User")["columnMetadata"]
    assert (count["columnName"], count["aggregate"]) == ("n", True)


def test_a_doubled_leading_slash_reaches_the_same_resource(local_org):
    """The sf CLI stores an instance URL ending in '/', and jsforce appends '/services/...' to it."""
    r = local_org.session().get(local_org.instance_url + "//services/data/v62.0/limits",
                                headers={"Authorization": f"Bearer {local_org.access_token}"})
    assert r.status_code == 200 and "DailyApiRequests" in r.json()
