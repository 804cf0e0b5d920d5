"""Cal.com webhooks -> booking changes.

Envelope `{"triggerEvent", "createdAt", "payload": {...}}`, except MEETING_STARTED/MEETING_ENDED,
which Cal.com sends flat (booking fields at the top level, no `payload`). Signed with
`X-Cal-Signature-256` (see signatures.py). Triggers that are not a change to a booking Salesforce
mirrors (BOOKING_REQUESTED, BOOKING_PAID, FORM_SUBMITTED, ...) yield no change, so the delivery is
acknowledged and kept, with a note saying why nothing was queued.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from slotforce.sources.errors import bad_payload
from slotforce.sources.payload import ParsedChanges, Reader, slugify
from slotforce.sources.signatures import verify_calcom
from slotforce.sync import Action, BookingChange, Person, Utm

SOURCE = "calcom"

_ACTIONS = {
    "BOOKING_CREATED": Action.CREATED,
    "BOOKING_RESCHEDULED": Action.RESCHEDULED,
    "BOOKING_CANCELLED": Action.CANCELED,
    "MEETING_ENDED": Action.COMPLETED,
}
_NO_SHOW_TRIGGERS = ("BOOKING_NO_SHOW_UPDATED", "AFTER_GUESTS_CAL_VIDEO_NO_SHOW", "AFTER_HOSTS_CAL_VIDEO_NO_SHOW")

# How requestReschedule.handler begins the cancellation reason it sends (requestReschedule.handler.ts).
REQUEST_RESCHEDULE_REASON = "Please reschedule."

# Booking-form responses that are people or logistics, not answers to a question.
_NOT_ANSWERS = frozenset({"name", "email", "guests", "location", "attendeePhoneNumber"})


def verify(body: bytes, headers: Mapping[str, str], secret: str | None, **_: Any) -> None:
    verify_calcom(body, headers, secret)


def changes(document: Any) -> ParsedChanges:
    envelope = Reader(SOURCE, document)
    trigger = envelope.required_text("triggerEvent")
    flat = "payload" not in envelope.data
    payload = envelope if flat else envelope.obj("payload")
    if payload is None:
        raise bad_payload(SOURCE, "payload", "is missing")
    if trigger in _NO_SHOW_TRIGGERS:
        return ParsedChanges(_no_shows(envelope, payload, trigger))
    action = _ACTIONS.get(trigger)
    if action is None:
        return ParsedChanges(note=f"Cal.com {trigger} is not a booking change slotforce syncs; nothing queued")
    if action is Action.CREATED and payload.text("status") in ("PENDING", "REJECTED"):
        # An unconfirmed booking arrives as BOOKING_REQUESTED; only confirmed ones reach Salesforce.
        return ParsedChanges(note=f"Cal.com booking {payload.text('uid')} is {payload.text('status')}; nothing queued")
    booking = _booking(envelope, payload, action)
    if _seated(payload) and action in (Action.CREATED, Action.CANCELED):
        return ParsedChanges(_seat_changes(payload, booking, action))
    return ParsedChanges([booking])


def _seated(payload: Reader) -> bool:
    """A seated event type (CalendarEvent.seatsPerTimeSlot), or a seat named by the payload."""
    seats = payload.get("seatsPerTimeSlot")
    return bool(payload.text("attendeeSeatId")) or (isinstance(seats, int) and not isinstance(seats, bool) and seats > 0)


def _seat_changes(payload: Reader, booking: BookingChange, action: Action) -> list[BookingChange]:
    """Seats share one booking uid (handleSeats.ts). A new seat's BOOKING_CREATED lists the earlier
    seats' attendees and the new one last (createNewSeat.ts), with `attendeeSeatId`: the change is
    that attendee joining. A seat's BOOKING_CANCELLED lists only the attendees leaving
    (cancelAttendeeSeat.ts): one change each. Other seats are not this booker's guests."""
    attendees = [a for a in _attendees(payload) if a.email]
    seats = {a.email for a in attendees}
    own_guests = tuple(g for g in booking.guests if g.email not in seats)  # the booker's own guests
    if action is Action.CREATED:
        joining = attendees[-1] if attendees else booking.attendee
        seat = payload.text("attendeeSeatId") or (joining.email if joining else None)
        return [_with(booking, attendee=joining, guests=own_guests, seat_id=seat)]
    return [_with(booking, attendee=person, guests=(), seat_id=person.email) for person in attendees]


def _with(booking: BookingChange, **changes: Any) -> BookingChange:
    """`booking` with `changes`, validated again (the Action_Key__c sequence is derived anew)."""
    return BookingChange.model_validate({**dict(booking), **changes, "sequence": None})


def _attendees(payload: Reader) -> list[Person]:
    return [_person(a) for a in payload.objects("attendees")]


def _occurred_at(envelope: Reader, payload: Reader) -> datetime:
    # The flat MEETING_* shape has no webhook time (its createdAt is the booking's): the meeting's end
    # is when it was completed, and a redelivery repeats it, so the Action_Key__c sequence is stable.
    if envelope is payload:
        return payload.required_time("endTime")
    return envelope.required_time("createdAt")


def _person(reader: Reader) -> Person:
    return Person(
        email=reader.text("email"),
        name=reader.text("name"),
        first_name=reader.text("firstName"),
        last_name=reader.text("lastName"),
        time_zone=reader.text("timeZone"),
        phone=reader.text("phoneNumber"),
        no_show=reader.get("noShow") if isinstance(reader.get("noShow"), bool) else None,
    )


def _answers(payload: Reader) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for key in ("responses", "userFieldsResponses"):
        for name, response in _mapping(payload, key).items():
            if name in _NOT_ANSWERS:
                continue
            value = response.get("value") if isinstance(response, dict) else response
            if value not in (None, "", [], {}):
                answers[name] = value
    for name, value in _mapping(payload, "customInputs").items():
        if value not in (None, "", [], {}):
            answers.setdefault(name, value)
    return answers


def _mapping(payload: Reader, key: str) -> dict[str, Any]:
    """An optional JSON object of the payload (answers, tracking), or a 400 naming it."""
    found = payload.obj(key)
    return found.data if found is not None else {}


def _guest_emails_from_responses(payload: Reader) -> list[str]:
    guests = _mapping(payload, "responses").get("guests")
    value = guests.get("value") if isinstance(guests, dict) else guests
    return [str(v) for v in value] if isinstance(value, list) else []


def _booking(envelope: Reader, payload: Reader, action: Action) -> BookingChange:
    organizer_reader = payload.obj("organizer") or payload.obj("user")
    organizer = _person(organizer_reader) if organizer_reader else None
    if organizer is None and payload.text("userPrimaryEmail"):
        organizer = Person(email=payload.text("userPrimaryEmail"))

    attendees = [_person(a) for a in payload.objects("attendees")]
    guests = list(attendees[1:])
    known = {p.email for p in attendees if p.email}
    for email in _guest_emails_from_responses(payload):
        if email.strip().lower() not in known:
            guests.append(Person(email=email))
            known.add(email.strip().lower())

    scheduling_type = (payload.text("schedulingType") or "").lower() or None
    # team.members are the booking's other hosts: every host of a collective event, the fixed hosts
    # of a round-robin one (CalendarEvent.team in packages/types/Calendar.d.ts); all of them attend.
    co_hosts: list[Person] = []
    team = payload.obj("team")
    if team is not None:
        organizer_email = organizer.email if organizer else None
        co_hosts = [p for p in (_person(m) for m in team.objects("members")) if p.email and p.email != organizer_email]

    video = payload.obj("videoCallData")
    metadata = payload.obj("metadata")
    meeting_url = (video.text("url") if video else None) or (metadata.text("videoCallUrl") if metadata else None)
    location = payload.text("location")
    if location and location.startswith("integrations:"):
        # "integrations:daily" names an app, not a place: the link is what a person can use.
        location = meeting_url or location.removeprefix("integrations:")

    tracking = _mapping(payload, "tracking")
    description = "\n\n".join(p for p in (payload.text("description"), payload.text("additionalNotes")) if p) or None
    return BookingChange(
        source=SOURCE,
        action=action,
        booking_uid=payload.required_text("uid"),
        previous_booking_uid=payload.text("rescheduleUid") if action is Action.RESCHEDULED else None,
        event_type_slug=_slug(payload),
        event_type_ids=tuple(i for i in (payload.text("eventTypeId"),) if i),
        event_type_name=payload.text("eventTitle") or payload.text("title"),
        title=payload.text("title"),
        description=description,
        start=payload.time("startTime"),
        end=payload.time("endTime"),
        organizer_time_zone=organizer.time_zone if organizer else None,
        scheduling_type=scheduling_type,
        organizer=organizer,
        co_hosts=tuple(co_hosts),
        attendee=attendees[0] if attendees else None,
        guests=tuple(guests),
        answers=_answers(payload),
        utm=Utm(**{k: tracking.get(f"utm_{k}") for k in ("source", "medium", "campaign", "term", "content")}),
        location=location,
        meeting_url=meeting_url,
        cancel_reason=_cancel_reason(payload) if action is Action.CANCELED else None,
        canceled_by=_canceled_by(payload, organizer, co_hosts, attendees) if action is Action.CANCELED else None,
        reschedule_requested=action is Action.CANCELED and _reschedule_requested(payload),
        booking_created_at=envelope.time("createdAt") if action is Action.CREATED and envelope is not payload else None,
        occurred_at=_occurred_at(envelope, payload),
    )


def _slug(payload: Reader) -> str | None:
    """CalendarEvent.type is the event type's slug; requestReschedule.handler's own payload puts its
    title there ("Discovery Call"), which is slugged like a name."""
    slug = payload.text("type") or payload.text("eventTypeSlug")
    return slugify(slug) if slug and any(ch.isspace() for ch in slug) else slug


def _reschedule_requested(payload: Reader) -> bool:
    """`requestReschedule: true` (the booking payload builder), or the request-reschedule handler's
    own payload, which has no flag but always starts its reason with "Please reschedule."."""
    if payload.get("requestReschedule") is True:
        return True
    return "requestReschedule" not in payload.data and (payload.text("cancellationReason") or "").startswith(
        REQUEST_RESCHEDULE_REASON)


def _cancel_reason(payload: Reader) -> str | None:
    reason = payload.text("cancellationReason")
    if not reason and _reschedule_requested(payload):
        # The host asked the attendee to pick a new time; say so rather than leave it blank.
        return "Reschedule requested by the host"
    return reason


def _canceled_by(payload: Reader, organizer: Person | None, co_hosts: list[Person],
                 attendees: list[Person]) -> str | None:
    """`cancelledBy` is the email of whoever canceled (BaseBookingPayloadBuilder's BOOKING_CANCELLED
    extra data); a host's request to reschedule is a cancel by the host."""
    if _reschedule_requested(payload):
        return "host"
    email = (payload.text("cancelledBy") or "").lower()
    if not email:
        return None
    if email in {p.email for p in (organizer, *co_hosts) if p and p.email}:
        return "host"
    return "attendee" if email in {p.email for p in attendees if p.email} else None


def _no_shows(envelope: Reader, payload: Reader, trigger: str) -> list[BookingChange]:
    """Who missed the meeting, one change per direction.

    BOOKING_NO_SHOW_UPDATED `{bookingUid, attendees: [{email, noShow}], message}` lists only the
    attendees whose flag changed (handleMarkNoShow.ts): a No_Show names those marked, a
    No_Show_Cleared those unmarked, so only their records change. AFTER_GUESTS_CAL_VIDEO_NO_SHOW lists
    the guests who did not join (noShow true, or not given); AFTER_HOSTS_CAL_VIDEO_NO_SHOW means the
    host did not join (triggerNoShow/common.ts).
    """
    uid = payload.text("bookingUid") or payload.required_text("uid")
    # A flat no-show body has no webhook time; the meeting's end is stable across redeliveries.
    occurred_at = (envelope.time("createdAt") if envelope is not payload else None) \
        or payload.time("endTime") or envelope.required_time("createdAt")
    common = dict(source=SOURCE, booking_uid=uid, start=payload.time("startTime"), end=payload.time("endTime"),
                  occurred_at=occurred_at)
    if trigger == "AFTER_HOSTS_CAL_VIDEO_NO_SHOW":
        host = payload.text("hostEmail")
        return [BookingChange(action=Action.NO_SHOW, host_no_show=True,
                              organizer=Person(email=host) if host else None, **common)]
    attendees = [_person(a) for a in payload.objects("attendees")]
    if not attendees:
        raise bad_payload(SOURCE, "payload.attendees", "is missing or empty: whose no-show changed?")
    for i, a in enumerate(attendees):
        if not a.email:
            raise bad_payload(SOURCE, f"payload.attendees[{i}].email", "is missing: whose no-show changed?")
    marked = [a for a in attendees if a.no_show]
    cleared = [a for a in attendees if a.no_show is False]
    if trigger == "AFTER_GUESTS_CAL_VIDEO_NO_SHOW":
        # the attendee rows of the booking, those who did not join marked (triggerGuestNoShow.ts); a
        # co-host who joined keeps null. A list with no flag at all names the absent guests only.
        flagged = [a for a in attendees if a.no_show is not None]
        marked, cleared = ([a for a in attendees if a.no_show] if flagged else attendees), []
    elif len(marked) + len(cleared) < len(attendees):
        i = next(i for i, a in enumerate(attendees) if a.no_show is None)
        raise bad_payload(SOURCE, f"payload.attendees[{i}].noShow", "is missing: marked (true) or unmarked (false)?")
    changes = []
    for action, people in ((Action.NO_SHOW, marked), (Action.NO_SHOW_CLEARED, cleared)):
        if people:
            changes.append(BookingChange(action=action, attendee=people[0], absentees=tuple(people), **common))
    return changes
