"""Receive one delivery: parse it, then store raw body and changes in one outbox transaction.

The HTTP service answers 202 only after its delivery is committed: it `prepare`s each one and
hands it to a group commit (store.GroupCommit); `slotforce ingest` calls `receive` per file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slotforce.sources.delivery import parse
from slotforce.sources.signatures import header
from slotforce.store import DEFAULT_ORG, Delivery, NewChange, Outbox, Receipt
from slotforce.sync import Action, BookingChange


def outbox_entry(change: BookingChange) -> NewChange:
    """What the outbox needs to order this change: its key, its uid, and the uid it depends on."""
    if change.action is Action.CREATED:
        requires = None
    elif change.action is Action.RESCHEDULED and change.previous_booking_uid:
        requires = change.previous_booking_uid  # the booking it moves must exist first
    else:
        requires = change.booking_uid
    return NewChange(
        dedupe_key=change.action_key,
        booking_uid=change.booking_uid,
        previous_booking_uid=change.previous_booking_uid,
        action=change.action.value,
        event_type=change.event_type_slug,
        change=change.model_dump(mode="json"),
        requires_uid=requires,
        establishes=change.action in (Action.CREATED, Action.RESCHEDULED),
        repeat_scope=change.no_show_scope,
    )


@dataclass(frozen=True)
class Prepared:
    """A delivery checked and read, ready to store: the outbox's rows and the booking uids it names."""

    delivery: Delivery
    entries: list[NewChange]

    @property
    def booking_uids(self) -> list[str]:
        return sorted({entry.booking_uid for entry in self.entries})


def prepare(
    source: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    secrets: Mapping[str, str | None] | None,
    now: datetime | None = None,
    org: str = DEFAULT_ORG,
    **parse_options: Any,
) -> Prepared:
    """Parse (raising WebhookRejected) one delivery of `org`'s into what the outbox stores; stores nothing."""
    changes = parse(source, body, headers, secrets=secrets, now=now, **parse_options)
    delivery = Delivery(source=source, body=body, content_type=header(headers, "Content-Type"), note=changes.note,
                        org=org)
    return Prepared(delivery, [outbox_entry(c) for c in changes])


def receive(
    outbox: Outbox,
    source: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    secrets: Mapping[str, str | None] | None,
    now: datetime | None = None,
    org: str = DEFAULT_ORG,
    **parse_options: Any,
) -> Receipt:
    """Parse (raising WebhookRejected) and durably store one delivery of `org`'s; acknowledge after this returns."""
    prepared = prepare(source, body, headers, secrets=secrets, now=now, org=org, **parse_options)
    return outbox.enqueue(prepared.delivery, prepared.entries, now=now)

