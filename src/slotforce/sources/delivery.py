"""Check one delivery (source, size, signature, JSON, shape) and read its booking changes: `parse`."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from datetime import datetime, timedelta
from types import ModuleType
from typing import Any

from pydantic import ValidationError

from slotforce.sources import calcom, calendly, generic
from slotforce.sources.errors import WebhookRejected
from slotforce.sources.payload import ParsedChanges

SOURCES: dict[str, ModuleType] = {"calcom": calcom, "calendly": calendly, "api": generic}

DEFAULT_MAX_BODY_BYTES = 1024 * 1024  # a booking is a few kB; a megabyte is a mistake or an attack

# Config key naming the env var, and the env var used when slotforce.yml does not name one.
DEFAULT_SECRET_ENV: dict[str, tuple[str, str]] = {
    "calcom": ("secret_env", "CALCOM_WEBHOOK_SECRET"),
    "calendly": ("signing_key_env", "CALENDLY_SIGNING_KEY"),
    "api": ("secret_env", "SLOTFORCE_API_SECRET"),
}


def secret_env_names(sources: Mapping[str, Any] | None = None) -> dict[str, str]:
    """The env var holding each source's secret: the one its config names (`sources.calcom.secret_env`,
    `sources.calendly.signing_key_env`, `sources.api.secret_env`) or the default name."""
    sources = sources or {}
    return {source: _setting(sources.get(source), key) or default_env
            for source, (key, default_env) in DEFAULT_SECRET_ENV.items()}


def secrets_from_env(sources: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None) -> dict[str, str | None]:
    """Each source's secret, read from the env var `secret_env_names` gives (None when unset or empty)."""
    environ = os.environ if environ is None else environ
    return {source: environ.get(env_name) or None for source, env_name in secret_env_names(sources).items()}


def _setting(config: Any, key: str) -> Any:
    """A key of one `sources.<name>` block, given as the YAML mapping or as the settings model."""
    if config is None:
        return None
    return config.get(key) if isinstance(config, Mapping) else getattr(config, key, None)


def options_for(source: str, sources: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """`parse` keyword options from slotforce.yml: `sources.<name>.max_body_bytes` (default 1 MiB)
    and `sources.<calendly|api>.replay_window_seconds` (default 180 and 300), when the config has them."""
    config = (sources or {}).get(source)
    options: dict[str, Any] = {}
    if (limit := _setting(config, "max_body_bytes")) is not None:
        options["max_body_bytes"] = int(limit)
    if (window := _setting(config, "replay_window_seconds")) is not None:
        options["replay_window"] = timedelta(seconds=float(window))
    return options


def parse(
    source: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    secrets: Mapping[str, str | None] | None,
    now: datetime | float | None = None,
    verify: bool = True,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    replay_window: timedelta | None = None,
) -> ParsedChanges:
    """Check and read one delivery. `verify=False` skips the signature check: only for trusted local
    input such as files given to `slotforce ingest`, never for anything that came over the network.
    `replay_window` left out is each timestamped source's own default (Calendly 180 s, api 300 s)."""
    adapter = SOURCES.get(source)
    if adapter is None:
        raise WebhookRejected(400, f"unknown webhook source {source!r}: expected one of {', '.join(SOURCES)}")
    if len(body) > max_body_bytes:
        raise WebhookRejected(413, f"{source} webhook: body is {len(body)} bytes, over the {max_body_bytes}-byte limit")
    if verify:
        window = {} if replay_window is None else {"replay_window": replay_window}
        adapter.verify(body, headers, (secrets or {}).get(source), now=now, **window)
    try:
        document = json.loads(body)
    except RecursionError:
        raise WebhookRejected(400, f"{source} webhook: body is JSON nested too deeply to be a booking") from None
    except (UnicodeDecodeError, json.JSONDecodeError, ValueError) as exc:  # ValueError: an over-long integer
        hint = " (a Cal.com custom payload template replaces the JSON body: remove it)" if source == "calcom" else ""
        raise WebhookRejected(400, f"{source} webhook: body is not JSON: {exc}{hint}") from None
    try:
        return adapter.changes(document)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "booking"
        raise WebhookRejected(400, f"{source} webhook: {where}: {first['msg']}") from None
