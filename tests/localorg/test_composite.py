"""sObject Collections and Composite (wire-formats §2.5, §2.6)."""

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest


def _accounts(n, prefix="A"):
    return [{"attributes": {"type": "Account"}, "Name": f"{prefix}{i}"} for i in range(n)]


def test_collection_create_returns_results_in_order(sf):
    """§2.5: POST /composite/sobjects -> 200 with one SaveResult per record, in order; mixed types allowed."""
    rows = _accounts(2) + [{"attributes": {"type": "Contact"}, "LastName": "C"}]
    results = sf.restful("composite/sobjects", method="POST", json={"records": rows})
    assert [r["success"] for r in results] == [True, True, True]
    assert [r["id"][:3] for r in results] == ["001", "001", "003"]


def test_collection_partial_success_uses_status_code(sf):
    """§2.5: allOrNone false keeps the good records; per-record errors carry `statusCode`."""
    rows = _accounts(1) + [{"attributes": {"type": "Account"}}]
    results = sf.restful("composite/sobjects", method="POST", json={"allOrNone": False, "records": rows})
    assert results[0]["success"] is True
    assert results[1]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == 1


def test_collection_all_or_none_rolls_back_everything(sf):
    """§2.5: allOrNone true -> nothing saved; others get ALL_OR_NONE_OPERATION_ROLLED_BACK."""
    rows = _accounts(2) + [{"attributes": {"type": "Account"}, "Name": "x" * 300}]
    results = sf.restful("composite/sobjects", method="POST", json={"allOrNone": True, "records": rows})
    codes = [r["errors"][0]["statusCode"] for r in results]
    assert codes == ["ALL_OR_NONE_OPERATION_ROLLED_BACK"] * 2 + ["STRING_TOO_LONG"]
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == 0


def test_collection_caps_at_200_records(sf):
    """§2.5: at most 200 records per request."""
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.restful("composite/sobjects", method="POST", json={"records": _accounts(201)})
    assert exc.value.content[0]["errorCode"] == "EXCEEDED_ID_LIMIT"
    assert len(sf.restful("composite/sobjects", method="POST", json={"records": _accounts(200)})) == 200


def test_collection_update_retrieve_and_delete(sf):
    """§2.5: PATCH updates by Id, GET /composite/sobjects/<Type>?ids=&fields= retrieves, DELETE ?ids= deletes."""
    ids = [r["id"] for r in sf.restful("composite/sobjects", method="POST", json={"records": _accounts(2)})]
    updates = [{"attributes": {"type": "Account"}, "Id": i, "Website": "https://x.example"} for i in ids]
    assert all(r["success"] for r in sf.restful("composite/sobjects", method="PATCH", json={"records": updates}))
    got = sf.restful("composite/sobjects/Account", params={"ids": ",".join(ids + ["001000000009999AAA"]),
                                                            "fields": "Id,Website"})
    assert [g and g["Website"] for g in got] == ["https://x.example", "https://x.example", None]
    deleted = sf.restful("composite/sobjects", method="DELETE", params={"ids": ",".join(ids)})
    assert [d["id"] for d in deleted] == ids and all(d["success"] for d in deleted)


def test_collection_upsert_by_external_id_reports_created(sf, local_org):
    """§2.5: PATCH /composite/sobjects/<Type>/<ExtIdField> -> results with `created` (API 46+)."""
    from slotforce.localorg.schema import Field

    local_org.org.add_field("Account", Field("Ext__c", "string", "Ext", length=40, external_id=True,
                                             unique=True, custom=True))
    rows = [{"attributes": {"type": "Account"}, "Ext__c": "e1", "Name": "One"}]
    first = sf.restful("composite/sobjects/Account/Ext__c", method="PATCH", json={"records": rows})
    rows[0]["Name"] = "Uno"
    second = sf.restful("composite/sobjects/Account/Ext__c", method="PATCH", json={"records": rows})
    assert first[0]["created"] is True and second[0]["created"] is False and first[0]["id"] == second[0]["id"]
    assert sf.Account.get(first[0]["id"])["Name"] == "Uno"


def test_composite_references_between_subrequests(sf):
    """§2.6: @{ref.id} and @{ref.records[0].Id} resolve against earlier subresponses."""
    body = {"allOrNone": True, "compositeRequest": [
        {"method": "POST", "url": "/services/data/v62.0/sobjects/Account", "referenceId": "acct",
         "body": {"Name": "Acme"}},
        {"method": "POST", "url": "/services/data/v62.0/sobjects/Contact", "referenceId": "ct",
         "body": {"LastName": "Ada", "AccountId": "@{acct.id}"}},
        {"method": "GET", "url": "/services/data/v62.0/query?q=SELECT+Id+FROM+Contact+WHERE+LastName='Ada'",
         "referenceId": "q"},
        {"method": "PATCH", "url": "/services/data/v62.0/sobjects/Contact/@{q.records[0].Id}", "referenceId": "up",
         "body": {"Title": "Countess"}},
    ]}
    out = sf.restful("composite", method="POST", json=body)["compositeResponse"]
    assert [o["httpStatusCode"] for o in out] == [201, 201, 200, 204]
    assert out[0]["httpHeaders"]["Location"].startswith("/services/data/v62.0/sobjects/Account/001")
    contact = sf.Contact.get(out[1]["body"]["id"])
    assert contact["AccountId"] == out[0]["body"]["id"] and contact["Title"] == "Countess"


def test_composite_all_or_none_halts_and_rolls_back(sf):
    """§2.6: allOrNone true -> the failing subrequest keeps its error, all others PROCESSING_HALTED; nothing saved."""
    body = {"allOrNone": True, "compositeRequest": [
        {"method": "POST", "url": "/services/data/v62.0/sobjects/Account", "referenceId": "a", "body": {"Name": "A"}},
        {"method": "POST", "url": "/services/data/v62.0/sobjects/Contact", "referenceId": "c", "body": {}},
        {"method": "POST", "url": "/services/data/v62.0/sobjects/Account", "referenceId": "b", "body": {"Name": "B"}},
    ]}
    out = sf.restful("composite", method="POST", json=body)["compositeResponse"]
    assert [o["httpStatusCode"] for o in out] == [400, 400, 400]
    assert [o["body"][0]["errorCode"] for o in out] == ["PROCESSING_HALTED", "REQUIRED_FIELD_MISSING",
                                                        "PROCESSING_HALTED"]
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == 0


def test_composite_without_all_or_none_keeps_independent_work(sf):
    """§2.6: allOrNone false -> independent subrequests commit; dependants of a failure are halted."""
    body = {"compositeRequest": [
        {"method": "POST", "url": "/services/data/v62.0/sobjects/Account", "referenceId": "bad", "body": {}},
        {"method": "POST", "url": "/services/data/v62.0/sobjects/Contact", "referenceId": "dep",
         "body": {"LastName": "x", "AccountId": "@{bad.id}"}},
        {"method": "POST", "url": "/services/data/v62.0/sobjects/Account", "referenceId": "ok", "body": {"Name": "B"}},
    ]}
    out = sf.restful("composite", method="POST", json=body)["compositeResponse"]
    assert [o["httpStatusCode"] for o in out] == [400, 400, 201]
    assert out[1]["body"][0]["errorCode"] == "PROCESSING_HALTED" and "bad.id" in out[1]["body"][0]["message"]
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == 1


def test_composite_runs_collections_and_caps_subrequests(sf):
    """§2.6: Collections are valid subrequests; more than 25 subrequests are refused."""
    body = {"compositeRequest": [{"method": "POST", "url": "/services/data/v62.0/composite/sobjects",
                                  "referenceId": "coll", "body": {"records": _accounts(3)}}]}
    out = sf.restful("composite", method="POST", json=body)["compositeResponse"]
    assert out[0]["httpStatusCode"] == 200 and len(out[0]["body"]) == 3
    many = {"compositeRequest": [{"method": "GET", "url": "/services/data/v62.0/limits", "referenceId": f"r{i}"}
                                 for i in range(26)]}
    with pytest.raises(SalesforceMalformedRequest):
        sf.restful("composite", method="POST", json=many)


def test_composite_and_collections_bill_one_call_each(sf, local_org):
    """DESIGN 'The local org': a Composite or Collections request counts as one API call."""
    before = local_org.stats()["api_calls"]["total"]
    sf.restful("composite/sobjects", method="POST", json={"records": _accounts(5)})
    sf.restful("composite", method="POST", json={"compositeRequest": [
        {"method": "GET", "url": "/services/data/v62.0/sobjects/Account/describe", "referenceId": "d"},
        {"method": "POST", "url": "/services/data/v62.0/sobjects/Account", "referenceId": "a", "body": {"Name": "x"}},
    ]})
    stats = local_org.stats()["api_calls"]
    assert stats["total"] - before == 2 and stats["by_kind"]["composite"] == 1
