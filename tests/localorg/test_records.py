"""Single-record REST calls and the save checks behind them (wire-formats §2.2, §2.4, §5)."""

import json

import pytest
from simple_salesforce.exceptions import (SalesforceMalformedRequest, SalesforceMoreThanOneRecord,
                                          SalesforceResourceNotFound)

from slotforce.localorg.schema import Field, PicklistValue, SObject


def _error(exc) -> dict:
    return exc.value.content[0]


@pytest.fixture
def booking_object(local_org):
    """A custom object with a unique external id, as the package deploys Booking_Action__c."""
    s = SObject("Booking_Action__c", "Booking Action", "Booking Actions", "")
    s.add_field(Field("Action_Key__c", "string", "Action Key", length=255, external_id=True, unique=True,
                      custom=True))
    s.add_field(Field("Action__c", "picklist", "Action", length=255, custom=True, restricted_picklist=True,
                      picklist_values=[PicklistValue("Created", "Created"), PicklistValue("Canceled", "Canceled")]))
    s.add_field(Field("Start__c", "datetime", "Start", custom=True))
    local_org.org.add_custom_object(s)
    return "Booking_Action__c"


def test_create_answers_201_with_lowercase_id(local_org):
    """wire-formats §2.4: POST /sobjects/<Type> -> 201 {"id", "success": true, "errors": []}."""
    r = local_org.session().post(f"{local_org.instance_url}/services/data/v62.0/sobjects/Contact",
                                 json={"LastName": "Ada"},
                                 headers={"Authorization": f"Bearer {local_org.access_token}"})
    assert r.status_code == 201 and r.json()["success"] is True and r.json()["errors"] == []
    assert r.headers["Sforce-Limit-Info"].startswith("api-usage=")


def test_get_accepts_15_and_18_char_ids_and_fills_system_fields(sf, local_org):
    """wire-formats §2.4: retrieve with 15- and 18-char ids; system fields set by the server."""
    new_id = sf.Contact.create({"FirstName": "Ada", "LastName": "Lovelace"})["id"]
    rec = sf.Contact.get(new_id[:15])
    assert rec["Id"] == new_id and rec["Name"] == "Ada Lovelace"
    assert rec["attributes"] == {"type": "Contact", "url": f"/services/data/v62.0/sobjects/Contact/{new_id}"}
    assert rec["OwnerId"] == rec["CreatedById"] == local_org.user_id and rec["IsDeleted"] is False
    assert rec["CreatedDate"].endswith("+0000") and rec["SystemModstamp"] == rec["CreatedDate"]


def test_update_is_204_and_delete_is_204_then_gone(sf):
    """wire-formats §2.4: PATCH -> 204, DELETE -> 204; a deleted record is not found any more."""
    new_id = sf.Account.create({"Name": "Acme"})["id"]
    assert sf.Account.update(new_id, {"Website": "https://acme.example"}) == 204
    assert sf.Account.get(new_id)["Website"] == "https://acme.example"
    assert sf.Account.delete(new_id) == 204
    with pytest.raises(SalesforceResourceNotFound) as exc:
        sf.Account.get(new_id)
    assert _error(exc)["errorCode"] == "ENTITY_IS_DELETED"
    assert sf.query_all(f"SELECT Id, IsDeleted FROM Account WHERE Id = '{new_id}'",
                        include_deleted=True)["records"][0]["IsDeleted"] is True


def test_patch_and_delete_of_missing_id_are_404_invalid_cross_reference_key(sf):
    """wire-formats §2.2 (real-org, Fidelic errors-004/005): PATCH/DELETE missing id -> 404."""
    with pytest.raises(SalesforceResourceNotFound) as exc:
        sf.Account.update("001000000009999AAA", {"Name": "x"})
    assert _error(exc)["errorCode"] == "INVALID_CROSS_REFERENCE_KEY"
    with pytest.raises(SalesforceResourceNotFound) as exc:
        sf.Account.get("123")
    assert _error(exc)["message"] == "Provided external ID field does not exist or is not accessible: 123"


def test_required_field_missing(sf):
    """wire-formats §2.2: 'Required fields are missing: [LastName]', fields [LastName]."""
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Lead.create({"LastName": "x"})
    assert _error(exc) == {"message": "Required fields are missing: [Company]", "errorCode": "REQUIRED_FIELD_MISSING",
                           "fields": ["Company"]}


def test_string_too_long(sf):
    """wire-formats §2.2 (real-org, Fidelic errors-010): Name > 255 -> STRING_TOO_LONG."""
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Account.create({"Name": "x" * 256})
    assert _error(exc)["errorCode"] == "STRING_TOO_LONG" and "(max length=255)" in _error(exc)["message"]


def test_unknown_and_read_only_fields(sf):
    """wire-formats §2.2: unknown field -> INVALID_FIELD; read-only -> INVALID_FIELD_FOR_INSERT_UPDATE."""
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Account.create({"Name": "x", "Nope__c": 1})
    assert _error(exc)["errorCode"] == "INVALID_FIELD"
    assert "No such column 'Nope__c' on sobject of type Account" in _error(exc)["message"]
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Account.create({"Name": "x", "CreatedDate": "2020-01-01T00:00:00Z"})
    assert _error(exc)["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE" and _error(exc)["fields"] == ["CreatedDate"]


def test_malformed_json_and_wrong_types_leave_data_unchanged(sf, local_org):
    """wire-formats §2.2 (real-org, Fidelic errors-014): JSON_PARSER_ERROR; nothing saved."""
    url = f"{local_org.instance_url}/services/data/v62.0/sobjects/Account"
    auth = {"Authorization": f"Bearer {local_org.access_token}", "Content-Type": "application/json"}
    r = local_org.session().post(url, data=b'{"Name": "x",', headers=auth)
    assert r.status_code == 400 and r.json()[0]["errorCode"] == "JSON_PARSER_ERROR"
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Account.create({"Name": "x", "NumberOfEmployees": "many"})
    assert _error(exc)["errorCode"] == "JSON_PARSER_ERROR"
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Account.create({"Name": "x", "NumberOfEmployees": 1.5})
    assert _error(exc)["errorCode"] == "INVALID_TYPE_ON_FIELD_IN_RECORD"
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Account.create({"Name": {"nested": 1}})
    assert _error(exc)["errorCode"] == "JSON_PARSER_ERROR"
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == 0


def test_quotes_and_unicode_in_values_round_trip(sf):
    """Bad input rule: quotes in values are data, never syntax (no SQL injection through values)."""
    name = "O'Brien \"Bob\"; DROP TABLE Account; -- ü"
    new_id = sf.Account.create({"Name": name})["id"]
    assert sf.Account.get(new_id)["Name"] == name


def test_restricted_picklist(sf, booking_object):
    """wire-formats §2.2 list: a value outside a restricted picklist -> INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST."""
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Booking_Action__c.create({"Action_Key__c": "k", "Action__c": "Exploded"})
    assert _error(exc)["errorCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"


def test_duplicate_external_id(sf, booking_object):
    """wire-formats §2.2: 'duplicate value found: <f> duplicates value on record with id: <id>'."""
    first = sf.Booking_Action__c.create({"Action_Key__c": "calcom:1:created:0"})["id"]
    assert first.startswith("a0")
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Booking_Action__c.create({"Action_Key__c": "CALCOM:1:created:0"})  # unique is case-insensitive
    assert _error(exc)["errorCode"] == "DUPLICATE_VALUE" and first in _error(exc)["message"]


def test_upsert_created_then_updated_by_version(sf, local_org, booking_object):
    """wire-formats §2.4 (doc + real-org Fidelic crud-017): 201 created; 200 + created:false from v46, 204 before."""
    assert sf.Booking_Action__c.upsert("Action_Key__c/k 1", {"Action__c": "Created"}) == 201
    assert sf.Booking_Action__c.upsert("Action_Key__c/k 1", {"Action__c": "Canceled"}) == 200
    old = local_org.client(version="45.0")
    assert old.Booking_Action__c.upsert("Action_Key__c/k 1", {"Action__c": "Created"}) == 204
    rec = sf.Booking_Action__c.get_by_custom_id("Action_Key__c", "k 1")
    assert rec["Action__c"] == "Created" and rec["Action_Key__c"] == "k 1"
    r = local_org.session().patch(
        f"{local_org.instance_url}/services/data/v62.0/sobjects/Booking_Action__c/Action_Key__c/k2",
        json={"Action__c": "Created"}, headers={"Authorization": f"Bearer {local_org.access_token}"})
    assert r.status_code == 201 and r.json()["created"] is True


def test_upsert_matching_several_records_is_300(sf, local_org):
    """wire-formats §2.4: several matches -> 300 with the matching records' URLs."""
    f = Field("Legacy_Id__c", "string", "Legacy Id", length=50, external_id=True, custom=True)
    local_org.org.add_field("Contact", f)
    sf.Contact.create({"LastName": "a", "Legacy_Id__c": "L1"})
    sf.Contact.create({"LastName": "b", "Legacy_Id__c": "L1"})
    with pytest.raises(SalesforceMoreThanOneRecord):
        sf.Contact.upsert("Legacy_Id__c/L1", {"LastName": "c"})


def test_bad_references(sf):
    """wire-formats §2.2: wrong target type -> FIELD_INTEGRITY_EXCEPTION; missing -> INVALID_CROSS_REFERENCE_KEY."""
    contact = sf.Contact.create({"LastName": "c"})["id"]
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Contact.create({"LastName": "d", "AccountId": contact})
    assert _error(exc)["errorCode"] == "FIELD_INTEGRITY_EXCEPTION" and _error(exc)["fields"] == ["AccountId"]
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Contact.create({"LastName": "d", "AccountId": "001000000009999AAA"})
    assert _error(exc)["errorCode"] == "INVALID_CROSS_REFERENCE_KEY"
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Contact.create({"LastName": "d", "AccountId": "banana"})
    assert _error(exc)["errorCode"] == "MALFORMED_ID"


def test_event_with_lead_who_and_a_what_is_refused(sf):
    """wire-formats §5 Event: if WhoId is a Lead, WhatId must be empty (FIELD_INTEGRITY_EXCEPTION)."""
    lead = sf.Lead.create({"LastName": "L", "Company": "C"})["id"]
    account = sf.Account.create({"Name": "A"})["id"]
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Event.create({"Subject": "Meet", "StartDateTime": "2026-01-05T10:00:00Z", "DurationInMinutes": 30,
                         "WhoId": lead, "WhatId": account})
    assert _error(exc)["errorCode"] == "FIELD_INTEGRITY_EXCEPTION"


def test_event_times_are_kept_consistent(sf):
    """wire-formats §5 Event: DurationInMinutes or EndDateTime required; ActivityDateTime mirrors StartDateTime."""
    contact = sf.Contact.create({"LastName": "c", "AccountId": sf.Account.create({"Name": "A"})["id"]})["id"]
    ev = sf.Event.create({"Subject": "Meet", "StartDateTime": "2026-01-05T10:00:00+01:00",
                          "EndDateTime": "2026-01-05T10:45:00+01:00", "WhoId": contact})["id"]
    rec = sf.Event.get(ev)
    assert rec["StartDateTime"] == "2026-01-05T09:00:00.000+0000" == rec["ActivityDateTime"]
    assert rec["DurationInMinutes"] == 45 and rec["ShowAs"] == "Busy" and rec["AccountId"]
    sf.Event.update(ev, {"StartDateTime": "2026-01-06T09:00:00Z"})
    assert sf.Event.get(ev)["EndDateTime"] == "2026-01-06T09:45:00.000+0000"
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Event.create({"Subject": "x", "StartDateTime": "2026-01-05T10:00:00Z"})
    assert _error(exc)["fields"] == ["DurationInMinutes"]


def test_lead_conversion_is_set_through_the_control_api_only(sf, local_org):
    """wire-formats §5 Lead: IsConverted is not updateable; conversion is convertLead (here: control API)."""
    lead = sf.Lead.create({"FirstName": "Grace", "LastName": "Hopper", "Company": "Navy", "Email": "g@navy.mil"})["id"]
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Lead.update(lead, {"IsConverted": True})
    assert _error(exc)["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"
    r = local_org.session().post(f"{local_org.instance_url}/__localorg__/leads/{lead}/convert", json={},
                                 headers={"Authorization": f"Bearer {local_org.access_token}"})
    assert r.status_code == 200
    rec = sf.Lead.get(lead)
    assert rec["IsConverted"] is True and rec["ConvertedContactId"].startswith("003")
    assert sf.Contact.get(rec["ConvertedContactId"])["Email"] == "g@navy.mil"
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Lead.update(lead, {"Company": "x"})
    assert _error(exc)["errorCode"] == "CANNOT_UPDATE_CONVERTED_LEAD"


def test_inactive_owner_is_refused(sf):
    """Salesforce refuses an inactive user as record owner (INACTIVE_OWNER_OR_USER)."""
    inactive = sf.query("SELECT Id FROM User WHERE IsActive = false")["records"][0]["Id"]
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Lead.create({"LastName": "x", "Company": "y", "OwnerId": inactive})
    assert _error(exc)["errorCode"] == "INACTIVE_OWNER_OR_USER"


def test_users_cannot_be_deleted(sf, local_org):
    """wire-formats §5 User: global describe says deletable false."""
    with pytest.raises(SalesforceMalformedRequest):
        sf.User.delete(local_org.user_id)


def test_method_not_allowed(local_org):
    """wire-formats §2.2 (real-org, Fidelic): PUT on an sObject resource -> 405."""
    r = local_org.session().put(f"{local_org.instance_url}/services/data/v62.0/sobjects/Account/001000000000001AAA",
                                data=json.dumps({}), headers={"Authorization": f"Bearer {local_org.access_token}"})
    assert r.status_code == 405


def test_id_in_an_insert_is_refused(sf):
    """An insert cannot choose its Id."""
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Account.create({"Name": "x", "Id": "001000000000001AAA"})
    assert _error(exc)["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"


def test_delete_by_external_id_and_get_by_external_id(sf, booking_object):
    """wire-formats §2.4: GET/DELETE /sobjects/<Type>/<ExtField>/<value> (value unquoted like quote_plus)."""
    new_id = sf.Booking_Action__c.create({"Action_Key__c": "a b+c/d"})["id"]
    assert sf.Booking_Action__c.get_by_custom_id("Action_Key__c", "a b+c/d")["Id"] == new_id
    sf.Booking_Action__c.create({"Action_Key__c": "plain-key"})
    assert sf.Booking_Action__c.delete("Action_Key__c/plain-key") == 204  # delete() does not quote the value
    assert sf.query("SELECT COUNT() FROM Booking_Action__c")["totalSize"] == 1


def test_event_relations_make_a_group_event_and_go_with_their_event(sf):
    """wire-formats §5 EventRelation: invitees (IsInvitee true by default); deleting the event deletes them."""
    ev = sf.Event.create({"Subject": "Meet", "StartDateTime": "2026-01-05T10:00:00Z", "DurationInMinutes": 30})["id"]
    guest = sf.Contact.create({"LastName": "Guest"})["id"]
    rel = sf.EventRelation.create({"EventId": ev, "RelationId": guest})["id"]
    assert rel.startswith("0RE") and sf.EventRelation.get(rel)["IsInvitee"] is True
    assert sf.Event.get(ev)["IsGroupEvent"] is True
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.EventRelation.create({"EventId": ev, "RelationId": guest})
    assert _error(exc)["errorCode"] == "DUPLICATE_VALUE"
    sf.Event.delete(ev)
    assert sf.query(f"SELECT COUNT() FROM EventRelation WHERE EventId = '{ev}'")["totalSize"] == 0
