"""Webhook signature checks: Cal.com's hex HMAC; Calendly's and our own API's timestamped HMACs.

Every comparison goes through `hmac.compare_digest` so the time it takes does not tell an attacker
how many leading characters of a forged signature were right. Secrets are passed in by the caller
(read from the environment variables the config names) and never appear in an error message.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from slotforce.sources.errors import WebhookRejected

CALCOM_HEADER = "X-Cal-Signature-256"
CALENDLY_HEADER = "Calendly-Webhook-Signature"
API_HEADER = "X-Slotforce-Signature"
# The api source's first scheme (an HMAC of the body alone, so a captured delivery could be replayed
# forever). It is refused with a 401 that names the new header, never checked.
RETIRED_API_HEADER = "X-Slotforce-Signature-256"

# Calendly's own examples reject signatures older than three minutes; configurable per install.
DEFAULT_REPLAY_WINDOW = timedelta(minutes=3)
# Our own API's window (`sources.api.replay_window_seconds`): Stripe's default tolerance.
DEFAULT_API_REPLAY_WINDOW = timedelta(minutes=5)

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


def _parse_timestamped(value: str, source: str, name: str) -> tuple[int, list[str]]:
    """`t=<unix>,v1=<hex>[,v1=<hex>...]` -> (t, the v1 values)."""
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
                raise WebhookRejected(401, f"{source} webhook: {name} has a non-numeric t= value") from None
        elif key == "v1":
            signatures.append(item.strip().lower())
    if timestamp is None or not signatures:
        raise WebhookRejected(401, f"{source} webhook: {name} must look like t=<unix time>,v1=<hex>")
    return timestamp, signatures


def _verify_timestamped(
    source: str, name: str, body: bytes, headers: Mapping[str, str], secret: str, *,
    now: datetime | float | None, replay_window: timedelta, wrong_secret: str,
) -> None:
    """`name: t=<unix>,v1=<hex>` where v1 = HMAC-SHA256(secret, f"{t}.{body}") and t is within the window."""
    given = header(headers, name)
    if not given:
        raise WebhookRejected(401, f"{source} webhook: the {name} header is missing")
    timestamp, signatures = _parse_timestamped(given, source, name)
    expected = hmac_sha256_hex(secret, str(timestamp).encode("ascii") + b"." + body)
    # Check every v1 (there may be several while a key rotates) without stopping early.
    matched = False
    for candidate in signatures:
        matched |= _same(expected, candidate)
    if not matched:
        raise WebhookRejected(401, f"{source} webhook: {name} does not match the body ({wrong_secret} or altered body)")
    age = _epoch(now) - timestamp
    window = replay_window.total_seconds()
    # A signature from the future beyond the window is as suspicious as an old one: clocks differ by
    # seconds, not minutes.
    if abs(age) > window:
        raise WebhookRejected(
            401,
            f"{source} webhook: signature timestamp is {int(age)} s from now, outside the {int(window)} s replay window"
            " (a replayed delivery, or a clock out of sync)",
        )


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
    _verify_timestamped("calendly", CALENDLY_HEADER, body, headers, signing_key, now=now,
                        replay_window=replay_window, wrong_secret="wrong signing key")


def verify_api(
    body: bytes,
    headers: Mapping[str, str],
    secret: str | None,
    *,
    now: datetime | float | None = None,
    replay_window: timedelta = DEFAULT_API_REPLAY_WINDOW,
    env_hint: str = "",
) -> None:
    """Our generic API: `X-Slotforce-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "{t}.{body}">`, t within
    the replay window (default 300 s); several v1= are allowed while the sender rotates its secret."""
    secret = _require_secret(secret, "api", env_hint or "sources.api.secret_env")
    if header(headers, API_HEADER) is None and header(headers, RETIRED_API_HEADER) is not None:
        raise WebhookRejected(
            401, f"api webhook: {RETIRED_API_HEADER} is no longer accepted (it could be replayed): sign with "
                 f'{API_HEADER}: t=<unix time>,v1=<hex HMAC-SHA256 of "{{t}}.{{body}}">',
        )
    _verify_timestamped("api", API_HEADER, body, headers, secret, now=now, replay_window=replay_window,
                        wrong_secret="wrong secret")


def _epoch(now: datetime | float | None) -> float:
    if now is None:
        return time.time()
    if isinstance(now, datetime):
        return now.timestamp()
    return float(now)


def sign_calcom(secret: str, body: bytes) -> dict[str, str]:
    """Headers Cal.com would send with `body`: for tests, fixtures and the demo."""
    return {CALCOM_HEADER: hmac_sha256_hex(secret, body)}


def _timestamped(secrets: Sequence[str], body: bytes, timestamp: int | None) -> str:
    t = int(time.time()) if timestamp is None else int(timestamp)
    signed = str(t).encode("ascii") + b"." + body
    return ",".join([f"t={t}"] + [f"v1={hmac_sha256_hex(s, signed)}" for s in secrets])


def sign_calendly(signing_key: str, body: bytes, *, timestamp: int | None = None) -> dict[str, str]:
    """Headers Calendly would send with `body` at `timestamp` (default: now)."""
    return {CALENDLY_HEADER: _timestamped([signing_key], body, timestamp)}


def sign_api(secret: str | Sequence[str], body: bytes, *, timestamp: int | None = None) -> dict[str, str]:
    """Headers a client of our generic API sends with `body` at `timestamp` (default: now); given
    several secrets (a rotation: the old and the new), one v1= per secret."""
    return {API_HEADER: _timestamped([secret] if isinstance(secret, str) else list(secret), body, timestamp)}
