"""One bad booking never takes its batch down: it fails alone, with its own reason (issue 14.1)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from slotforce.service.config import load_service_config
from slotforce.service.connect import connect
from slotforce.service.worker import Worker
from slotforce.sources import receive
from slotforce.store import open_store

BOOKING = json.loads((Path(__file__).parents[1] / "fixtures" / "webhooks" / "api" / "booking_created.json").read_text())


def booking(uid: str, **over) -> bytes:
    body = {**BOOKING, "booking_uid": uid, "guests": [], **over}
    body["attendee"] = {**BOOKING["attendee"], "email": f"{uid.replace(chr(39), '')}@tailspin-toys.com",
                        **over.get("attendee", {})}
    return json.dumps(body).encode()


@pytest.fixture
def config(config_file):
    return load_service_config(config_file)


@pytest.mark.timeout(120)
def test_an_oversized_attendee_email_fails_alone_and_the_rest_land(config, org):
    with open_store(config.settings.store, base_dir=config.base_dir) as outbox:
        for i in range(5):
            receive(outbox, "api", booking(f"ok-{i}"), {}, secrets=None, verify=False)
        huge = "x" * 300_000 + "@tailspin-toys.com"
        receive(outbox, "api", booking("huge", attendee={"email": huge}), {}, secrets=None, verify=False)
        worker = Worker(outbox, config.settings, lambda: connect(config.settings.salesforce, config.base_dir))
        report = worker.drain()
        assert (report.batches, report.processed) == (1, 5), report  # the same run, not after retries
        [bad] = [i for i in outbox.items() if i.booking_uid == "huge"]
        assert (bad.state.value, bad.last_error_code, bad.attempts) == ("failed", "INVALID_VALUE", 1)
        assert "300018 characters; Salesforce allows 4000" in bad.last_error
        done = {i.booking_uid for i in outbox.items(states=["done"])}
        assert done == {f"ok-{i}" for i in range(5)}


@pytest.mark.timeout(120)
def test_a_flow_failure_stays_with_its_booking_even_with_a_quote_in_another_uid(config, org):
    """The quote-in-uid case: a key that is not URL-safe sends the batch's actions in one save, so the
    Flows run as one bulk; one Event insert failing (here an owner deactivated between the engine's
    read and its write) failed every interview of the bulk with its error. Create Records saves
    partially, as in Salesforce: only that booking fails."""
    from slotforce.sync import BookingChange, SyncEngine

    sf = org.client()
    profile = sf.query("SELECT Id FROM Profile WHERE Name = 'Standard User'")["records"][0]["Id"]
    gone = sf.User.create({"LastName": "Gone", "Email": "gone@acme-demo.com", "Username": "gone@acme-demo.com.local",
                           "Alias": "gone", "TimeZoneSidKey": "America/Los_Angeles", "LocaleSidKey": "en_US",
                           "EmailEncodingKey": "UTF-8", "LanguageLocaleKey": "en_US", "ProfileId": profile})["id"]
    changes = [BookingChange.model_validate(json.loads(booking(uid))) for uid in ("o'brien-1", "deactivated", "plain-3")]
    engine = SyncEngine(config.settings, sf)
    fetched, snapshot = engine.fetch(changes)
    plans = engine.plan(changes, fetched, snapshot)
    plans[1].action_fields["Owner_Id__c"] = gone
    sf.User.update(gone, {"IsActive": False})
    outcomes = {o.change.booking_uid: o for o in engine._write(plans, snapshot)}
    assert outcomes["o'brien-1"].status == outcomes["plain-3"].status == "processed"
    assert outcomes["deactivated"].status == "failed" and "INACTIVE_OWNER_OR_USER" in outcomes["deactivated"].error
