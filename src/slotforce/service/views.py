"""JSON views of the outbox: one booking's changes (`GET /bookings/{uid}`) and `GET /status.json`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from slotforce.store import OutboxItem, State


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def change_json(item: OutboxItem) -> dict[str, Any]:
    """One booking change as the outbox knows it, with what Salesforce answered."""
    outcome = item.outcome or {}
    return {
        "id": item.id, "action": item.action, "state": item.state.value, "attempts": item.attempts,
        "error": item.last_error, "error_code": item.last_error_code,
        "booking_action_id": outcome.get("booking_action_id"), "event_id": outcome.get("event_id"),
        "who_id": outcome.get("who_id"), "outcome": outcome.get("status"), "reason": outcome.get("reason"),
        "booking_uid": item.booking_uid, "previous_booking_uid": item.previous_booking_uid,
        "source": item.source, "event_type": item.event_type, "action_key": item.dedupe_key,
        "received_at": _time(item.created_at), "updated_at": _time(item.updated_at),
        "next_attempt_at": _time(item.available_at) if item.state is State.PENDING else None,
    }


def booking_json(uid: str, items: list[OutboxItem]) -> dict[str, Any]:
    """`{"booking_uid", "changes": [...]}`, oldest change first (the order they are sent in)."""
    return {"booking_uid": uid, "changes": [change_json(i) for i in sorted(items, key=lambda i: i.id)]}


def status_json(context: dict[str, Any]) -> dict[str, Any]:
    """What the status page shows, as JSON (Service.status_context)."""
    budget, links, worker = context["budget_wait"], context["links"], context["worker"]
    return {
        "now": _time(context["now"]), "started_at": _time(context["started_at"]),
        "depth": context["depth"], "counts": context["counts"],
        "worker": {"alive": worker["alive"], "last_batch_at": _time(worker["last_batch_at"]),
                   "last_error": worker["last_error"]},
        "budget_wait": {"items": budget.items, "next_try_at": _time(budget.next_try_at)} if budget else None,
        "recent": [change_json(i) for i in context["recent"]],
        "errors": [{"event_type": e.event_type, "code": e.code, "message": e.message, "at": _time(e.at),
                    "item_id": e.item_id} for e in context["errors"]],
        "traces": [{"booking_uid": uid, "entries": [{"at": _time(t.at), "action_key": t.action_key, "steps": t.steps}
                                                    for t in entries]} for uid, entries in context["traces"]],
        "links": {"last_run_at": _time(links.last_run_at), "last_result": links.last_result} if links else None,
    }
