"""Control and observation: faults, the daily API budget, stats, reset (issue item 6)."""

import time

import pytest
import requests
from simple_salesforce.exceptions import (SalesforceGeneralError, SalesforceMalformedRequest,
                                          SalesforceRefusedRequest)


def _control(local_org, method, path, **kw):
    return local_org.session().request(method, f"{local_org.instance_url}/__localorg__/{path}",
                                       headers={"Authorization": f"Bearer {local_org.access_token}"}, **kw)


def test_control_routes_need_the_token(local_org):
    r = local_org.session().get(f"{local_org.instance_url}/__localorg__/stats")
    assert r.status_code == 401


def test_unable_to_lock_row_for_the_next_call_only(sf, local_org):
    """wire-formats §1 (Fidelic faults): UNABLE_TO_LOCK_ROW as 400, for the next N matching calls."""
    assert _control(local_org, "POST", "faults", json={"error": "UNABLE_TO_LOCK_ROW", "count": 1,
                                                       "path": "sobjects/Account"}).status_code == 201
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Account.create({"Name": "x"})
    assert exc.value.content[0]["errorCode"] == "UNABLE_TO_LOCK_ROW"
    assert sf.Account.create({"Name": "x"})["success"] is True
    assert sf.Contact.create({"LastName": "y"})["success"] is True  # path did not match anyway


def test_server_errors_and_dropped_connections(sf, local_org):
    """Injected 503 and a dropped connection look like Salesforce outages to the client."""
    local_org.faults.add(error="503", count=1)
    with pytest.raises(SalesforceGeneralError) as exc:
        sf.Account.create({"Name": "x"})
    assert exc.value.status == 503
    local_org.faults.add(error="drop", count=1)
    with pytest.raises(requests.exceptions.ConnectionError):
        sf.Account.create({"Name": "x"})
    assert sf.Account.create({"Name": "x"})["success"] is True


def test_latency_by_seeded_rate(sf, local_org):
    """A rate of 1.0 with latency_ms delays every matching call by that much."""
    local_org.faults.add(latency_ms=150, rate=1.0, seed=3, path="limits")
    start = time.perf_counter()
    sf.limits()
    assert time.perf_counter() - start >= 0.15
    assert _control(local_org, "DELETE", "faults").status_code == 204
    assert local_org.faults.rules() == []


def test_seeded_rate_is_reproducible(local_org):
    from slotforce.localorg.faults import Faults

    def pattern():
        f = Faults()
        f.add(error="500", rate=0.5, seed=42)
        return [f.match("GET", "/services/data/v62.0/limits") is not None for _ in range(20)]

    first = pattern()
    assert first == pattern() and 0 < sum(first) < 20


def test_daily_budget_runs_out_with_request_limit_exceeded(sf, local_org):
    """wire-formats §2.2/§2.8: 403 REQUEST_LIMIT_EXCEEDED 'TotalRequests Limit exceeded.'; limits shows it."""
    _control(local_org, "POST", "budget", json={"daily_max": 3, "used": 0})
    sf.Account.create({"Name": "1"})
    sf.Account.create({"Name": "2"})
    limits = sf.limits()
    assert limits["DailyApiRequests"] == {"Max": 3, "Remaining": 1}
    sf.Account.create({"Name": "3"})
    with pytest.raises(SalesforceRefusedRequest) as exc:
        sf.Account.create({"Name": "4"})
    assert exc.value.content[0] == {"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}
    sf.limits()  # not billed, so it still answers; simple-salesforce reads Sforce-Limit-Info into api_usage
    assert sf.api_usage["api-usage"].used == 3 and sf.api_usage["api-usage"].total == 3
    _control(local_org, "POST", "budget/reset")
    assert sf.Account.create({"Name": "5"})["success"]
    local_org.org.set_api_budget(daily_max=15000)


def test_stats_count_billed_calls_by_kind(sf, local_org):
    """DESIGN: stats = {"api_calls": {"total", "by_kind"}, "last_transaction": {"soql", "dml", "dml_rows"}}."""
    sf.Account.create({"Name": "x"})
    sf.query("SELECT Id FROM Account")
    sf.Account.describe()
    sf.limits()  # not billed
    stats = _control(local_org, "GET", "stats").json()
    assert stats["api_calls"] == {"total": 3, "by_kind": {"describe": 1, "query": 1, "sobject": 1}}
    assert set(stats["last_transaction"]) == {"soql", "dml", "dml_rows"}


def test_reset_keeps_seed_data_and_schema(sf, local_org):
    sf.Account.create({"Name": "x"})
    assert _control(local_org, "POST", "reset").status_code == 200
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == 0
    assert sf.query("SELECT COUNT() FROM User")["totalSize"] == 2
    assert sf.Organization.get(local_org.org_id)["Id"] == local_org.org_id


def test_reset_never_reuses_ids(sf, local_org):
    """Salesforce ids are never reused; a client may still hold one from before the reset."""
    before = sf.Account.create({"Name": "x"})["id"]
    local_org.reset()
    after = sf.Account.create({"Name": "y"})["id"]
    assert after != before
    assert sf.query("SELECT COUNT() FROM User")["totalSize"] == 2
    assert sf.User.get(local_org.user_id)["Username"] == local_org.username


def test_injected_request_limit_exceeded_is_403(sf, local_org):
    """wire-formats §2.2: REQUEST_LIMIT_EXCEEDED is 403 -> SalesforceRefusedRequest."""
    local_org.faults.add(error="REQUEST_LIMIT_EXCEEDED", count=1, method="GET")
    with pytest.raises(SalesforceRefusedRequest):
        sf.query("SELECT Id FROM Account")
    assert sf.query("SELECT Id FROM Account")["totalSize"] == 0


def test_oversized_body_is_refused_and_nothing_saved(sf, local_org, monkeypatch):
    """Bad input rule: an oversized body gets an error and leaves data unchanged."""
    from slotforce.localorg.rest import dispatch

    monkeypatch.setattr(dispatch, "MAX_BODY_BYTES", 1000)
    with pytest.raises(SalesforceGeneralError) as exc:
        sf.Account.create({"Name": "x", "Description": "y" * 2000})
    assert exc.value.status == 413
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == 0


def test_unknown_fault_is_refused(local_org):
    r = _control(local_org, "POST", "faults", json={"error": "EXPLODE"})
    assert r.status_code == 400 and r.json()[0]["errorCode"] == "INVALID_FAULT"


def test_reset_keeps_configuration_rows(sf, local_org):
    """Record types and permission sets come from deploys: a data reset keeps them."""
    rt = sf.RecordType.create({"Name": "Partner", "DeveloperName": "Partner_Reset", "SobjectType": "Account"})["id"]
    ps = sf.PermissionSet.create({"Name": "Reset_Probe", "Label": "Reset Probe"})["id"]
    psa = sf.PermissionSetAssignment.create({"AssigneeId": local_org.user_id, "PermissionSetId": ps})["id"]
    local_org.reset()
    assert sf.RecordType.get(rt)["DeveloperName"] == "Partner_Reset"
    assert sf.PermissionSetAssignment.get(psa)["PermissionSetId"] == ps
    sf.PermissionSetAssignment.delete(psa)
    sf.PermissionSet.delete(ps)
