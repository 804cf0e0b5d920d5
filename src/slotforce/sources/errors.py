"""Why a webhook was refused: one error type the HTTP service turns into a status code."""

from __future__ import annotations


class WebhookRejected(Exception):
    """A webhook we will not store.

    `status` is the HTTP status the service answers with: 400 (the body is not a booking change we
    can read), 401 (the signature is missing, wrong, stale, or no secret is configured to check it),
    413 (the body is larger than the configured limit). `reason` says what is wrong and where, in
    words fit for the sender's webhook log; it never contains a secret.
    """

    def __init__(self, status: int, reason: str) -> None:
        if status not in (400, 401, 413):
            raise ValueError(f"WebhookRejected status must be 400, 401 or 413, not {status}")
        super().__init__(f"{status}: {reason}")
        self.status = status
        self.reason = reason

    def __repr__(self) -> str:
        return f"WebhookRejected(status={self.status}, reason={self.reason!r})"


def bad_payload(source: str, where: str, problem: str) -> WebhookRejected:
    """A 400 that names the source, the JSON path and what is wrong with it."""
    return WebhookRejected(400, f"{source} webhook: {where}: {problem}")
