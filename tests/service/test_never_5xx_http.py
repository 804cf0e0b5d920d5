"""The webhook endpoint, driven with random bodies and header values (hypothesis): 202, 400, 401 or
413 — never 5xx — and a refused delivery leaves nothing in the outbox."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from slotforce.service.app import Service, build_app
from slotforce.service.config import load_service_config
from slotforce.testing import write_config

HEADERS = ["X-Cal-Signature-256", "Calendly-Webhook-Signature", "X-Slotforce-Signature", "Content-Type",
           "Content-Length-Extra"]
# header values as bytes an HTTP client can send: any latin-1 text without line breaks
header_text = st.text(st.characters(min_codepoint=32, max_codepoint=255, blacklist_characters="\x7f"), max_size=80)


@pytest.fixture(scope="module")
def client(tmp_path_factory, packaged_org):
    folder = tmp_path_factory.mktemp("never5xx")
    config = write_config(folder, packaged_org, sources={"calcom": {"secret_env": "NEVER5XX_CALCOM"},
                                                         "calendly": {"signing_key_env": "NEVER5XX_CALENDLY"},
                                                         "api": {"secret_env": "NEVER5XX_API"}})
    with pytest.MonkeyPatch.context() as env:
        for name, secret in (("NEVER5XX_CALCOM", "c"), ("NEVER5XX_CALENDLY", "k"), ("NEVER5XX_API", "a")):
            env.setenv(name, secret)
        service = Service(load_service_config(config), flush_interval=3600)  # no worker traffic
        with TestClient(build_app(service), raise_server_exceptions=False) as c:
            yield c, service


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                    HealthCheck.too_slow])
@given(source=st.sampled_from(["calcom", "calendly", "api", "unknown"]), body=st.binary(max_size=400),
       headers=st.dictionaries(st.sampled_from(HEADERS), header_text, max_size=3))
def test_any_delivery_is_answered_without_a_5xx(client, source, body, headers):
    http, service = client
    before = service.intake.counts()["deliveries"]
    raw = {k: v.encode("latin-1") for k, v in headers.items()}  # on the wire, header values are bytes
    answer = http.post(f"/webhooks/{source}", content=body, headers=raw)
    assert answer.status_code in (202, 400, 401, 404, 413), (answer.status_code, answer.text)
    if answer.status_code != 202:
        assert service.intake.counts()["deliveries"] == before  # refused: nothing stored
        assert answer.json()  # a JSON body that says why
