"""Status over HTTP: `GET /bookings/{uid}` (a booking's changes and their Salesforce ids) and `/status.json`."""

from __future__ import annotations

from pathlib import Path

from starlette.testclient import TestClient

from slotforce.service.app import Service, build_app
from slotforce.service.config import load_service_config
from slotforce.sources import sign_api
from slotforce.testing import API_SECRET, wait_for

BOOKING = (Path(__file__).parents[1] / "fixtures" / "webhooks" / "api" / "booking_created.json").read_bytes()
UID = "acme-bk-20261205-0001"


def test_a_booking_shows_each_change_with_its_state_and_salesforce_ids(config_file, org):
    with TestClient(build_app(Service(load_service_config(config_file), flush_interval=0.05))) as client:
        client.post("/webhooks/api", content=BOOKING,
                    headers={"Content-Type": "application/json", **sign_api(API_SECRET, BOOKING)})
        done = wait_for(lambda: (b := client.get(f"/bookings/{UID}").json())["changes"][0]["state"] == "done" and b)
        unknown = client.get("/bookings/no-such-booking")
        status = client.get("/status.json").json()
    assert done["booking_uid"] == UID and len(done["changes"]) == 1
    change = done["changes"][0]
    row = org.client().query(f"SELECT Id, Event_Id__c FROM Booking_Action__c WHERE Booking_Uid__c = '{UID}'")["records"][0]
    assert change["action"] == "Created" and change["attempts"] == 1 and change["error"] is None
    assert change["booking_action_id"] == row["Id"] and change["event_id"] == row["Event_Id__c"]
    assert change["action_key"] == f"api:{UID}:Created:0" and change["outcome"] == "processed"
    assert unknown.status_code == 404 and "no-such-booking" in unknown.json()["error"]

    assert status["counts"]["done"] == 1 and status["depth"] == 0 and status["worker"]["alive"] is True
    assert status["recent"][0]["booking_uid"] == UID and status["recent"][0]["booking_action_id"] == row["Id"]
    assert status["traces"][0]["booking_uid"] == UID and status["traces"][0]["entries"]
