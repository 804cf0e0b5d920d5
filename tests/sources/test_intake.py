"""intake.receive(): a delivery is parsed and stored with its raw body; the outbox orders the changes."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from slotforce.sources import WebhookRejected
from slotforce.sources.intake import outbox_entry, receive
from slotforce.sources.signatures import sign_calcom, sign_calendly
from slotforce.store import ItemResult, open_store
from slotforce.sync.booking import BookingChange

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "webhooks"
SECRETS = {"calcom": "cal-secret", "calendly": "cal-key", "api": "api-secret"}


@pytest.fixture
def outbox(tmp_path):
    store = open_store(f"sqlite:///{tmp_path}/outbox.db")
    yield store
    store.close()


def deliver(outbox, source: str, name: str, now: datetime | None = None):
    raw = (FIXTURES / source / name).read_bytes()
    now = now or datetime.now(timezone.utc)
    headers = sign_calcom(SECRETS["calcom"], raw) if source == "calcom" else sign_calendly(SECRETS["calendly"], raw, timestamp=int(now.timestamp()))
    return receive(outbox, source, raw, {**headers, "Content-Type": "application/json"}, secrets=SECRETS, now=now)


def test_receive_stores_raw_body_and_the_change_that_round_trips(outbox):
    receipt = deliver(outbox, "calcom", "booking_created_new_lead.json")
    [item_id] = receipt.item_ids
    item = outbox.get(item_id)
    raw = (FIXTURES / "calcom/booking_created_new_lead.json").read_bytes()
    assert outbox.delivery_body(receipt.delivery_id) == raw
    change = BookingChange.model_validate(item.change)
    assert item.dedupe_key == change.action_key == "calcom:8Hk2pQ9xLmRt3Vb6:Created:0"
    assert item.event_type == "discovery-call"
    assert change.attendee.email == "jane.doe@northwind-traders.com"


def test_rejected_delivery_stores_nothing(outbox):
    raw = (FIXTURES / "calcom/booking_created_new_lead.json").read_bytes()
    with pytest.raises(WebhookRejected):
        receive(outbox, "calcom", raw, {"X-Cal-Signature-256": "0" * 64}, secrets=SECRETS)
    assert outbox.counts()["deliveries"] == 0


def test_repeated_delivery_is_acknowledged_but_not_queued_twice(outbox):
    first = deliver(outbox, "calcom", "booking_no_show_set.json")
    again = deliver(outbox, "calcom", "booking_no_show_set.json")
    assert again.repeated_delivery and again.item_ids == first.item_ids
    assert outbox.counts()["pending"] == 1


def test_delivery_without_a_change_is_kept_with_its_note(outbox):
    receipt = deliver(outbox, "calendly", "reschedule_1_invitee_canceled.json")
    assert receipt.item_ids == ()
    row = outbox._db.execute("SELECT note FROM deliveries WHERE id = ?", (receipt.delivery_id,)).fetchone()
    assert "rescheduled" in row[0]


def test_entries_declare_what_they_wait_for():
    def entry(action, uid="NEW", prev=None):
        return outbox_entry(BookingChange(source="api", action=action, booking_uid=uid, previous_booking_uid=prev,
                                          occurred_at=datetime(2026, 1, 1, tzinfo=timezone.utc)))
    assert (entry("Created").requires_uid, entry("Created").establishes) == (None, True)
    assert (entry("Rescheduled", prev="OLD").requires_uid, entry("Rescheduled", prev="OLD").establishes) == ("OLD", True)
    assert (entry("Canceled").requires_uid, entry("Canceled").establishes) == ("NEW", False)
    assert entry("No_Show").requires_uid == "NEW"


def test_calendly_reschedule_story_comes_out_in_order(outbox):
    # Delivered out of order: the reschedule's create half and the later cancel before the original create.
    t = datetime.now(timezone.utc)
    deliver(outbox, "calendly", "invitee_canceled.json", t)
    deliver(outbox, "calendly", "reschedule_1_invitee_canceled.json", t)
    deliver(outbox, "calendly", "reschedule_2_invitee_created.json", t)
    deliver(outbox, "calendly", "invitee_created_new_lead.json", t)
    sent = []
    for _ in range(5):
        lease = outbox.lease("worker", now=t + timedelta(seconds=1))
        sent += [f"{i.action} {i.booking_uid}" for i in lease.items]
        outbox.finish(lease.id, [ItemResult.done(i.id) for i in lease.items], now=t + timedelta(seconds=1))
    assert sent == ["Created INVLEAD000000001", "Rescheduled INVLEAD000000003", "Canceled INVLEAD000000003"]
