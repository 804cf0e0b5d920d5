"""Any bytes, any headers, any shape in any field: every source answers a change, 400, 401 or 413 —
never an exception (which the service would turn into a 500, and Cal.com and Calendly retry 5xx).

Property-based (hypothesis): random bodies and header values, and real fixtures with one value
anywhere replaced by something of another type, size or depth.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slotforce.sources import SOURCES, WebhookRejected, parse, sign_api, sign_calcom, sign_calendly

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "webhooks"
DOCUMENTS = {p.relative_to(FIXTURES).as_posix(): json.loads(p.read_text()) for p in sorted(FIXTURES.glob("*/*.json"))}
SECRETS = {"calcom": "calcom-secret", "calendly": "calendly-key", "api": "api-secret"}
HEADERS = ["X-Cal-Signature-256", "Calendly-Webhook-Signature", "X-Slotforce-Signature", "Content-Type"]
CHECKS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# JSON values a sender might put anywhere: wrong types, huge numbers, odd text, deep nesting.
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=10 ** 300, max_value=10 ** 400),
    st.floats(allow_nan=False), st.text(max_size=40),
    st.sampled_from(["", "0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "2026-01-01T10:00:00",
                     "not a time", "\ud800", "x" * 5000, "00Q000000000001AAA", "integrations:daily"]),
)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                      max_leaves=12)


def answer(source: str, body: bytes, headers: dict[str, str], *, verify: bool) -> int:
    """202 for changes (or none), the refusal's status otherwise; any other exception fails the test."""
    try:
        parse(source, body, headers, secrets=SECRETS, verify=verify)
    except WebhookRejected as refused:
        assert refused.status in (400, 401, 413), refused
        assert refused.reason  # says why
        return refused.status
    return 202


def paths(node, prefix=()):
    """Every place in a JSON document: (path to it, its value)."""
    yield prefix, node
    if isinstance(node, dict):
        for k, v in node.items():
            yield from paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from paths(v, prefix + (i,))


def replaced(document, path, value):
    doc = copy.deepcopy(document)
    if not path:
        return value
    target = doc
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return doc


@CHECKS
@given(source=st.sampled_from(sorted(SOURCES)), body=st.binary(max_size=300),
       headers=st.dictionaries(st.sampled_from(HEADERS), st.text(max_size=60), max_size=3))
def test_any_bytes_and_headers(source, body, headers):
    answer(source, body, headers, verify=True)
    answer(source, body, headers, verify=False)


@CHECKS
@given(name=st.sampled_from(sorted(DOCUMENTS)), data=st.data(), value=values)
def test_any_value_anywhere_in_a_real_payload(name, data, value):
    source = name.split("/", 1)[0]
    document = DOCUMENTS[name]
    path, _ = data.draw(st.sampled_from(list(paths(document))))
    body = json.dumps(replaced(document, path, value), ensure_ascii=False).encode("utf-8", "surrogatepass")
    answer(source, body, {}, verify=False)
    signers = {"calcom": lambda b: sign_calcom(SECRETS["calcom"], b),
               "calendly": lambda b: sign_calendly(SECRETS["calendly"], b),
               "api": lambda b: sign_api(SECRETS["api"], b)}
    answer(source, body, signers[source](body), verify=True)  # signed: the body itself is judged


def test_nesting_deeper_than_any_booking_is_a_400():
    deep = b"[" * 5000 + b"]" * 5000
    assert {answer(s, deep, {}, verify=False) for s in SOURCES} == {400}


def test_the_cases_once_measured_as_500s_are_400s_naming_the_field():
    cal = copy.deepcopy(DOCUMENTS["calcom/booking_created_new_lead.json"])
    for key, value, where in (("startTime", "0001-01-01T00:00:00+05:00", "start"), ("responses", [1], "payload.responses"),
                              ("customInputs", [1], "payload.customInputs"), ("tracking", [1], "payload.tracking")):
        body = json.dumps(replaced(cal, ("payload", key), value)).encode()
        try:
            parse("calcom", body, {}, secrets=None, verify=False)
        except WebhookRejected as refused:
            assert refused.status == 400 and where in refused.reason, refused.reason
        else:
            raise AssertionError(f"{key}={value!r} was accepted")
    api = dict(DOCUMENTS["api/booking_created.json"], start=123)
    try:
        parse("api", json.dumps(api).encode(), {}, secrets=None, verify=False)
    except WebhookRejected as refused:
        assert "start" in refused.reason and "ISO 8601 text" in refused.reason
    else:
        raise AssertionError("start: 123 was read as a time")
    assert answer("calcom", b"{}", {"X-Cal-Signature-256": "sha256=é"}, verify=True) == 401
    for field, value in (("answers", False), ("attendee", {"email": ["a@b.c"]})):  # found by the property test
        assert answer("api", json.dumps(dict(DOCUMENTS["api/booking_created.json"], **{field: value})).encode(), {},
                      verify=False) == 400
