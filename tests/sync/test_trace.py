"""Trace and sync-error stores, and what `slotforce trace` / `slotforce errors` print."""

import pytest

from slotforce.sync.trace import MemoryTraceStore, SqliteTraceStore, SyncError, TraceStep, render_errors, render_trace


@pytest.fixture(params=["memory", "sqlite"])
def store(request, tmp_path):
    return MemoryTraceStore() if request.param == "memory" else SqliteTraceStore(str(tmp_path / "t.db"))


def test_traces_kept_per_booking_and_replaced_per_action(store):
    store.save_trace("bk-1", "calcom:bk-1:Created:0", [TraceStep("a", {"x": 1})])
    store.save_trace("bk-1", "calcom:bk-1:Created:0", [TraceStep("b", {"x": 2})])  # replay
    store.save_trace("bk-1", "calcom:bk-1:Canceled:0", [TraceStep("c")])
    traces = store.traces("bk-1")
    assert [t.action_key for t in traces] == ["calcom:bk-1:Created:0", "calcom:bk-1:Canceled:0"]
    assert traces[0].steps == (TraceStep("b", {"x": 2}),)
    text = render_trace("bk-1", traces)
    assert "1. b (x=2)" in text and "calcom:bk-1:Canceled:0" in text
    assert "No trace" in render_trace("bk-2", store.traces("bk-2"))


def test_last_error_per_event_type(store):
    store.record_error(SyncError("demo", "INVALID_FIELD", "first"))
    store.record_error(SyncError("demo", "STRING_TOO_LONG", "second", ("Notes__c",), "bk-1"))
    store.record_error(SyncError("default", "FLOW_FAILED", "x"))
    errors = store.last_errors()
    assert [(e.event_type, e.code) for e in errors] == [("default", "FLOW_FAILED"), ("demo", "STRING_TOO_LONG")]
    assert errors[1].dropped_fields == ("Notes__c",)
    text = render_errors(errors)
    assert "dropped fields: Notes__c" in text and "(booking bk-1)" in text
    assert render_errors([]) == "No sync errors."
