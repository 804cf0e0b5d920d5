"""Webhook sources: check a delivery's signature and size, then turn it into booking changes.

    changes = slotforce.sources.parse("calcom", body, headers, secrets={"calcom": "..."})

`parse` raises `WebhookRejected(status, reason)` (400 unreadable, 401 unsigned or wrongly signed,
413 too large) and otherwise returns a list of `BookingChange` (maybe empty, with `.note` saying
why: e.g. an event slotforce does not sync). `intake.receive` parses and stores in the outbox.

Scheduling links from the tools' APIs: `pull_links(LinkApi("calendly", token_env=...))` returns
`PulledLinks` (Calendly v2 in calendly_api.py, Cal.com v2 in calcom_api.py, HTTP in link_http.py);
it raises `LinkApiError` (`TokenMissing` when the token variable is unset).
"""

from __future__ import annotations

from slotforce.sources.delivery import (
    DEFAULT_MAX_BODY_BYTES, DEFAULT_SECRET_ENV, SOURCES, options_for, parse, secret_env_names, secrets_from_env,
)
from slotforce.sources.errors import WebhookRejected
from slotforce.sources.intake import Prepared, prepare, receive
from slotforce.sources.link_apis import LINK_APIS, LinkApi, pull_links
from slotforce.sources.link_http import LinkApiError, TokenMissing
from slotforce.sources.payload import ParsedChanges
from slotforce.sources.pulled import PulledLinks
from slotforce.sources.signatures import (
    DEFAULT_API_REPLAY_WINDOW, DEFAULT_REPLAY_WINDOW, sign_api, sign_calcom, sign_calendly,
)

__all__ = [
    "DEFAULT_API_REPLAY_WINDOW",
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_REPLAY_WINDOW",
    "DEFAULT_SECRET_ENV",
    "LINK_APIS",
    "SOURCES",
    "LinkApi",
    "LinkApiError",
    "ParsedChanges",
    "Prepared",
    "PulledLinks",
    "TokenMissing",
    "WebhookRejected",
    "options_for",
    "parse",
    "prepare",
    "pull_links",
    "receive",
    "secret_env_names",
    "secrets_from_env",
    "sign_api",
    "sign_calcom",
    "sign_calendly",
]
