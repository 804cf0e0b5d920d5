"""Webhook signature checks: Cal.com's hex HMAC, Calendly's timestamped HMAC, and our own API's.

Every comparison goes through `hmac.compare_digest` so the time it takes does not tell an attacker
how many leading characters of a forged signature were right. Secrets are passed in by the caller
(read from the environment variables the config names) and never appear in an error message.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping
from datetime import datetime, timedelta

from slotforce.sources.errors import WebhookRejected

CALCOM_HEADER = "X-Cal-Signature-256"
CALENDLY_HEADER = "Calendly-Webhook-Signature"
API_HEADER = "X-Slotforce-Signature-256"

# Calendly's own examples reject signatures older than three minutes; configurable per install.
DEFAULT_REPLAY_WINDOW = timedelta(minutes=3)

# What Cal.com sends in place of a signature when the webhook has no secret set.
_CALCOM_NO_SECRET = "no-secret-provided"


def _same(expected: str, given: str) -> bool:
    """Constant-time comparison of a signature with what the sender gave; any text is a fair input
    (compare_digest refuses non-ASCII str, so both sides are compared as bytes)."""
    return hmac.compare_digest(expected.encode(), given.encode("utf-8", "surrogateescape"))


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header's value, whatever the case of its name (HTTP header names are case-insensitive)."""
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def hmac_sha256_hex(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def _require_secret(secret: str | None, source: str, env_hint: str) -> str:
    if not secret:
        # Accepting unsigned webhooks because the operator forgot a secret would let anyone write
        # to Salesforce, so a missing secret refuses every delivery until it is set.
        raise WebhookRejected(401, f"{source} webhooks cannot be verified: no secret is configured ({env_hint})")
    return secret


def verify_calcom(body: bytes, headers: Mapping[str, str], secret: str | None, *, env_hint: str = "") -> None:
    """Cal.com: `X-Cal-Signature-256` is the lowercase hex HMAC-SHA256 of the raw body, no prefix."""
    secret = _require_secret(secret, "calcom", env_hint or "sources.calcom.secret_env")
    given = header(headers, CALCOM_HEADER)
    if not given:
        raise WebhookRejected(401, f"calcom webhook: the {CALCOM_HEADER} header is missing")
    given = given.strip()
    if given == _CALCOM_NO_SECRET:
        raise WebhookRejected(
            401, f"calcom webhook is unsigned ({CALCOM_HEADER}: {_CALCOM_NO_SECRET}): set the secret on the Cal.com webhook"
        )
    expected = hmac_sha256_hex(secret, body)
    # Cal.com sends bare hex; a proxy or a self-hosted fork that adds "sha256=" is still accepted.
    if not _same(expected, given.lower().removeprefix("sha256=")):
        raise WebhookRejected(401, f"calcom webhook: {CALCOM_HEADER} does not match the body (wrong secret or altered body)")


def _parse_calendly_header(value: str) -> tuple[int, list[str]]:
    timestamp: int | None = None
    signatures: list[str] = []
    for part in value.split(","):
        key, sep, item = part.strip().partition("=")
        if not sep:
            continue
        if key == "t":
            try:
                timestamp = int(item)
            except ValueError:
                raise WebhookRejected(401, f"calendly webhook: {CALENDLY_HEADER} has a non-numeric t= value") from None
        elif key == "v1":
            signatures.append(item.strip().lower())
    if timestamp is None or not signatures:
        raise WebhookRejected(401, f"calendly webhook: {CALENDLY_HEADER} must look like t=<unix time>,v1=<hex>")
    return timestamp, signatures


def verify_calendly(
    body: bytes,
    headers: Mapping[str, str],
    signing_key: str | None,
    *,
    now: datetime | float | None = None,
    replay_window: timedelta = DEFAULT_REPLAY_WINDOW,
    env_hint: str = "",
) -> None:
    """Calendly: `t=<unix>,v1=<hex>` where v1 = HMAC-SHA256(key, f"{t}.{body}"), t within the window."""
    signing_key = _require_secret(signing_key, "calendly", env_hint or "sources.calendly.signing_key_env")
    given = header(headers, CALENDLY_HEADER)
    if not given:
        raise WebhookRejected(401, f"calendly webhook: the {CALENDLY_HEADER} header is missing")
    timestamp, signatures = _parse_calendly_header(given)
    expected = hmac_sha256_hex(signing_key, str(timestamp).encode("ascii") + b"." + body)
    # Check every v1 (there may be several while a key rotates) without stopping early.
    matched = False
    for candidate in signatures:
        matched |= _same(expected, candidate)
    if not matched:
        raise WebhookRejected(
            401, f"calendly webhook: {CALENDLY_HEADER} does not match the body (wrong signing key or altered body)"
        )
    current = _epoch(now)
    age = current - timestamp
    window = replay_window.total_seconds()
    # A signature from the future beyond the window is as suspicious as an old one: clocks differ by
    # seconds, not minutes.
    if abs(age) > window:
        raise WebhookRejected(
            401,
            f"calendly webhook: signature timestamp is {int(age)} s from now, outside the {int(window)} s replay window"
            " (a replayed delivery, or a clock out of sync)",
        )


def verify_api(body: bytes, headers: Mapping[str, str], secret: str | None, *, env_hint: str = "") -> None:
    """Our generic API: `X-Slotforce-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>` (prefix optional)."""
    secret = _require_secret(secret, "api", env_hint or "sources.api.secret_env")
    given = header(headers, API_HEADER)
    if not given:
        raise WebhookRejected(401, f"api webhook: the {API_HEADER} header is missing")
    given = given.strip().lower().removeprefix("sha256=")
    if not _same(hmac_sha256_hex(secret, body), given):
        raise WebhookRejected(401, f"api webhook: {API_HEADER} does not match the body (wrong secret or altered body)")


def _epoch(now: datetime | float | None) -> float:
    if now is None:
        return time.time()
    if isinstance(now, datetime):
        return now.timestamp()
    return float(now)


def sign_calcom(secret: str, body: bytes) -> dict[str, str]:
    """Headers Cal.com would send with `body`: for tests, fixtures and the demo."""
    return {CALCOM_HEADER: hmac_sha256_hex(secret, body)}


def sign_calendly(signing_key: str, body: bytes, *, timestamp: int | None = None) -> dict[str, str]:
    """Headers Calendly would send with `body` at `timestamp` (default: now)."""
    t = int(time.time()) if timestamp is None else int(timestamp)
    return {CALENDLY_HEADER: f"t={t},v1={hmac_sha256_hex(signing_key, str(t).encode('ascii') + b'.' + body)}"}


def sign_api(secret: str, body: bytes) -> dict[str, str]:
    """Headers a client of our generic API sends with `body`."""
    return {API_HEADER: "sha256=" + hmac_sha256_hex(secret, body)}
