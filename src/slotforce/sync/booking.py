"""The canonical booking change: what every webhook source is converted into before syncing.

Sources (Cal.com, Calendly, our own JSON) map their payloads onto `BookingChange`; the engine
never looks at a raw payload. Field names are stable: adapters and the durable store depend on them.

How `sequence` is derived (it is the last part of `Action_Key__c`
= `{source}:{booking_uid}:{action}:{sequence}`), so that a duplicate delivery of the same change
gets the same key and a genuinely new change gets a new one:

- Created, Rescheduled, Canceled happen at most once per booking uid (both Cal.com and Calendly
  give a rescheduled booking a new uid), so their sequence is 0.
- No_Show, No_Show_Cleared and Completed can happen again for the same uid (a host marks, unmarks,
  marks again), so their sequence is the webhook's own time (`occurred_at`) in epoch milliseconds,
  which a redelivery of the same webhook repeats.

An adapter may set `sequence` itself (e.g. from a counter the source provides); then it is kept.
"""

from __future__ import annotations

import enum
import hashlib
from datetime import datetime, timezone
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator


class Action(str, enum.Enum):
    """What happened to the booking; the values are Booking_Action__c.Action__c picklist values."""

    CREATED = "Created"
    RESCHEDULED = "Rescheduled"
    CANCELED = "Canceled"
    NO_SHOW = "No_Show"
    NO_SHOW_CLEARED = "No_Show_Cleared"
    COMPLETED = "Completed"


# A Salesforce record id, 15 or 18 characters; the key prefix says which object (00Q Lead, 003
# Contact, 001 Account, 006 Opportunity).
RECORD_ID = r"^[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?$"
WHO_PREFIXES = {"00Q": "Lead", "003": "Contact"}
WHAT_PREFIXES = {"001": "Account", "006": "Opportunity"}

# Actions a booking uid sees at most once; everything else may repeat and is keyed by time.
ONCE_PER_UID = frozenset({Action.CREATED, Action.RESCHEDULED, Action.CANCELED})


def _utc(value: datetime | None) -> datetime | None:
    # Naive datetimes are ambiguous (whose midnight?), so they are refused rather than guessed.
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("datetime needs a time zone offset (e.g. 2024-01-01T10:00:00Z)")
    try:
        return value.astimezone(timezone.utc)
    except OverflowError:  # year 1 or 9999 with an offset: no such UTC time
        raise ValueError(f"{value.isoformat()} is outside the range of UTC times") from None


def _normalize_email(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"an email address is text, not {type(value).__name__}")
    email = value.strip().lower()
    return email or None


def _to_text(value: Any) -> str:
    """Answers arrive as strings, lists (multi-select, guests), numbers or booleans."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ", ".join(_to_text(v) for v in value if v is not None)
    if isinstance(value, dict):
        # Cal.com nests some answers as {"value": ..., "optionValue": ...}
        if "value" in value:
            return _to_text(value["value"])
        return ", ".join(f"{k}: {_to_text(v)}" for k, v in value.items())
    return str(value)


def seat_sequence(seat_id: str) -> int:
    """A seat's own Action_Key__c sequence: stable across redeliveries, distinct per seat (48 bits)."""
    return int(hashlib.sha256(seat_id.strip().lower().encode()).hexdigest()[:12], 16)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Person(_Model):
    """An attendee, guest, organizer or co-host as the scheduling tool knows them."""

    email: str | None = None
    name: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    time_zone: str | None = None  # IANA zone, e.g. Europe/Berlin
    phone: str | None = None
    no_show: bool | None = None  # set on no-show changes: True marked, False cleared

    _email = field_validator("email", mode="before")(classmethod(lambda cls, v: _normalize_email(v)))

    @property
    def display_name(self) -> str:
        if self.name:
            return self.name
        return " ".join(p for p in (self.first_name, self.last_name) if p) or (self.email or "")


class Utm(_Model):
    """UTM tracking parameters captured on the booking page."""

    source: str | None = None
    medium: str | None = None
    campaign: str | None = None
    term: str | None = None
    content: str | None = None


class Geo(_Model):
    """Where the booker is, as the scheduling tool inferred it; feeds the geo tie-breakers."""

    country: str | None = None  # ISO 3166-1 alpha-2 or a country name
    state: str | None = None
    sub_region: str | None = None


class BookingChange(_Model):
    """One change to one booking, in the engine's words. Times are UTC."""

    source: str = Field(pattern=r"^[a-z][a-z0-9_-]{0,39}$")  # calcom, calendly, api
    action: Action
    booking_uid: str = Field(min_length=1, max_length=255)
    previous_booking_uid: str | None = Field(default=None, max_length=255)
    sequence: int | None = Field(default=None, ge=0)

    event_type_slug: str | None = None  # settings key in slotforce.yml
    event_type_ids: tuple[str, ...] = ()  # the tool's own ids of the event type (matched by `match:`)
    event_type_name: str | None = None  # Meeting_Type__c
    title: str | None = None  # Event Subject
    description: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    organizer_time_zone: str | None = None
    scheduling_type: str | None = None  # round_robin, collective, or None for a single host

    organizer: Person | None = None
    co_hosts: tuple[Person, ...] = ()
    attendee: Person | None = None  # primary attendee: the Who record
    guests: tuple[Person, ...] = ()
    # On a no-show change: the attendees it names (only their records change; empty: the booking's
    # attendee), or that it is the host who missed the meeting.
    absentees: tuple[Person, ...] = ()
    host_no_show: bool = False
    # A seated booking (several attendees book seats of one meeting, one booking uid): the seat this
    # change is about (Cal.com attendeeSeatId, or the leaving attendee's email). Its Created adds
    # `attendee` to the booking's Event; its Canceled takes them off (the last one cancels the Event).
    seat_id: str | None = Field(default=None, max_length=255)
    # The Salesforce records the booking names (Calendly tracking.salesforce_uuid, api who_id/what_id):
    # used instead of matching by email when they exist and may be used; else email matching, traced.
    who_id: str | None = Field(default=None, pattern=RECORD_ID)  # a Lead or Contact
    what_id: str | None = Field(default=None, pattern=RECORD_ID)  # an Account or Opportunity

    answers: dict[str, str] = Field(default_factory=dict)  # booking question -> answer
    form_answers: dict[str, str] = Field(default_factory=dict)  # routing form field -> answer
    router_name: str | None = None
    utm: Utm = Utm()
    location: str | None = None
    meeting_url: str | None = None
    cancel_reason: str | None = None
    canceled_by: Literal["host", "attendee"] | None = None  # who canceled, when the source says
    reschedule_requested: bool = False  # the host canceled to have the attendee pick a new time
    geo: Geo = Geo()

    booking_created_at: datetime | None = None  # when the booking was made
    occurred_at: datetime  # the webhook's own time: when this change happened

    @field_validator("start", "end", "booking_created_at", "occurred_at", mode="before")
    @classmethod
    def _times_are_text(cls, value: Any) -> Any:
        # JSON has no datetime: a number would be read as seconds since 1970, never what a sender meant
        if value is not None and not isinstance(value, (str, datetime)):
            raise ValueError(f"a datetime must be ISO 8601 text with an offset, not {type(value).__name__}")
        return value

    @field_validator("start", "end", "booking_created_at", "occurred_at", mode="after")
    @classmethod
    def _times_in_utc(cls, value: datetime | None) -> datetime | None:
        return _utc(value)

    @field_validator("answers", "form_answers", mode="before")
    @classmethod
    def _answers_as_text(cls, value: Any) -> dict[str, str]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise ValueError(f"must be an object of question -> answer, not {type(value).__name__}")
        return {str(k): _to_text(v) for k, v in value.items()}

    @field_validator("who_id", "what_id", mode="after")
    @classmethod
    def _named_record_kind(cls, value: str | None, info: ValidationInfo) -> str | None:
        allowed = WHO_PREFIXES if info.field_name == "who_id" else WHAT_PREFIXES
        if value is not None and value[:3] not in allowed:
            kinds = " or ".join(f"{name} ({prefix}...)" for prefix, name in allowed.items())
            raise ValueError(f"{value!r} is not the id of a {kinds}")
        return value

    @model_validator(mode="after")
    def _derive_sequence(self) -> "BookingChange":
        if self.start and self.end and self.end < self.start:
            raise ValueError(f"booking {self.booking_uid}: end {self.end} is before start {self.start}")
        if self.sequence is None:
            if self.seat_id and self.action in (Action.CREATED, Action.CANCELED):
                seq = seat_sequence(self.seat_id)  # once per seat, not per booking uid
            elif self.action in ONCE_PER_UID:
                seq = 0
            else:
                seq = int(self.occurred_at.timestamp() * 1000)
            object.__setattr__(self, "sequence", seq)
        return self

    @property
    def action_key(self) -> str:
        """Booking_Action__c.Action_Key__c: the idempotency key of this change."""
        return f"{self.source}:{self.booking_uid}:{self.action.value}:{self.sequence}"

    @property
    def hosts(self) -> tuple[Person, ...]:
        """Organizer first, then co-hosts: the people an owner may be chosen from."""
        return ((self.organizer,) if self.organizer else ()) + self.co_hosts

    @property
    def host_emails(self) -> tuple[str, ...]:
        return tuple(p.email for p in self.hosts if p.email)

    @property
    def guest_emails(self) -> tuple[str, ...]:
        return tuple(p.email for p in self.guests if p.email)

    @property
    def no_show_scope(self) -> str | None:
        """Whom a no-show change is about, as the outbox orders it: the host, the named attendees, or
        (None) the booking's attendee. A newer change only supersedes an older one of the same scope."""
        if self.host_no_show:
            return "host"
        return ",".join(sorted({p.email for p in self.absentees if p.email})) or None
