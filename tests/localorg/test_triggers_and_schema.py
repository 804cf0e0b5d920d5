"""The automation hook (models.py docstring), governor limits, and schema changes at run time."""

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest

from slotforce.localorg import LocalOrg, errors
from slotforce.localorg.models import Org
from slotforce.localorg.schema import Field, SObject


def test_after_save_trigger_sees_the_batch_and_saves_more_in_the_same_transaction(sf, local_org, triggers):
    """Flow runtime hook: one call per batch; DML inside counts on ctx and commits with the request."""
    calls = []

    def on_save(ctx, sobject, event, new, old):
        if sobject.name != "Account":
            return
        calls.append((event, len(new)))
        ctx.insert("Contact", [{"LastName": f"of {r['Name']}", "AccountId": r["Id"]} for r in new])
        assert ctx.query("SELECT COUNT() FROM Contact").total_size >= len(new)

    local_org.org.triggers.append(on_save)
    triggers.append(on_save)
    rows = [{"attributes": {"type": "Account"}, "Name": f"A{i}"} for i in range(3)]
    sf.restful("composite/sobjects", method="POST", json={"records": rows})
    assert calls == [("insert", 3)]
    assert local_org.stats()["last_transaction"] == {"soql": 1, "dml": 1, "dml_rows": 3}
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 3


def test_trigger_error_fails_the_save_and_rolls_back_its_work(sf, local_org, triggers):
    """A SalesforceError from automation fails the record; nothing it did is kept."""
    def on_save(ctx, sobject, event, new, old):
        if sobject.name == "Account":
            ctx.insert("Contact", [{"LastName": "side effect"}])
            bad = [r for r in new if r["Name"] == "bad"]
            if bad:
                raise errors.SalesforceError("We can't save this record because the flow failed.",
                                             error_code="CANNOT_EXECUTE_FLOW_TRIGGER")

    local_org.org.triggers.append(on_save)
    triggers.append(on_save)
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Account.create({"Name": "bad"})
    assert exc.value.content[0]["errorCode"] == "CANNOT_EXECUTE_FLOW_TRIGGER"
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 0
    # partial save: the batch is retried one by one, so only the bad record fails
    rows = [{"attributes": {"type": "Account"}, "Name": n} for n in ("good", "bad", "fine")]
    results = sf.restful("composite/sobjects", method="POST", json={"allOrNone": False, "records": rows})
    assert [r["success"] for r in results] == [True, False, True]
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 2


def test_before_save_trigger_edits_are_validated_and_stored(sf, local_org, triggers):
    def before(ctx, sobject, event, new, old):
        if sobject.name == "Lead":
            for r in new:
                r["Rating"] = "Hot"

    local_org.org.before_save_triggers.append(before)
    triggers.append(before)
    lead = sf.Lead.create({"LastName": "x", "Company": "y"})["id"]
    assert sf.Lead.get(lead)["Rating"] == "Hot"


def test_governor_limit_on_soql_inside_automation(sf, local_org, triggers):
    """Apex/Flow limits per transaction: 100 SOQL queries (wire-formats §7 sources: governor limits)."""
    def on_save(ctx, sobject, event, new, old):
        if sobject.name == "Account":
            for _ in new:
                for _ in range(101):
                    ctx.query("SELECT Id FROM User LIMIT 1")

    local_org.org.triggers.append(on_save)
    triggers.append(on_save)
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Account.create({"Name": "loop"})
    assert exc.value.content[0]["errorCode"] == "LIMIT_EXCEEDED"
    assert "Too many SOQL queries: 101" in exc.value.content[0]["message"]


def test_custom_objects_get_prefixes_system_fields_and_survive_a_restart(tmp_path):
    """Schema persisted in the state dir; custom key prefixes a0..; fields added later become columns."""
    s = SObject("Scheduling_Link__c", "Scheduling Link", "Scheduling Links", "")
    s.add_field(Field("Link_Key__c", "string", "Link Key", length=255, external_id=True, unique=True, custom=True))
    s.add_field(Field("User__c", "reference", "User", reference_to=["User"], custom=True))
    with LocalOrg(state_dir=tmp_path) as org:
        org.org.add_custom_object(s)
        org.org.add_field("Scheduling_Link__c", Field("Active__c", "boolean", "Active", custom=True),
                          child_relationship_name=None)
        sf = org.client()
        new_id = sf.Scheduling_Link__c.create({"Link_Key__c": "k", "User__c": org.user_id, "Name": "Link"})["id"]
        assert new_id.startswith("a0")
        token = org.access_token
    with LocalOrg(state_dir=tmp_path) as org:
        sf = org.client()
        assert org.access_token == token
        rec = sf.Scheduling_Link__c.get(new_id)
        assert rec["Active__c"] is False and rec["User__c"] == org.user_id
        rows = sf.query("SELECT User__r.Username FROM Scheduling_Link__c")["records"]
        assert rows[0]["User__r"]["Username"] == org.username


def test_model_is_usable_without_http():
    """models.Org works on an in-memory database for unit tests of other parts."""
    org = Org()
    with org.transaction() as ctx:
        (account,) = ctx.insert("Account", [{"Name": "Acme"}])
        ctx.update("Account", [{"Id": account, "Website": "https://acme.example"}])
    with org.transaction() as ctx:
        rows = ctx.query("SELECT Website FROM Account").records
    assert rows[0]["Website"] == "https://acme.example"
