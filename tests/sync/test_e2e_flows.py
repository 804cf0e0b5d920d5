"""The whole story with the package's Flows: a booking becomes an Event on the right people."""

from __future__ import annotations

from slotforce.sync.engine import SyncEngine
from slotforce.sync.settings import parse_settings

from .factories import booking

ADMIN = "admin@slotforce.example"


def test_booking_lifecycle_through_the_flows(flow_org):
    sf = flow_org.client()
    acme = sf.Account.create({"Name": "Acme", "Website": "acme.com"})["id"]
    settings = parse_settings({"event_types": {"default": {
        "create_event_on": "contact_under_account", "create_contact_under_account": True,
        "write_to_event": [{"field": "Meeting_Type__c", "type": "text", "value": "Discovery"}],
        "on_cancel": {"mode": "keep"}}}})
    eng = SyncEngine(settings, sf)
    [created] = eng.sync([booking(organizer={"email": ADMIN})])
    assert created.status == "processed", (created.error_code, created.error)
    [event] = sf.query("SELECT Id, WhoId, WhatId, OwnerId, Booking_Uid__c, Meeting_Type__c, Meeting_Status__c FROM Event")["records"]
    assert event["Id"] == created.event_id and event["WhatId"] == acme and event["OwnerId"] == flow_org.user_id
    assert event["WhoId"] == created.who_id and event["Meeting_Type__c"] == "Discovery"
    [canceled] = eng.sync([booking(action="Canceled", organizer={"email": ADMIN})])
    assert canceled.status == "processed", (canceled.error_code, canceled.error)
    [event] = sf.query("SELECT Canceled__c, Meeting_Status__c FROM Event")["records"]
    assert event["Canceled__c"] is True and event["Meeting_Status__c"] == "Canceled"
