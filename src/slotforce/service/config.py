"""slotforce.yml as the service reads it: the engine's Settings plus the keys only the service uses.

The engine's `Settings` model refuses unknown keys, and it does not know `links:` (the hourly link
sync the service runs), `outbox:` (leases, timeouts, backoff: `slotforce.store.timing`) or
`service:` (the HTTP service's own options: access token, health thresholds). So the
service takes those out, validates each with its own small model, and hands the rest to `slotforce.sync.settings.parse_settings` unchanged. Relative paths in the
file (the local org's state dir, the links file, the store) are relative to slotforce.yml's folder,
so the commands behave the same from any working directory.

Many orgs (issue 13.4): a top-level `orgs: {NAME: {salesforce, sources, event_types, links}}` gives
each org its own Salesforce, webhook secrets, settings and links; `store`, `outbox`, `service` (and
`batch_size`) stay top-level, shared. A file without `orgs:` is one org named `default`
(`DEFAULT_ORG`), read exactly as before. Either way the service sees `ServiceConfig.orgs`.
"""

from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from slotforce.sources import SOURCES, LinkApi
from slotforce.store import DEFAULT_ORG, Outbox, OutboxTiming, backend_of, open_store
from slotforce.sync import Settings, SettingsError, parse_settings, read_config_yaml
from slotforce.yamlfile import config_path, validation_problems

# Keys of slotforce.yml that belong to the service, not to the engine's Settings model.
SERVICE_KEYS = ("links", "outbox", "service")
# What each org of `orgs:` has of its own; with `orgs:` these may not be at the top level.
ORG_KEYS = ("salesforce", "sources", "event_types", "links")
# An org's name is the {org} of POST /webhooks/{org}/{source}: a URL slug.
ORG_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


class LinksSchedule(BaseModel):
    """Where scheduling links come from, and how often `serve` syncs them.

    `links: {file: links.yml}` or `links: {from: calendly|calcom, token_env: NAME}` (optional
    `base_url`, and for Cal.com `booking_site`), plus `every_minutes` (60).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    file: str | None = Field(default=None, min_length=1)
    tool: Literal["calendly", "calcom"] | None = Field(default=None, alias="from")
    token_env: str | None = Field(default=None, min_length=1)
    base_url: str | None = Field(default=None, pattern=r"^https?://")
    booking_site: str | None = Field(default=None, pattern=r"^https://")
    every_minutes: float = Field(default=60, gt=0)

    @model_validator(mode="after")
    def _one_source(self) -> LinksSchedule:
        if (self.file is None) == (self.tool is None):
            raise ValueError("give exactly one of `file:` (a links file) or `from:` (calendly or calcom)")
        api_keys = [k for k in ("token_env", "base_url", "booking_site") if getattr(self, k) is not None]
        if self.file is not None and api_keys:
            raise ValueError(f"{', '.join(api_keys)} go with `from:`, not with `file:`")
        if self.tool is not None and self.token_env is None:
            raise ValueError("`from:` needs `token_env:`, the environment variable that holds the API token")
        if self.tool == "calendly" and self.booking_site is not None:
            raise ValueError("booking_site is for Cal.com (Calendly's API returns each link)")
        return self

    def api(self) -> LinkApi | None:
        """The API to pull links from, or None when the links come from a file."""
        if self.tool is None:
            return None
        return LinkApi(self.tool, self.token_env or "", base_url=self.base_url, booking_site=self.booking_site)


class ServiceOptions(BaseModel):
    """`service: {api_token_env: NAME, salesforce_failing_seconds: 300}`: the HTTP service's own options."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # The env var holding the Bearer token /status, /status.json, /metrics, /owner, /bookings/{uid} need.
    api_token_env: str | None = Field(default=None, min_length=1)
    # /healthz turns 503 once every Salesforce call has failed for longer than this.
    salesforce_failing_seconds: float = Field(default=300, gt=0)


class OrgBlock(BaseModel):
    """One org of `orgs:`; its keys are checked here, their values by the engine's and the service's models."""

    model_config = ConfigDict(extra="forbid")

    salesforce: Any = None
    sources: Any = None
    event_types: Any = None
    links: Any = None


@dataclass(frozen=True)
class OrgConfig:
    """One org the deployment serves: its Salesforce and settings (`settings`), its webhook sources
    (the raw `sources:` block, with the secrets' variable names) and its link sync."""

    name: str
    settings: Settings
    sources: dict[str, Any]
    links: LinksSchedule | None = None
    key_path: str = ""  # where its keys are in the file: "" (a single-org file) or "orgs.NAME."


@dataclass(frozen=True)
class ServiceConfig:
    path: Path  # slotforce.yml
    orgs: dict[str, OrgConfig]
    raw: dict[str, Any]  # the whole document
    outbox: OutboxTiming = OutboxTiming()
    service: ServiceOptions = ServiceOptions()
    many_orgs: bool = False  # an `orgs:` block (webhooks at /webhooks/{org}/{source} only)

    @property
    def store(self) -> str:
        return next(iter(self.orgs.values())).settings.store

    @property
    def only_org(self) -> OrgConfig:
        """The one org of a file that has one (a single-org file, or `orgs:` with one entry)."""
        if len(self.orgs) != 1:
            raise ValueError(f"{self.path} has {len(self.orgs)} orgs ({', '.join(self.orgs)}); name one")
        return next(iter(self.orgs.values()))

    def org(self, name: str | None) -> OrgConfig:
        """The org `name` (None: the only one); KeyError naming the configured orgs when there is none such."""
        if name is None:
            if len(self.orgs) == 1:
                return self.only_org
            raise KeyError(f"{self.path} has {len(self.orgs)} orgs; name one with --org ({', '.join(self.orgs)})")
        if name not in self.orgs:
            raise KeyError(f"org {name!r} is not configured in {self.path} (orgs: {', '.join(self.orgs)})")
        return self.orgs[name]

    # The single org's parts, for the code and tests that serve one org.
    @property
    def settings(self) -> Settings:
        return self.only_org.settings

    @property
    def links(self) -> LinksSchedule | None:
        return self.only_org.links

    @property
    def base_dir(self) -> Path:
        return self.path.resolve().parent

    def resolve(self, relative: str | os.PathLike[str]) -> Path:
        """A path from the file, relative to the file's folder."""
        p = Path(relative).expanduser()
        return p if p.is_absolute() else self.base_dir / p

    def links_file(self, org: OrgConfig | None = None) -> Path | None:
        links = (org or self.only_org).links
        return self.resolve(links.file) if links and links.file else None

    def open_outbox(self) -> Outbox:
        """The outbox of `store:`, with the `outbox:` block's timing (create wait, backoff)."""
        return open_store(self.store, base_dir=self.base_dir, **self.outbox.store_options())

    @property
    def sources(self) -> dict[str, Any]:
        return self.only_org.sources


def read_config(path: Path) -> dict[str, Any]:
    """slotforce.yml as a mapping (an empty file is an empty mapping)."""
    raw = read_config_yaml(path)
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise SettingsError(str(path), [("(top)", "the file must be a mapping of keys (salesforce, store, ...)")])
    return raw


def _service_block(raw: dict[str, Any], key: str, model: type[BaseModel], problems: list[tuple[str, str]],
                   prefix: tuple[str, ...] = ()) -> Any:
    """`raw[key]` validated by `model` (None when absent); each problem is added with its key path."""
    if raw.get(key) is None:
        return None
    try:
        return model.model_validate(raw[key])
    except ValidationError as err:
        takes = ", ".join(f.alias or name for name, f in model.model_fields.items())
        problems += validation_problems(err, (*prefix, key), unknown_key=f"unknown key ({key} takes {takes})")
        return None


def _source_names(sources: Any, prefix: str = "") -> list[tuple[str, str]]:
    """A `sources:` key that names no webhook source is a typo that would leave its secret unused."""
    if not isinstance(sources, dict):
        return []
    problems = []
    for name in sources:
        if name not in SOURCES:
            close = difflib.get_close_matches(str(name), list(SOURCES), n=1)
            hint = f"did you mean {close[0]}? " if close else ""
            problems.append((f"{prefix}sources.{name}", f"unknown source; {hint}(sources are {', '.join(SOURCES)})"))
    return problems


def _store_url(url: Any) -> list[tuple[str, str]]:
    """A store URL slotforce has no backend for fails at start-up; say so while checking the file."""
    if url is None or not isinstance(url, str):
        return []  # the engine's settings report a missing or wrong-typed value
    if backend_of(url) is None:
        return [("store", f"{url!r}: no outbox backend for this URL; use sqlite:///path/to/outbox.db or postgresql://...")]
    return []


def _org(name: str, body: dict[str, Any], shared: dict[str, Any], path: Path, key_path: str,
         problems: list[tuple[str, str]]) -> OrgConfig | None:
    """One org from its keys (`body`: salesforce, sources, event_types, links) and the shared ones
    (`shared`: store, batch_size); problems are added with their key paths under `key_path`."""
    prefix = tuple(key_path.rstrip(".").split(".")) if key_path else ()
    links = _service_block(body, "links", LinksSchedule, problems, prefix)
    problems += _source_names(body.get("sources"), key_path)
    engine_raw = {**{k: v for k, v in body.items() if k != "links"}, **shared}
    try:
        settings = parse_settings(engine_raw, str(path))
    except SettingsError as err:
        problems += [(key_path + where if where != "(top)" and not where.startswith(("store", "batch_size"))
                      else where, what) for where, what in err.problems]
        return None
    sources = body.get("sources")
    return OrgConfig(name, settings, sources if isinstance(sources, dict) else {}, links, key_path)


def _orgs(raw: dict[str, Any], path: Path, problems: list[tuple[str, str]]) -> dict[str, OrgConfig]:
    """The orgs of an `orgs:` block; a key that belongs to each org found at the top level is refused by name."""
    for key in ORG_KEYS:
        if key in raw:
            problems.append((key, f"with `orgs:` every org has its own {key}: move it under orgs.<name>.{key} "
                                  "(a top-level one is for a file without `orgs:`, which serves one org)"))
    block = raw["orgs"]
    if not isinstance(block, dict) or not block:
        problems.append(("orgs", "must be a mapping of org name -> {salesforce, sources, event_types, links}"))
        return {}
    shared = {k: raw[k] for k in ("store", "batch_size") if k in raw}
    rest = {k: v for k, v in raw.items() if k not in (*SERVICE_KEYS, *ORG_KEYS, "orgs", "store", "batch_size")}
    for key in rest:
        problems.append((key, "unknown key (with `orgs:` the top level takes orgs, store, outbox, service, batch_size)"))
    orgs: dict[str, OrgConfig] = {}
    for name, body in block.items():
        if not isinstance(name, str) or not ORG_NAME.match(name):
            problems.append((f"orgs.{name}", "an org's name is its part of the webhook URL (/webhooks/{org}/{source}): "
                                             "lowercase letters, digits, - and _, starting with a letter or digit, "
                                             "at most 63 characters"))
            continue
        try:
            OrgBlock.model_validate(body if body is not None else {})
        except ValidationError as err:
            problems += validation_problems(err, ("orgs", name), unknown_key=f"unknown key (an org takes "
                                                                             f"{', '.join(ORG_KEYS)})")
            continue
        org = _org(name, body or {}, shared, path, f"orgs.{name}.", problems)
        if org is not None:
            orgs[name] = org
    return orgs


def parse_service_config(raw: dict[str, Any], path: Path) -> ServiceConfig:
    problems: list[tuple[str, str]] = []
    outbox = _service_block(raw, "outbox", OutboxTiming, problems) or OutboxTiming()
    service = _service_block(raw, "service", ServiceOptions, problems) or ServiceOptions()
    problems += _store_url(raw.get("store"))
    many = "orgs" in raw
    if many:
        orgs = _orgs(raw, path, problems)
    else:  # the single-org file, as it always was: one org named `default`
        body = {k: v for k, v in raw.items() if k not in ("outbox", "service", "store", "batch_size")}
        shared = {k: raw[k] for k in ("store", "batch_size") if k in raw}
        org = _org(DEFAULT_ORG, body, shared, path, "", problems)
        orgs = {DEFAULT_ORG: org} if org is not None else {}
    if problems:  # (a shared key's problem is found once per org: said once)
        raise SettingsError(str(path), list(dict.fromkeys(problems)))
    return ServiceConfig(path=path, orgs=orgs, raw=raw, outbox=outbox, service=service, many_orgs=many)


def load_service_config(option: str | os.PathLike[str] | None = None) -> ServiceConfig:
    """Read and validate slotforce.yml (raises SettingsError naming each bad key path)."""
    path = config_path(option)
    return parse_service_config(read_config(path), path)
