"""SOQL as unmodified simple-salesforce sees it, over HTTPS to the local org."""

import pytest
from simple_salesforce import format_soql
from simple_salesforce.exceptions import SalesforceMalformedRequest


@pytest.fixture
def booked(sf):
    acme = sf.Account.create({"Name": "Acme", "Website": "acme.com"})["id"]
    jane = sf.Contact.create({"FirstName": "Jane", "LastName": "O'Brien", "Email": "jane@acme.com",
                              "AccountId": acme})["id"]
    lead = sf.Lead.create({"LastName": "Lead", "Company": "100% Lead_Co", "Email": "lee@leadco.example"})["id"]
    sf.Event.create({"Subject": "Intro", "WhoId": jane, "WhatId": acme, "DurationInMinutes": 30,
                     "StartDateTime": "2024-05-15T10:00:00.000+0000", "EndDateTime": "2024-05-15T10:30:00.000+0000"})
    sf.Event.create({"Subject": "Demo", "WhoId": lead, "DurationInMinutes": 30,
                     "StartDateTime": "2024-05-16T10:00:00.000+0000", "EndDateTime": "2024-05-16T10:30:00.000+0000"})
    return {"acme": acme, "jane": jane, "lead": lead}


def test_parents_children_and_polymorphic_who(sf, booked):
    body = sf.query("SELECT Name, (SELECT Subject, Who.Name, Who.Type FROM Events ORDER BY Subject) "
                    "FROM Account WHERE Website LIKE '%acme%'")
    assert body["totalSize"] == 1 and body["done"] is True
    events = body["records"][0]["Events"]
    assert events["totalSize"] == 1
    assert events["records"][0]["Who"]["Name"] == "Jane O'Brien"
    assert events["records"][0]["Who"]["attributes"]["type"] == "Contact"


def test_format_soql_values_round_trip(sf, booked):
    soql = format_soql("SELECT Id FROM Contact WHERE LastName = {} AND Email IN {}",
                       "o'brien", ["JANE@ACME.COM", "x@y.z"])
    assert [r["Id"] for r in sf.query(soql)["records"]] == [booked["jane"]]
    like = format_soql("SELECT Company FROM Lead WHERE Company LIKE '%{:like}'", "% lead_co")
    assert [r["Company"] for r in sf.query(like)["records"]] == ["100% Lead_Co"]
    miss = format_soql("SELECT Company FROM Lead WHERE Company LIKE '%{:like}'", "%_lead_co")
    assert sf.query(miss)["records"] == []
    import datetime as dt
    since = format_soql("SELECT Subject FROM Event WHERE StartDateTime >= {}",
                        dt.datetime(2024, 5, 16, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=2))))
    assert [r["Subject"] for r in sf.query(since)["records"]] == ["Demo"]


def test_errors_reach_the_client_with_code_and_message(sf):
    with pytest.raises(SalesforceMalformedRequest) as e:
        sf.query("SELECT Foo FROM Contact")
    assert e.value.content[0]["errorCode"] == "INVALID_FIELD"
    assert "No such column 'Foo' on entity 'Contact'" in e.value.content[0]["message"]
    with pytest.raises(SalesforceMalformedRequest) as e:
        sf.query("SELECT Id FROM Contact USING SCOPE team")
    assert e.value.content[0]["errorCode"] == "UNSUPPORTED_BY_LOCAL_ORG"


def test_query_all_sees_deleted_records(sf, booked):
    sf.Contact.delete(booked["jane"])
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 0
    body = sf.query_all("SELECT Id, IsDeleted FROM Contact", include_deleted=True)
    assert body["records"][0]["IsDeleted"] is True


def test_uri_over_16k_is_414_with_a_json_body(sf, local_org):
    import requests
    soql = "SELECT Id FROM Contact WHERE " + " OR ".join(f"Name = 'n{i:05}'" for i in range(1200))
    url = f"{local_org.instance_url}/services/data/v62.0/query"
    headers = {"Authorization": f"Bearer {local_org.access_token}"}
    resp = requests.get(url, params={"q": soql}, headers=headers, verify=local_org.ca_bundle, timeout=30)
    assert resp.status_code == 414
    assert resp.json()[0]["errorCode"] == "URI_TOO_LONG"
    big = dict(headers, **{"X-Padding": "x" * 17_000})
    resp = requests.get(url, params={"q": "SELECT Id FROM Contact"}, headers=big, verify=local_org.ca_bundle,
                        timeout=30)
    assert resp.status_code == 431 and resp.json()[0]["errorCode"] == "REQUEST_HEADER_FIELDS_TOO_LARGE"
    # The long query itself runs in a Composite body, as Salesforce advises.
    body = sf.restful("composite", method="POST", json={"compositeRequest": [
        {"method": "GET", "url": "/services/data/v62.0/query?q=" + requests.utils.quote(soql),
         "referenceId": "q"}]})
    assert body["compositeResponse"][0]["httpStatusCode"] == 200
    assert body["compositeResponse"][0]["body"]["totalSize"] == 0
