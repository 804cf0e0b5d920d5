"""Webhook sources: check a delivery's signature and size, then turn it into booking changes.

    changes = slotforce.sources.parse("calcom", body, headers, secrets={"calcom": "..."})

`parse` raises `WebhookRejected(status, reason)` (400 unreadable, 401 unsigned or wrongly signed,
413 too large) and otherwise returns a list of `BookingChange` (maybe empty, with `.note` saying
why: e.g. an event slotforce does not sync). `intake.receive` parses and stores in the outbox.
"""

from __future__ import annotations

from slotforce.sources.delivery import (
    DEFAULT_MAX_BODY_BYTES, DEFAULT_SECRET_ENV, SOURCES, options_for, parse, secret_env_names, secrets_from_env,
)
from slotforce.sources.errors import WebhookRejected
from slotforce.sources.intake import receive
from slotforce.sources.payload import ParsedChanges
from slotforce.sources.signatures import DEFAULT_API_REPLAY_WINDOW, DEFAULT_REPLAY_WINDOW, sign_api, sign_calcom, sign_calendly

__all__ = [
    "DEFAULT_API_REPLAY_WINDOW",
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_REPLAY_WINDOW",
    "DEFAULT_SECRET_ENV",
    "SOURCES",
    "ParsedChanges",
    "WebhookRejected",
    "options_for",
    "parse",
    "receive",
    "secret_env_names",
    "secrets_from_env",
    "sign_api",
    "sign_calcom",
    "sign_calendly",
]
