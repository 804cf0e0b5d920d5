"""Calendly API v2 webhooks -> booking changes.

Envelope `{"event", "created_at", "created_by", "payload": <Invitee with scheduled_event>}`, signed
with `Calendly-Webhook-Signature: t=...,v1=...` (see signatures.py). The booking uid is the
**invitee** uuid, not the scheduled event's, for one-on-one events. A group event
(`invitees_counter.limit` > 1) is one meeting: its booking uid is the scheduled event's uuid and each
invitee is a seat of it (`seat_id` = the invitee uuid, so every invitee keeps a key of its own:
deduping on the event uuid alone is how other integrations lost invitees).

A reschedule arrives as a pair: `invitee.canceled` with `rescheduled: true` (and `new_invitee`) for
the old invitee, then `invitee.created` with `old_invitee` for the new one. The created half becomes
one Rescheduled change (new uid, previous uid = old invitee) that moves the existing Event in place;
the canceled half yields no change (queuing a cancel would delete or close the Event the reschedule
is about to move) and is kept with a note.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from slotforce.sources.errors import bad_payload
from slotforce.sources.payload import ParsedChanges, Reader, last_path_segment, slugify
from slotforce.sources.signatures import DEFAULT_REPLAY_WINDOW, verify_calendly
from slotforce.sync import RECORD_ID, WHAT_PREFIXES, WHO_PREFIXES, Action, BookingChange, Person, Utm

SOURCE = "calendly"


def verify(
    body: bytes,
    headers: Mapping[str, str],
    secret: str | None,
    *,
    now: datetime | float | None = None,
    replay_window: timedelta = DEFAULT_REPLAY_WINDOW,
    **_: Any,
) -> None:
    verify_calendly(body, headers, secret, now=now, replay_window=replay_window)


def changes(document: Any) -> ParsedChanges:
    envelope = Reader(SOURCE, document)
    event = envelope.required_text("event")
    payload = envelope.obj("payload")
    if payload is None:
        raise bad_payload(SOURCE, "payload", "is missing")
    occurred_at = envelope.required_time("created_at")
    if event == "invitee.created":
        action = Action.RESCHEDULED if payload.text("old_invitee") else Action.CREATED
        return ParsedChanges([_invitee(payload, action, occurred_at)])
    if event == "invitee.canceled":
        if payload.get("rescheduled") is True and not _group(payload):
            new = last_path_segment(payload.text("new_invitee"))
            return ParsedChanges(
                note=f"Calendly invitee {_uid(payload)} was rescheduled (new invitee {new}); the invitee.created"
                " for the new invitee moves the Event, so nothing is queued for this cancel"
            )
        return ParsedChanges([_invitee(payload, Action.CANCELED, occurred_at)])
    if event in ("invitee_no_show.created", "invitee_no_show.deleted"):
        action = Action.NO_SHOW if event.endswith(".created") else Action.NO_SHOW_CLEARED
        return ParsedChanges([_no_show(payload, action, occurred_at)])
    return ParsedChanges(note=f"Calendly {event} is not a booking change slotforce syncs; nothing queued")


def _group(payload: Reader) -> bool:
    """A group event type: several invitees book one scheduled event (invitees_counter.limit > 1)."""
    event = payload.obj("scheduled_event")
    counter = event.obj("invitees_counter") if event is not None else None
    limit = counter.get("limit") if counter is not None else None
    return isinstance(limit, int) and not isinstance(limit, bool) and limit > 1


def _event_uid(payload: Reader) -> str:
    """The scheduled event's uuid, from `scheduled_event.uri` or the invitee URI (…/scheduled_events/E/invitees/I)."""
    event = payload.obj("scheduled_event")
    uri = (event.text("uri") if event is not None else None) or payload.required_text("uri").split("/invitees/")[0]
    return last_path_segment(uri) or _uid(payload)


def _uid(payload: Reader) -> str:
    uri = payload.required_text("uri")
    if "/invitees/" not in uri:
        raise bad_payload(SOURCE, "payload.uri", f"{uri!r} is not an invitee URI (…/scheduled_events/E/invitees/I)")
    return last_path_segment(uri)  # type: ignore[return-value]


def _membership(reader: Reader) -> Person:
    return Person(email=reader.text("user_email"), name=reader.text("user_name"))


def _attendee(payload: Reader, **more: Any) -> Person:
    """The person of a Calendly Invitee resource."""
    return Person(
        email=payload.text("email"),
        name=payload.text("name"),
        first_name=payload.text("first_name"),
        last_name=payload.text("last_name"),
        time_zone=payload.text("timezone"),
        **more,
    )


def _invitee(payload: Reader, action: Action, occurred_at: datetime) -> BookingChange:
    event = payload.obj("scheduled_event")
    if event is None:
        raise bad_payload(SOURCE, "payload.scheduled_event", "is missing")
    hosts = [_membership(m) for m in event.objects("event_memberships")]
    location = event.obj("location")
    place = join_url = None
    if location is not None:
        join_url = location.text("join_url")
        place = location.text("location") or join_url or location.text("type")
    tracking = payload.obj("tracking").data if payload.obj("tracking") is not None else {}
    cancellation = payload.obj("cancellation")
    answers = {
        qa.required_text("question"): qa.get("answer")
        for qa in payload.objects("questions_and_answers")
        if qa.get("answer") not in (None, "")
    }
    name = event.text("name")
    # A group event is one meeting: its invitees are seats of one booking, the scheduled event. An
    # invitee who reschedules leaves one event (the canceled half) and joins another (the created half).
    seat = _uid(payload) if _group(payload) else None
    if seat and action is Action.RESCHEDULED:
        action = Action.CREATED
    return BookingChange(
        source=SOURCE,
        action=action,
        booking_uid=_event_uid(payload) if seat else _uid(payload),
        seat_id=seat,
        previous_booking_uid=last_path_segment(payload.text("old_invitee")) if action is Action.RESCHEDULED else None,
        # Calendly's webhook carries the event type's URI and name, not its slug: the settings key
        # is the slugified name ("Discovery Call" -> discovery-call), which is how Calendly slugs names.
        event_type_slug=slugify(name),
        # the event type's URI and UUID do not change when it is renamed: `match:` keys on them
        event_type_ids=_event_type_ids(event.text("event_type")),
        event_type_name=name,
        title=name,
        description=event.text("meeting_notes_plain"),
        start=event.time("start_time"),
        end=event.time("end_time"),
        # Several memberships means every host attends (Calendly's collective events).
        scheduling_type="collective" if len(hosts) > 1 else None,
        organizer=hosts[0] if hosts else None,
        co_hosts=tuple(hosts[1:]),
        attendee=_attendee(payload, phone=payload.text("text_reminder_number")),
        guests=tuple(Person(email=g.text("email")) for g in event.objects("event_guests") if g.text("email")),
        answers=answers,
        utm=Utm(**{k: tracking.get(f"utm_{k}") for k in ("source", "medium", "campaign", "term", "content")}),
        location=place,
        meeting_url=join_url,
        cancel_reason=cancellation.text("reason") if cancellation is not None and action is Action.CANCELED else None,
        canceled_by=_canceler(cancellation) if action is Action.CANCELED else None,
        booking_created_at=payload.time("created_at"),
        occurred_at=occurred_at,
        **_named_record(tracking.get("salesforce_uuid")),
    )


def _named_record(salesforce_uuid: Any) -> dict[str, str]:
    """tracking.salesforce_uuid: the Salesforce record a routed booking came from (Calendly Routing
    for Salesforce). A Lead or Contact is the Who, an Account or Opportunity the What; other ids
    (or none) leave the booking to matching by email."""
    record_id = str(salesforce_uuid).strip() if isinstance(salesforce_uuid, str) else ""
    if not re.fullmatch(RECORD_ID, record_id):
        return {}
    if record_id[:3] in WHO_PREFIXES:
        return {"who_id": record_id}
    return {"what_id": record_id} if record_id[:3] in WHAT_PREFIXES else {}


def _canceler(cancellation: Reader | None) -> str | None:
    """Cancellation.canceler_type is "host" or "invitee" (Calendly's Cancellation resource)."""
    kind = (cancellation.text("canceler_type") or "").lower() if cancellation is not None else ""
    return {"host": "host", "invitee": "attendee"}.get(kind)


def _event_type_ids(uri: str | None) -> tuple[str, ...]:
    """`https://api.calendly.com/event_types/UUID` -> (the URI, UUID)."""
    uuid = last_path_segment(uri)
    return (uri, uuid) if uri and uuid else ()


def _no_show(payload: Reader, action: Action, occurred_at: datetime) -> BookingChange:
    """Two shapes are seen in the wild: the Invitee resource (with `no_show`), or the no-show resource
    `{uri: …/invitee_no_shows/N, invitee: …/invitees/I, created_at}`. Both name the invitee."""
    invitee_uri = payload.text("invitee")
    if invitee_uri:
        uid = last_path_segment(invitee_uri)
        attendee = Person(no_show=action is Action.NO_SHOW)
        if not uid:
            raise bad_payload(SOURCE, "payload.invitee", "is not an invitee URI")
    elif _group(payload):  # one of a group event's invitees: only their record is marked
        attendee = _attendee(payload, no_show=action is Action.NO_SHOW)
        return BookingChange(source=SOURCE, action=action, booking_uid=_event_uid(payload), attendee=attendee,
                             absentees=(attendee,) if attendee.email else (), occurred_at=occurred_at)
    else:
        uid = _uid(payload)
        attendee = _attendee(payload, no_show=action is Action.NO_SHOW)
    return BookingChange(source=SOURCE, action=action, booking_uid=uid, attendee=attendee, occurred_at=occurred_at)
