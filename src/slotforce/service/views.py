"""JSON views of the outbox: one booking's changes (`GET /bookings/{uid}`) and `GET /status.json`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from slotforce.service.activity import RecentActivity
from slotforce.service.org_watch import DailyApiRequests
from slotforce.service.record_links import outcome_urls
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


def activity_json(activity: RecentActivity, now: datetime) -> dict[str, Any]:
    """The chart's minutes, the counts per event type and the oldest pending change."""
    age = activity.oldest_pending_age(now)
    return {
        "hours": activity.hours, "since": _time(activity.since),
        "minutes": [{"at": _time(m.at), "accepted": m.accepted, "landed": m.landed, "failed": m.failed}
                    for m in activity.minutes],
        "event_types": [{"event_type": t.event_type, "accepted": t.accepted, "landed": t.landed, "failed": t.failed,
                         "pending": t.pending, "oldest_pending_at": _time(t.oldest_pending_at)}
                        for t in activity.event_types],
        "oldest_pending_at": _time(activity.oldest_pending_at),
        "oldest_pending_seconds": round(age.total_seconds()) if age is not None else None,
    }


def api_requests_json(seen: DailyApiRequests | None) -> dict[str, Any] | None:
    if seen is None:
        return None
    return {"used": seen.used, "max": seen.max, "remaining": seen.remaining,
            "percent_used": round(seen.percent_used, 1), "seen_at": _time(seen.seen_at)}


def status_json(context: dict[str, Any]) -> dict[str, Any]:
    """What the status page shows, as JSON (Service.status_context)."""
    budget, links, worker = context["budget_wait"], context["links"], context["worker"]
    instance_url = context["instance_url"]
    return {
        "now": _time(context["now"]), "started_at": _time(context["started_at"]),
        "depth": context["depth"], "counts": context["counts"],
        "worker": {"alive": worker["alive"], "last_batch_at": _time(worker["last_batch_at"]),
                   "last_error": worker["last_error"]},
        "budget_wait": {"items": budget.items, "next_try_at": _time(budget.next_try_at)} if budget else None,
        "activity": activity_json(context["activity"], context["now"]),
        "api_requests": api_requests_json(context["api_requests"]),
        "instance_url": instance_url,
        "recent": [{**change_json(i), "record_urls": outcome_urls(i.outcome, instance_url)}
                   for i in context["recent"]],
        "errors": [{"event_type": e.event_type, "code": e.code, "message": e.message, "at": _time(e.at),
                    "item_id": e.item_id} for e in context["errors"]],
        "traces": [{"booking_uid": uid, "entries": [{"at": _time(t.at), "action_key": t.action_key, "steps": t.steps}
                                                    for t in entries]} for uid, entries in context["traces"]],
        "links": {"last_run_at": _time(links.last_run_at), "last_result": links.last_result} if links else None,
    }


def orgs_json(lines: list[dict[str, Any]]) -> dict[str, Any]:
    """`GET /status.json` of a many-org deployment: each org's queue and health (Service.orgs_summary)."""
    return {"orgs": [{**line, "salesforce_failing_since": _time(line["salesforce_failing_since"]),
                      "status_url": f"/status.json?org={line['org']}"} for line in lines]}
