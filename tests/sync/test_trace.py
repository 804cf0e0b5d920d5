"""The routing trace: steps in order, printed for `slotforce trace`, kept as JSON by the outbox."""

from slotforce.sync.trace import Trace, TraceStep


def test_steps_keep_their_order_and_are_found_by_name():
    trace = Trace()
    trace.add("account_found_by_website", accountId="001A", website="acme.com")
    trace.add("owner_kept")
    trace.add("account_found_by_website", accountId="001B", website="acme.io")
    assert [s.step for s in trace] == ["account_found_by_website", "owner_kept", "account_found_by_website"]
    assert [s.detail["accountId"] for s in trace.steps("account_found_by_website")] == ["001A", "001B"]
    assert trace.steps("never") == []


def test_a_step_prints_its_facts_and_shortens_long_lists():
    assert str(TraceStep("owner_kept")) == "owner_kept"
    assert str(TraceStep("candidates", {"ids": list("abcdefgh"), "n": 8})) == "candidates (ids=[a, b, c, d, e, f, ...], n=8)"


def test_as_json_is_what_the_outbox_keeps():
    trace = Trace()
    trace.add("a", x=1)
    trace.add("b")
    assert trace.as_json() == [{"step": "a", "detail": {"x": 1}}, {"step": "b", "detail": {}}]
