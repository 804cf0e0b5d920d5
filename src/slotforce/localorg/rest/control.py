"""Control and observation routes under /__localorg__/ (outside /services: never billed).

    GET    /__localorg__/stats                 API calls (total, by kind), last transaction's counters
    POST   /__localorg__/reset                 delete all records except seed data, zero counters, clear faults
    GET    /__localorg__/faults                active fault rules
    POST   /__localorg__/faults                add a rule (see faults.py)
    DELETE /__localorg__/faults                clear all rules
    POST   /__localorg__/budget                {"daily_max": N, "used": N} set the daily API request budget
    POST   /__localorg__/budget/reset          a new day: used = 0
    POST   /__localorg__/leads/{id}/convert    {"accountId"?, "contactId"?, "convertedStatus"?} convert a Lead
    GET    /__localorg__/clock                 {"now", "mode": "real"|"frozen", "paths": scheduled flow paths waiting}
    POST   /__localorg__/clock                 {"set": ISO time} freezes the clock there, {"advance": {"days"?,
                                               "hours"?, "minutes"?, "seconds"?}} moves it on, {"mode": "real"}
                                               lets it run; then runs the paths that fell due ("ran": N)
    GET    /__localorg__/emails                mail automation would have sent (kept, never delivered), oldest first
    DELETE /__localorg__/emails                forget the kept mail
    GET    /__localorg__/events                platform events flows published (kept, delivered to no one)
    DELETE /__localorg__/events                forget them
"""

from __future__ import annotations

import datetime as dt
import json

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from slotforce.localorg import emails, errors, events
from slotforce.localorg.errors import SalesforceError
from slotforce.localorg.faults import Faults
from slotforce.localorg.models import Org
from slotforce.localorg.rest import auth

JSON = "application/json;charset=UTF-8"


def _json(body, status: int = 200) -> Response:
    return Response(json.dumps(body), status_code=status, media_type=JSON)


def routes(org: Org, faults: Faults) -> list[Route]:
    def guarded(fn):
        async def endpoint(request: Request) -> Response:
            if not auth.authorized(org, request):
                return auth.invalid_session()
            try:
                return await fn(request)
            except SalesforceError as exc:
                return _json([exc.to_json()], exc.status)
            except (ValueError, TypeError) as exc:
                bad = errors.InvalidInput(str(exc))
                return _json([bad.to_json(code_first=True)], bad.status)
        return endpoint

    async def body_of(request: Request) -> dict:
        raw = await request.body()
        if not raw:
            return {}
        data = json.loads(raw)
        if not isinstance(data, dict):
            raise ValueError("the body must be a JSON object")
        return data

    async def stats(request: Request) -> Response:
        return _json(org.stats())

    async def reset(request: Request) -> Response:
        org.reset()
        faults.clear()
        if org.flows is not None:
            org.flows.clear_paths()
        return _json({"reset": True})

    async def fault_rules(request: Request) -> Response:
        if request.method == "DELETE":
            faults.clear()
            return Response(status_code=204)
        if request.method == "GET":
            return _json(faults.rules())
        rule = faults.add(**await body_of(request))
        return _json(rule.to_json(), 201)

    async def budget(request: Request) -> Response:
        data = await body_of(request)
        org.set_api_budget(daily_max=data.get("daily_max"), used=data.get("used"))
        return _json(org.stats()["api_usage"])

    async def budget_reset(request: Request) -> Response:
        org.set_api_budget(used=0)
        return _json(org.stats()["api_usage"])

    async def convert(request: Request) -> Response:
        data = await body_of(request)
        result = org.convert_lead(request.path_params["lead_id"], account_id=data.get("accountId"),
                                  contact_id=data.get("contactId"), converted_status=data.get("convertedStatus"))
        return _json(result)

    def clock_state(ran: int | None = None) -> dict:
        state = org.clock.to_json()
        state["paths"] = org.flows.waiting_paths() if org.flows is not None else []
        if ran is not None:
            state["ran"] = ran
        return state

    async def clock(request: Request) -> Response:
        if request.method == "GET":
            return _json(clock_state())
        data = await body_of(request)
        unknown = set(data) - {"set", "advance", "mode"}
        if unknown or not data:
            raise ValueError(f"give one of set, advance, mode (unknown: {', '.join(sorted(unknown))})")
        by = data.get("advance", {})
        if not isinstance(by, dict) or set(by) - {"days", "hours", "minutes", "seconds"}:
            raise ValueError("advance takes {\"days\", \"hours\", \"minutes\", \"seconds\"}")
        if data.get("mode", "real") != "real":
            raise ValueError("mode is \"real\" (set freezes the clock)")
        when = dt.datetime.fromisoformat(str(data["set"]).replace("Z", "+00:00")) if "set" in data else None
        with org.lock:  # moved and run at once: the real-time runner never sees the clock in between
            if when is not None:
                org.clock.set(when)
            if by:
                org.clock.advance(dt.timedelta(**{k: float(v) for k, v in by.items()}))
            if "mode" in data:
                org.clock.run_in_real_time()
            ran = org.flows.run_due() if org.flows is not None else 0
            return _json(clock_state(ran))

    async def sent_mail(request: Request) -> Response:
        with org.lock:
            if request.method == "DELETE":
                emails.clear(org.conn)
                return Response(status_code=204)
            return _json({"emails": emails.sent(org.conn)})

    async def published(request: Request) -> Response:
        with org.lock:
            if request.method == "DELETE":
                events.clear(org.conn)
                return Response(status_code=204)
            return _json({"events": events.sent(org.conn)})

    return [
        Route("/__localorg__/stats", guarded(stats), methods=["GET"]),
        Route("/__localorg__/events", guarded(published), methods=["GET", "DELETE"]),
        Route("/__localorg__/clock", guarded(clock), methods=["GET", "POST"]),
        Route("/__localorg__/emails", guarded(sent_mail), methods=["GET", "DELETE"]),
        Route("/__localorg__/reset", guarded(reset), methods=["POST"]),
        Route("/__localorg__/faults", guarded(fault_rules), methods=["GET", "POST", "DELETE"]),
        Route("/__localorg__/budget", guarded(budget), methods=["POST"]),
        Route("/__localorg__/budget/reset", guarded(budget_reset), methods=["POST"]),
        Route("/__localorg__/leads/{lead_id}/convert", guarded(convert), methods=["POST"]),
    ]
