"""slotforce.yml as the service reads it: the engine's Settings plus the keys only the service uses.

The engine's `Settings` model refuses unknown keys, and it does not know `links:` (the hourly link
sync the service runs), `outbox:` (leases, timeouts, backoff: `slotforce.store.timing`) or
`service:` (the HTTP service's own options: access token, health thresholds). So the
service takes those out, validates each with its own small model, and hands the rest to `slotforce.sync.settings.parse_settings` unchanged. Relative paths in the
file (the local org's state dir, the links file, the store) are relative to slotforce.yml's folder,
so the commands behave the same from any working directory.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from slotforce.store import Outbox, OutboxTiming, open_store
from slotforce.sync import Settings, SettingsError, parse_settings, read_config_yaml
from slotforce.yamlfile import config_path, validation_problems

# Keys of slotforce.yml that belong to the service, not to the engine's Settings model.
SERVICE_KEYS = ("links", "outbox", "service")


class LinksSchedule(BaseModel):
    """`links: {file: links.yml, every_minutes: 60}`: `serve` syncs the file this often."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    file: str = Field(min_length=1)
    every_minutes: float = Field(default=60, gt=0)


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
        return self.resolve(self.links.file) if self.links else None

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
        problems += validation_problems(err, (key,), unknown_key=f"unknown key ({key} takes {', '.join(model.model_fields)})")
        return None


def parse_service_config(raw: dict[str, Any], path: Path) -> ServiceConfig:
    problems: list[tuple[str, str]] = []
    links = _service_block(raw, "links", LinksSchedule, problems)
    outbox = _service_block(raw, "outbox", OutboxTiming, problems) or OutboxTiming()
    service = _service_block(raw, "service", ServiceOptions, problems) or ServiceOptions()
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
