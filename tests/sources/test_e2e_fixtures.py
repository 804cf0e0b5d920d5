"""The sample webhooks, told as one story against the local org with the package deployed.

Every fixture in tests/fixtures/webhooks is ingested (out of order where it matters), the worker
drains the outbox through the sync engine, and the Events end up the way a person would expect:
reschedules moved in place, cancels kept and marked, no-shows set and cleared, meetings completed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from slotforce.sources.intake import receive
from slotforce.store import open_store

from slotforce.service import worker as worker_module
from slotforce.sync.settings import parse_settings
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "webhooks"

STORY = [
    # Cal.com: the cancel arrives before the reschedule it belongs to, and both before the create.
    ("calcom", "booking_cancelled.json"),
    ("calcom", "booking_rescheduled.json"),
    ("calcom", "booking_created_new_lead.json"),
    ("calcom", "booking_created_contact_guests_cohost.json"),
    ("calcom", "booking_no_show_set.json"),
    ("calcom", "booking_no_show_cleared.json"),
    ("calcom", "meeting_ended.json"),
    ("calcom", "booking_requested.json"),
    # Calendly: the reschedule pair, then a cancel of the new invitee; a group event; no-shows.
    ("calendly", "invitee_created_new_lead.json"),
    ("calendly", "reschedule_1_invitee_canceled.json"),
    ("calendly", "reschedule_2_invitee_created.json"),
    ("calendly", "invitee_canceled.json"),
    ("calendly", "invitee_created_contact_guests_cohost.json"),
    ("calendly", "invitee_no_show_created.json"),
    ("calendly", "invitee_no_show_deleted.json"),
    ("calendly", "group_invitee_1_created.json"),
    ("calendly", "group_invitee_2_created.json"),
    ("api", "booking_created.json"),
    ("api", "batch_reschedule_and_no_show.json"),
]


@pytest.mark.timeout(120)
def test_sample_webhooks_end_to_end(org, tmp_path):
    packaged = org  # reset to seed data, package deployed (slotforce.testing)
    outbox = open_store(f"sqlite:///{tmp_path}/outbox.db")
    for source, name in STORY:
        receive(outbox, source, (FIXTURES / source / name).read_bytes(), {}, secrets=None, verify=False)
    settings = parse_settings(
        {"salesforce": {"local": str(packaged.state_dir)}, "event_types": {"default": {"on_cancel": {"mode": "keep"}}}}
    )
    worker = worker_module.Worker(outbox, settings, packaged.client, name="e2e")
    for _ in range(20):
        if not worker.run_once().leased:
            break

    counts = outbox.counts()
    unfinished = outbox.items(states=["failed", "parked", "pending", "leased"])
    assert counts["done"] == 18, [(i.id, i.action, i.booking_uid, i.last_error) for i in unfinished]
    assert counts["failed"] == counts["parked"] == counts["pending"] == 0
    sf = packaged.client()
    events = {
        r["Booking_Uid__c"]: r
        for r in sf.query(
            "SELECT Booking_Uid__c, Meeting_Status__c, No_Show__c, Canceled__c, StartDateTime FROM Event"
        )["records"]
    }
    # Cal.com: created, moved to the new uid in place, then canceled (kept, marked).
    assert "8Hk2pQ9xLmRt3Vb6" not in events
    assert events["Tr9Qw3rT5yUi2Lp8"]["Canceled__c"] is True
    assert events["Tr9Qw3rT5yUi2Lp8"]["StartDateTime"].startswith("2026-12-03T15:00")
    # Marked no-show, cleared, then the meeting ended.
    assert (events["Qm4Zx8cV1bNp7Kw2"]["Meeting_Status__c"], events["Qm4Zx8cV1bNp7Kw2"]["No_Show__c"]) == ("Completed", False)
    # Calendly: the reschedule pair moved one Event to the new invitee, which was then canceled.
    assert "INVLEAD000000001" not in events and events["INVLEAD000000003"]["Meeting_Status__c"] == "Canceled"
    assert events["INVLEAD000000003"]["StartDateTime"].startswith("2026-12-04T17:00")
    assert events["INVCONT000000002"]["No_Show__c"] is False  # marked, then unmarked
    # A group event is one Event with both invitees on it.
    assert "EVWORK0000000004" in events and not {"INVGRP0000000001", "INVGRP0000000002"} & set(events)
    # Our own JSON: created, rescheduled to a new uid, marked no-show.
    assert events["acme-bk-20261205-0002"]["No_Show__c"] is True
    assert len(events) == 6
    sf.session.close()
    outbox.close()
