"""slotforce.yml as the service reads it: the engine's Settings plus the keys only the service uses.

The engine's `Settings` model refuses unknown keys, and it does not know `links:` (the hourly link
sync the service runs), `outbox:` (leases, timeouts, backoff: `slotforce.store.timing`) or
`service:` (the HTTP service's own options: access token, health thresholds). So the
service takes those out, validates each with its own small model, and hands the rest to `slotforce.sync.settings.parse_settings` unchanged. Relative paths in the
file (the local org's state dir, the links file, the store) are relative to slotforce.yml's folder,
so the commands behave the same from any working directory.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from slotforce.sources import SOURCES, LinkApi
from slotforce.store import Outbox, OutboxTiming, backend_of, open_store
from slotforce.sync import Settings, SettingsError, parse_settings, read_config_yaml
from slotforce.yamlfile import config_path, validation_problems

# Keys of slotforce.yml that belong to the service, not to the engine's Settings model.
SERVICE_KEYS = ("links", "outbox", "service")


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


@dataclass(frozen=True)
class ServiceConfig:
    path: Path  # slotforce.yml
    settings: Settings
    raw: dict[str, Any]  # the whole document, for parts that read their own keys (sources)
    links: LinksSchedule | None = None
    outbox: OutboxTiming = OutboxTiming()
    service: ServiceOptions = ServiceOptions()

    @property
    def base_dir(self) -> Path:
        return self.path.resolve().parent

    def resolve(self, relative: str | os.PathLike[str]) -> Path:
        """A path from the file, relative to the file's folder."""
        p = Path(relative).expanduser()
        return p if p.is_absolute() else self.base_dir / p

    @property
    def links_file(self) -> Path | None:
        return self.resolve(self.links.file) if self.links and self.links.file else None

    def open_outbox(self) -> Outbox:
        """The outbox of `store:`, with the `outbox:` block's timing (create wait, backoff)."""
        return open_store(self.settings.store, base_dir=self.base_dir, **self.outbox.store_options())

    @property
    def sources(self) -> dict[str, Any]:
        found = self.raw.get("sources")
        return found if isinstance(found, dict) else {}


def read_config(path: Path) -> dict[str, Any]:
    """slotforce.yml as a mapping (an empty file is an empty mapping)."""
    raw = read_config_yaml(path)
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise SettingsError(str(path), [("(top)", "the file must be a mapping of keys (salesforce, store, ...)")])
    return raw


def _service_block(raw: dict[str, Any], key: str, model: type[BaseModel], problems: list[tuple[str, str]]) -> Any:
    """`raw[key]` validated by `model` (None when absent); each problem is added with its key path."""
    if raw.get(key) is None:
        return None
    try:
        return model.model_validate(raw[key])
    except ValidationError as err:
        takes = ", ".join(f.alias or name for name, f in model.model_fields.items())
        problems += validation_problems(err, (key,), unknown_key=f"unknown key ({key} takes {takes})")
        return None


def _source_names(sources: Any) -> list[tuple[str, str]]:
    """A `sources:` key that names no webhook source is a typo that would leave its secret unused."""
    if not isinstance(sources, dict):
        return []
    problems = []
    for name in sources:
        if name not in SOURCES:
            close = difflib.get_close_matches(str(name), list(SOURCES), n=1)
            hint = f"did you mean {close[0]}? " if close else ""
            problems.append((f"sources.{name}", f"unknown source; {hint}(sources are {', '.join(SOURCES)})"))
    return problems


def _store_url(url: Any) -> list[tuple[str, str]]:
    """A store URL slotforce has no backend for fails at start-up; say so while checking the file."""
    if url is None or not isinstance(url, str):
        return []  # the engine's settings report a missing or wrong-typed value
    if backend_of(url) is None:
        return [("store", f"{url!r}: no outbox backend for this URL; use sqlite:///path/to/outbox.db or postgresql://...")]
    return []


def parse_service_config(raw: dict[str, Any], path: Path) -> ServiceConfig:
    problems: list[tuple[str, str]] = []
    links = _service_block(raw, "links", LinksSchedule, problems)
    outbox = _service_block(raw, "outbox", OutboxTiming, problems) or OutboxTiming()
    service = _service_block(raw, "service", ServiceOptions, problems) or ServiceOptions()
    problems += _source_names(raw.get("sources")) + _store_url(raw.get("store"))
    engine_raw = {k: v for k, v in raw.items() if k not in SERVICE_KEYS}
    try:
        settings = parse_settings(engine_raw, str(path))
    except SettingsError as err:
        raise SettingsError(str(path), problems + err.problems) from None
    if problems:
        raise SettingsError(str(path), problems)
    return ServiceConfig(path=path, settings=settings, raw=raw, links=links, outbox=outbox, service=service)


def load_service_config(option: str | os.PathLike[str] | None = None) -> ServiceConfig:
    """Read and validate slotforce.yml (raises SettingsError naming each bad key path)."""
    path = config_path(option)
    return parse_service_config(read_config(path), path)
