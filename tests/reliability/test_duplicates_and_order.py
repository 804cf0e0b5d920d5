"""Duplicate and out-of-order deliveries end as if each webhook had arrived once, in order.

The story below is first delivered once, in order, and synced: that is the expected Salesforce
state. The org is then reset and the same webhooks arrive backwards (cancels and reschedules before
their creates), each three times (byte-identical, and re-serialized so only the action key can
tell them apart), some after the worker already sent the first copy. The Events, Booking Actions
and Contacts must come out the same.
"""

from __future__ import annotations

import json
from pathlib import Path
from datetime import datetime, timedelta

import pytest

from reliability_kit import COMPRESSED_OUTBOX, WorkerProcesses, body, canceled, count, created, doubles, \
    drain_until_settled, events_by_uid, no_show, open_outbox, query_all, rescheduled, settings_for
from slotforce.testing import write_config
from slotforce.service.worker import Worker
from slotforce.sources import receive

STORY = [
    created(1, uid="ord-1"),
    created(2, uid="ord-2"), canceled(2, "ord-2"),
    created(3, uid="ord-3"), rescheduled(3, "ord-3b", "ord-3"),
    created(4, uid="ord-4"), rescheduled(4, "ord-4b", "ord-4"), no_show(4, "ord-4b"),
    created(5, uid="ord-5"), rescheduled(5, "ord-5b", "ord-5"), canceled(5, "ord-5b"),
    created(6, uid="ord-6"), rescheduled(6, "ord-6b", "ord-6"), rescheduled(6, "ord-6c", "ord-6b", days_later=2),
    no_show(6, "ord-6c"),
]


def deliver(outbox, change: dict, *, respelled: bool = False):
    raw = json.dumps(change, indent=2).encode() if respelled else body(change)
    return receive(outbox, "api", raw, {}, secrets=None, verify=False)


def salesforce_state(sf) -> dict:
    actions = sorted((r["Action_Key__c"], r["Status__c"], r["Error__c"]) for r in query_all(
        sf, "SELECT Action_Key__c, Status__c, Error__c FROM Booking_Action__c"))
    contacts = sorted(r["Email"] for r in query_all(sf, "SELECT Email FROM Contact"))
    return {"events": events_by_uid(sf), "actions": actions, "contacts": contacts}


def run(org, tmp_path, name: str, deliveries, settings, *, drain_after: set[int] = frozenset(),
        postgres_url: str | None = None, cancel_mode: str = "delete") -> dict:
    """Deliver and sync: one in-process worker on SQLite, or (with `postgres_url`) two `slotforce worker`
    processes that run all along, so deliveries arrive while batches are in flight on either."""
    if postgres_url is None:
        outbox = open_outbox(tmp_path / f"{name}.db")
        worker = Worker(outbox, settings, org.client, name=name)
        settle = lambda: drain_until_settled(worker, outbox, deadline_s=30)  # noqa: E731
        workers = None
    else:
        outbox = open_outbox(postgres_url)
        folder = tmp_path / name
        folder.mkdir()
        config = write_config(folder, org, outbox=COMPRESSED_OUTBOX, store=postgres_url,
                              event_types={"default": {"on_cancel": {"mode": cancel_mode}}})
        workers = WorkerProcesses(config, 2).start()
        settle = lambda: workers.settle(outbox, deadline_s=30)  # noqa: E731
    try:
        for i, (change, respelled) in enumerate(deliveries):
            deliver(outbox, change, respelled=respelled)
            if i in drain_after:
                settle()
        settle()
    finally:
        if workers is not None:
            workers.stop()
    counts = outbox.counts()
    assert counts["failed"] == counts["parked"] == 0, outbox.items(states=["failed", "parked"])
    assert counts["done"] == len(STORY), counts
    outbox.close()
    return salesforce_state(org.client())


@pytest.mark.timeout(90)
@pytest.mark.parametrize("backend,cancel_mode", [("sqlite", "delete"), ("sqlite", "keep"), ("postgresql", "delete")])
def test_backwards_and_triple_deliveries_end_as_one_in_order_delivery(org, tmp_path, request, backend, cancel_mode):
    settings = settings_for(org, event_types={"default": {"on_cancel": {"mode": cancel_mode}}})
    expected = run(org, tmp_path, "in-order", [(c, False) for c in STORY], settings)
    # the expected state is itself what a person would expect
    assert set(expected["events"]) == ({"ord-1", "ord-3b", "ord-4b", "ord-6c"} if cancel_mode == "delete"
                                       else {"ord-1", "ord-2", "ord-3b", "ord-4b", "ord-5b", "ord-6c"})
    assert expected["events"]["ord-6c"]["StartDateTime"][:10] == rescheduled(6, "c", "b", days_later=2)["start"][:10]
    assert expected["events"]["ord-4b"]["No_Show__c"] is True
    assert all(status == "Processed" for _, status, _ in expected["actions"]), expected["actions"]

    org.reset()
    backwards = list(reversed(STORY))
    deliveries = [(c, False) for c in backwards]  # first copies, all out of order
    deliveries += [(c, True) for c in backwards]  # re-serialized copies: same changes, other bytes
    deliveries += [(c, False) for c in STORY]  # byte-identical third copies, now in order
    # the worker runs after the first copies (most wait for their creates) and again mid-way
    # (PostgreSQL: the scrambled copies go to two worker processes leasing side by side)
    postgres_url = request.getfixturevalue("postgres_url") if backend == "postgresql" else None
    got = run(org, tmp_path, "scrambled", deliveries, settings, drain_after={len(STORY) - 1, len(STORY) + 3},
              postgres_url=postgres_url, cancel_mode=cancel_mode)
    assert got == expected


@pytest.mark.timeout(60)
def test_a_cancel_or_reschedule_before_its_create_waits_and_sends_nothing(org, store_url):
    outbox = open_outbox(store_url)
    worker = Worker(outbox, settings_for(org), org.client, name="early")
    deliver(outbox, canceled(7, "early-7"))
    deliver(outbox, rescheduled(8, "early-8b", "early-8"))
    assert worker.drain().leased == 0  # nothing is handed out: both wait for their creates
    sf = org.client()
    assert count(sf, "Booking_Action__c") == 0
    assert outbox.counts()["pending"] == 2 and outbox.counts()["failed"] == 0

    deliver(outbox, created(8, uid="early-8"))
    deliver(outbox, created(7, uid="early-7"))
    drain_until_settled(worker, outbox, deadline_s=30)
    events = events_by_uid(sf)
    assert set(events) == {"early-8b"}  # 7 was canceled (deleted), 8 moved to its new uid
    assert events["early-8b"]["Meeting_Status__c"] == "Rescheduled"
    assert events["early-8b"]["StartDateTime"].startswith(rescheduled(8, "x", "y")["start"][:16])
    actions = query_all(sf, "SELECT Booking_Uid__c, Action__c, Status__c FROM Booking_Action__c ORDER BY Name")
    rows = [(a["Booking_Uid__c"], a["Action__c"], a["Status__c"]) for a in actions]
    assert sorted(rows) == [("early-7", "Canceled", "Processed"), ("early-7", "Created", "Processed"),
                            ("early-8", "Created", "Processed"), ("early-8b", "Rescheduled", "Processed")]
    # per booking, Salesforce saw the create first (Name is an auto number: insertion order)
    assert rows.index(("early-7", "Created", "Processed")) < rows.index(("early-7", "Canceled", "Processed"))
    assert rows.index(("early-8", "Created", "Processed")) < rows.index(("early-8b", "Rescheduled", "Processed"))
    outbox.close()


@pytest.mark.timeout(60)
def test_a_redelivery_after_the_outbox_forgot_the_booking_changes_nothing_in_salesforce(org, store_url):
    """Done changes are pruned after a while; a late duplicate is then queued and sent again, and
    Salesforce's upsert by Action_Key__c must absorb it (the Created Flow must not run again)."""
    settings = settings_for(org, event_types={"default": {"on_cancel": {"mode": "keep"}}})
    outbox = open_outbox(store_url)
    worker = Worker(outbox, settings, org.client, name="late")
    for change in (created(9, uid="late-9"), canceled(9, "late-9")):
        deliver(outbox, change)
    drain_until_settled(worker, outbox, deadline_s=30)
    sf = org.client()
    before = salesforce_state(sf)
    assert before["events"]["late-9"]["Canceled__c"] is True

    assert outbox.prune(timedelta(0)) == 2
    receipt = deliver(outbox, created(9, uid="late-9"))
    assert not receipt.duplicate_item_ids  # forgotten: queued as new
    report = drain_until_settled(worker, outbox, deadline_s=30)
    assert report.processed == 1
    assert salesforce_state(sf) == before  # still one Booking Action per key, the Event still canceled
    assert doubles(sf, "Booking_Action__c", "Action_Key__c") == {}
    outbox.close()


def no_show_cleared(n: int, uid: str, *, minutes_after_no_show: int) -> dict:
    marked = no_show(n, uid)
    at = datetime.fromisoformat(marked["occurred_at"].replace("Z", "+00:00")) + timedelta(minutes=minutes_after_no_show)
    return {**marked, "action": "No_Show_Cleared", "attendee": {**marked["attendee"], "no_show": False},
            "occurred_at": at.strftime("%Y-%m-%dT%H:%M:%SZ")}


@pytest.mark.timeout(60)
def test_a_no_show_cleared_that_overtakes_its_no_show_leaves_the_attendee_cleared(org, store_url):
    """The host marks a no-show, then clears it 5 minutes later; the two webhooks arrive the other way
    round (retries reorder deliveries). In order, the Event ends No_Show__c false."""
    outbox = open_outbox(store_url)
    worker = Worker(outbox, settings_for(org), org.client, name="no-show")
    deliver(outbox, created(10, uid="ns-10"))
    drain_until_settled(worker, outbox, deadline_s=30)
    deliver(outbox, no_show_cleared(10, "ns-10", minutes_after_no_show=5))  # happened last, arrives first
    deliver(outbox, no_show(10, "ns-10"))
    drain_until_settled(worker, outbox, deadline_s=30)
    event = events_by_uid(org.client())["ns-10"]
    assert (event["No_Show__c"], event["Meeting_Status__c"]) == (False, "Completed"), event
    outbox.close()


@pytest.mark.timeout(60)
def test_a_no_show_that_arrives_after_its_clearing_was_sent_is_skipped_as_superseded(org, store_url):
    """The same two webhooks, but the late no-show arrives after the clearing was already in
    Salesforce: sending it would mark the attendee again, so it is finished as skipped, with why."""
    outbox = open_outbox(store_url)
    worker = Worker(outbox, settings_for(org), org.client, name="no-show")
    deliver(outbox, created(11, uid="ns-11"))
    deliver(outbox, no_show_cleared(11, "ns-11", minutes_after_no_show=5))
    drain_until_settled(worker, outbox, deadline_s=30)
    late = deliver(outbox, no_show(11, "ns-11"))
    report = drain_until_settled(worker, outbox, deadline_s=30)
    assert report.leased == 0  # decided in the outbox: nothing went to Salesforce
    item = outbox.get(late.item_ids[0])
    assert item.state.value == "done" and item.outcome["status"] == "skipped", item
    assert item.outcome["reason"].startswith("superseded: No_Show_Cleared")
    assert [t.steps[0]["step"] for t in outbox.traces("ns-11") if t.item_id == item.id] == ["superseded"]
    sf = org.client()
    event = events_by_uid(sf)["ns-11"]
    assert (event["No_Show__c"], event["Meeting_Status__c"]) == (False, "Completed"), event
    assert count(sf, "Booking_Action__c", "Booking_Uid__c = 'ns-11'") == 2  # the create and the clearing
    outbox.close()


FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "webhooks"
# The sample webhooks of both scheduling tools, in the order they happened. (No-show set/cleared
# are left out: the test above covers their order.)
SAMPLE_STORY = [
    ("calcom", "booking_created_new_lead.json"), ("calcom", "booking_rescheduled.json"),
    ("calcom", "booking_cancelled.json"), ("calcom", "booking_created_contact_guests_cohost.json"),
    ("calcom", "meeting_ended.json"),
    ("calendly", "invitee_created_new_lead.json"), ("calendly", "reschedule_1_invitee_canceled.json"),
    ("calendly", "reschedule_2_invitee_created.json"), ("calendly", "invitee_canceled.json"),
    ("calendly", "invitee_created_contact_guests_cohost.json"),
]


def sync_samples(org, tmp_path, name: str, order: list[tuple[str, str]], settings) -> dict:
    outbox = open_outbox(tmp_path / f"{name}.db")
    for source, file in order:
        receive(outbox, source, (FIXTURES / source / file).read_bytes(), {}, secrets=None, verify=False)
    drain_until_settled(Worker(outbox, settings, org.client, name=name), outbox, deadline_s=30)
    counts = outbox.counts()
    assert counts["failed"] == counts["parked"] == 0, outbox.items(states=["failed", "parked"])
    outbox.close()
    sf = org.client()
    # who exists, once each (not their names: a guest of one booking who books another later is
    # named by whichever booking Salesforce saw first, and these are different bookings)
    people = sorted(("Contact", r["Email"]) for r in query_all(sf, "SELECT Email FROM Contact")) + \
        sorted(("Lead", r["Email"]) for r in query_all(sf, "SELECT Email FROM Lead"))
    relations = count(sf, "EventRelation")
    return {**salesforce_state(sf), "people": people, "event_relations": relations}


@pytest.mark.timeout(90)
def test_the_sample_webhooks_backwards_and_twice_end_as_in_order(org, tmp_path):
    settings = settings_for(org, event_types={"default": {"on_cancel": {"mode": "keep"}}})
    expected = sync_samples(org, tmp_path, "in-order", SAMPLE_STORY, settings)
    assert len(expected["events"]) >= 4 and expected["event_relations"] > 0
    org.reset()
    scrambled = list(reversed(SAMPLE_STORY)) * 2
    got = sync_samples(org, tmp_path, "scrambled", scrambled, settings)
    for key in expected:
        assert got[key] == expected[key], (key, sorted(set(map(str, got[key])) ^ set(map(str, expected[key]))))
