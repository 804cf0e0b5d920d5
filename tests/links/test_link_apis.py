"""Links pulled from the Calendly and Cal.com APIs (a local HTTPS fake serving the documented shapes)."""

from __future__ import annotations

import time

import pytest
import yaml
from click.testing import CliRunner

from slotforce.cli import main
from slotforce.service.app import Service
from slotforce.service.config import load_service_config
from slotforce.sources import LinkApi, LinkApiError, TokenMissing, pull_links
from slotforce.sources import calcom_api
from slotforce.testing import write_config

from .fake_link_api import TOKEN, FakeLinkApi

TOKEN_ENV = "SLOTFORCE_TEST_LINK_API_TOKEN"
ENV = {TOKEN_ENV: TOKEN}


@pytest.fixture
def calendly(tmp_path, monkeypatch):
    with FakeLinkApi("calendly", tmp_path) as api:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", api.ca_path)
        yield api


@pytest.fixture
def calcom(tmp_path, monkeypatch):
    monkeypatch.setattr(calcom_api, "PAGE_SIZE", 2)  # three users in the fixture: two pages
    with FakeLinkApi("calcom", tmp_path) as api:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", api.ca_path)
        yield api


def by_key(pulled) -> dict:
    return {link.key: link for link in pulled.links}


def test_calendly_members_and_event_types_over_two_pages_after_one_429(calendly):
    calendly.throttle_once("/event_types", {"X-RateLimit-Limit": "500", "X-RateLimit-Remaining": "0",
                                            "X-RateLimit-Reset": "1"})
    started = time.monotonic()
    pulled = pull_links(LinkApi("calendly", TOKEN_ENV, base_url=calendly.url), ENV)
    assert time.monotonic() - started >= 0.9  # waited as X-RateLimit-Reset said

    links = by_key(pulled)
    admin = links["calendly:https://api.calendly.com/users/USRADMIN00000001"]
    assert (admin.kind, admin.url, admin.owner_email) == ("Profile", "https://calendly.com/local-admin",
                                                          "admin@slotforce.example")
    assert links["calendly:https://api.calendly.com/users/USRINES000000002"].owner_email == "ines.ortega@slotforce.example"
    intro = links["calendly:https://api.calendly.com/event_types/ETINTRO000000001"]
    assert (intro.kind, intro.owner_email, intro.active) == ("Event_Type", "admin@slotforce.example", True)
    managed = links["calendly:https://api.calendly.com/event_types/ETONBOARD0000002"]
    assert (managed.kind, managed.owner_email) == ("Managed_Event", "ines.ortega@slotforce.example")
    team = links["calendly:https://api.calendly.com/event_types/ETDEMO0000000003"]
    assert (team.kind, team.owner_email, team.url) == ("Event_Type", None, "https://calendly.com/slotforce-sales/product-demo")
    assert links["calendly:https://api.calendly.com/event_types/ETOLD00000000004"].active is False
    assert len(pulled.links) == 6 and pulled.skipped == []

    paths = [(path, query.get("page_token")) for path, query, _ in calendly.requests]
    assert paths == [("/users/me", None), ("/organization_memberships", None),
                     ("/organization_memberships", "MEMBERSPAGE2TOKEN"), ("/event_types", None),
                     ("/event_types", None), ("/event_types", "EVENTTYPESPAGE2TOKEN")]
    assert pulled.api_calls == 6


def test_calcom_users_event_types_and_team_event_types_paged_after_one_429(calcom):
    calcom.throttle_once("/v2/organizations/9/users", {"Retry-After": "1"})
    started = time.monotonic()
    pulled = pull_links(LinkApi("calcom", TOKEN_ENV, base_url=calcom.url, booking_site="https://slotforce.cal.com"), ENV)
    assert time.monotonic() - started >= 0.9

    links = by_key(pulled)
    assert links["calcom:user:101"].url == "https://slotforce.cal.com/local-admin"  # the org profile's username
    assert links["calcom:user:102"].owner_email == "ines.ortega@slotforce.example"
    intro = links["calcom:event_type:501"]
    assert (intro.kind, intro.url, intro.owner_email) == ("Event_Type", "https://slotforce.cal.com/local-admin/intro-call",
                                                          "admin@slotforce.example")
    assert links["calcom:event_type:502"].kind == "Managed_Event"
    demo = links["calcom:event_type:601"]
    assert (demo.url, demo.owner_email) == ("https://slotforce.cal.com/team/sales/product-demo", None)
    assert "calcom:event_type:600" not in links  # the managed template has no booking page
    assert any(note.startswith("user 103: no URL") for note in pulled.skipped)
    assert any(note.startswith("team event type 600: a managed event type's template") for note in pulled.skipped)

    users = [query for path, query, _ in calcom.requests if path == "/v2/organizations/9/users"]
    assert [(q["skip"], q["take"]) for q in users] == [("0", "2"), ("0", "2"), ("2", "2")]
    versions = [headers.get("cal-api-version") for path, _, headers in calcom.requests if path == "/v2/event-types"]
    assert versions == ["2024-06-14"]


@pytest.mark.parametrize("tool", ["calendly", "calcom"])
def test_a_rejected_token_says_what_to_check(tool, tmp_path, monkeypatch):
    with FakeLinkApi(tool, tmp_path) as api:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", api.ca_path)
        with pytest.raises(LinkApiError) as err:
            pull_links(LinkApi(tool, TOKEN_ENV, base_url=api.url), {TOKEN_ENV: "revoked"})
    text = str(err.value)
    assert f"{tool} API answered 401" in text
    assert f"create a new one and put it in ${TOKEN_ENV}" in text
    assert ("The access token is invalid" if tool == "calendly" else "Invalid Access Token.") in text


def test_an_unset_token_variable_is_named():
    with pytest.raises(TokenMissing, match=f"the environment variable {TOKEN_ENV} is not set"):
        pull_links(LinkApi("calendly", TOKEN_ENV), {})


@pytest.mark.parametrize(("block", "message"), [
    ({"file": "links.yml", "from": "calendly", "token_env": "X"}, "links: give exactly one of `file:`"),
    ({"every_minutes": 5}, "links: give exactly one of `file:`"),
    ({"from": "calendly"}, "links: `from:` needs `token_env:`"),
    ({"from": "hubspot", "token_env": "X"}, "links.from: Input should be 'calendly' or 'calcom'"),
    ({"file": "links.yml", "token_env": "X"}, "links: token_env go with `from:`"),
    ({"from": "calendly", "token_env": "X", "bogus": 1}, "links.bogus: unknown key (links takes file, from, token_env"),
])
def test_links_block_errors_name_the_key_path(tmp_path, block, message):
    (tmp_path / "slotforce.yml").write_text(yaml.safe_dump({"salesforce": {"local": "org"}, "links": block}))
    runner = CliRunner()
    result = runner.invoke(main, ["check-config", "--offline", "--config", str(tmp_path / "slotforce.yml")])
    assert result.exit_code == 1
    assert message in result.output


def test_links_sync_pulls_from_calendly_into_salesforce_and_maps_the_profile_link(org, calendly, tmp_path, monkeypatch):
    """An admin points slotforce.yml at Calendly and runs `slotforce links sync` twice."""
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    config = write_config(tmp_path, org, links={"from": "calendly", "token_env": TOKEN_ENV, "base_url": calendly.url})
    runner = CliRunner()

    first = runner.invoke(main, ["links", "sync", "--config", str(config)])
    assert first.exit_code == 0, first.output
    assert "calendly: 6 link(s): 6 created, 0 updated, 0 unchanged, 0 failed, 0 skipped" in first.output

    sf = org.client()
    rows = {r["Link_Key__c"]: r for r in sf.query(
        "SELECT Link_Key__c, Url__c, Kind__c, Owner_Email__c, Active__c, User__c, Status__c FROM Scheduling_Link__c")["records"]}
    admin = rows["calendly:https://api.calendly.com/users/USRADMIN00000001"]
    assert (admin["Kind__c"], admin["Status__c"], admin["User__c"]) == ("Profile", "Mapped", org.user_id)
    assert sf.User.get(org.user_id)["Scheduling_Link__c"] == "https://calendly.com/local-admin"
    assert rows["calendly:https://api.calendly.com/users/USRINES000000002"]["Status__c"] == "Unmatched"  # no such User
    assert rows["calendly:https://api.calendly.com/event_types/ETONBOARD0000002"]["Kind__c"] == "Managed_Event"
    assert rows["calendly:https://api.calendly.com/event_types/ETDEMO0000000003"]["Owner_Email__c"] is None
    assert rows["calendly:https://api.calendly.com/event_types/ETOLD00000000004"]["Active__c"] is False

    again = runner.invoke(main, ["links", "sync", "--config", str(config)])
    assert "6 link(s): 0 created, 0 updated, 6 unchanged" in again.output


def test_links_sync_without_a_links_block_or_token_explains(org, tmp_path, monkeypatch):
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    runner = CliRunner()
    bare = write_config(tmp_path, org)
    result = runner.invoke(main, ["links", "sync", "--config", str(bare)])
    assert result.exit_code == 1 and "has no `links:` block" in result.output

    config = write_config(tmp_path, org, links={"from": "calcom", "token_env": TOKEN_ENV})
    result = runner.invoke(main, ["links", "sync", "--config", str(config)])
    assert result.exit_code == 1 and f"the environment variable {TOKEN_ENV} is not set" in result.output


def test_the_hourly_run_in_serve_pulls_from_the_configured_api(org, calcom, tmp_path, monkeypatch):
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    monkeypatch.setenv("SLOTFORCE_TEST_API_SECRET", "unused")
    config = write_config(tmp_path, org, links={"from": "calcom", "token_env": TOKEN_ENV, "base_url": calcom.url,
                                                "every_minutes": 60})
    service = Service(load_service_config(config))
    try:
        service.links.run_once()
    finally:
        service.stop(grace=0)
    assert service.links.last_result == "5 created, 0 updated, 0 unchanged, 2 skipped", service.links.last_result
    rows = org.client().query("SELECT COUNT() FROM Scheduling_Link__c WHERE Link_Key__c LIKE 'calcom:%'")
    assert rows["totalSize"] == 5


def test_wait_comes_from_retry_after_or_the_rate_limit_reset():
    from slotforce.sources.link_http import retry_after

    assert retry_after({"Retry-After": "3"}) == 3
    assert retry_after({"Retry-After": "Wed, 10 Jan 2024 12:00:30 GMT"}, now=1704888000.0) == 30
    assert retry_after({"X-RateLimit-Reset": "60"}) == 60  # Calendly: seconds until the window resets
    assert retry_after({"X-RateLimit-Reset": "1704888010"}, now=1704888000.0) == 10  # an epoch time
    assert retry_after({"Retry-After": "86400"}) == 120  # capped: an hourly run does not hang for a day
    assert retry_after({}) is None


def test_a_profile_link_needs_an_owner_email_an_event_type_does_not():
    from slotforce.sync.links import LinksFileError, parse_links

    team = parse_links([{"key": "t", "url": "https://cal.example.com/team/sales/demo", "kind": "Event_Type"}])
    assert team[0].owner_email is None and team[0].record()["Owner_Email__c"] is None
    with pytest.raises(LinksFileError, match="owner_email is required for a Profile link"):
        parse_links([{"key": "p", "url": "https://cal.example.com/ana", "kind": "Profile"}])
