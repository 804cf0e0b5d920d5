"""Link sync against the local org: only changed links are sent, 200 per Collections call."""

from __future__ import annotations

import json

import pytest
import yaml
from click.testing import CliRunner

from slotforce.cli import main
from slotforce.sync.links import LinksFileError, load_links, parse_links, sync_links


def links_doc(n: int, *, start: int = 0) -> list[dict]:
    return [{"key": f"cal-{i:04d}", "url": f"https://cal.example.com/user{i}", "kind": "Profile" if i % 2 else "Event_Type",
             "owner_email": f"user{i}@acme-demo.com", "active": True} for i in range(start, start + n)]


def api_calls(org) -> int:
    return org.stats()["api_calls"]["total"]


def stats_over_https(org) -> dict:
    s = org.session()
    try:
        return s.get(org.instance_url + "/__localorg__/stats", headers={"Authorization": f"Bearer {org.access_token}"}).json()
    finally:
        s.close()


def test_first_run_upserts_all_second_run_nothing_then_only_the_changed_url(org, tmp_path):
    sf = org.client()
    links = parse_links(links_doc(5))

    first = sync_links(sf, links)
    assert (first.created, first.updated, first.unchanged, first.failed) == (5, 0, 0, [])
    rows = sf.query("SELECT Link_Key__c, Url__c, Kind__c, Owner_Email__c, Active__c FROM Scheduling_Link__c")["records"]
    assert sorted(r["Link_Key__c"] for r in rows) == [f"cal-{i:04d}" for i in range(5)]

    second = sync_links(sf, links)
    assert (second.upserted, second.unchanged, second.api_calls) == (0, 5, 1)  # one query, no upsert call

    doc = links_doc(5)
    doc[3]["url"] = "https://cal.example.com/renamed"
    third = sync_links(sf, parse_links(doc))
    assert (third.created, third.updated, third.unchanged) == (0, 1, 4)
    row = sf.query("SELECT Url__c FROM Scheduling_Link__c WHERE Link_Key__c = 'cal-0003'")["records"][0]
    assert row["Url__c"] == "https://cal.example.com/renamed"


def test_more_than_200_links_go_in_several_collections_calls(org):
    sf = org.client()
    before = stats_over_https(org)["api_calls"]
    result = sync_links(sf, parse_links(links_doc(450)))
    after = stats_over_https(org)["api_calls"]
    assert result.created == 450
    # 3 queries of up to 200 keys + 3 upserts of up to 200 records
    assert result.api_calls == 6
    assert after["total"] - before["total"] == 6
    assert after["by_kind"].get("collections", 0) - before["by_kind"].get("collections", 0) == 3
    assert sf.query("SELECT COUNT() FROM Scheduling_Link__c")["totalSize"] == 450


def test_profile_link_is_mapped_onto_its_user_by_the_flow(org):
    sf = org.client()
    user = sf.query(f"SELECT Id, Email FROM User WHERE Id = '{org.user_id}'")["records"][0]
    link = {"key": "me", "url": "https://cal.example.com/me", "kind": "Profile", "owner_email": user["Email"].upper()}
    sync_links(sf, parse_links([link]))
    row = sf.query("SELECT User__c, Status__c FROM Scheduling_Link__c WHERE Link_Key__c = 'me'")["records"][0]
    assert (row["User__c"], row["Status__c"]) == (org.user_id, "Mapped")
    assert sf.User.get(org.user_id)["Scheduling_Link__c"] == "https://cal.example.com/me"


def test_errors_name_the_entry_index_and_key(tmp_path):
    doc = links_doc(3)
    doc[1]["url"] = "http://insecure.example.com"
    doc[2]["kind"] = "Team"
    doc.append(dict(doc[0]))
    path = tmp_path / "links.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(LinksFileError) as err:
        load_links(path)
    text = str(err.value)
    assert "links[1] (key 'cal-0001').url: must be a full link starting with https://" in text
    assert "links[2] (key 'cal-0002').kind" in text
    assert "links[3] (key 'cal-0000'): the key is already used by links[0]" in text


def test_links_sync_command_reports_and_exits_nonzero_on_a_bad_file(config_file, tmp_path):
    path = tmp_path / "links.yml"
    path.write_text(yaml.safe_dump({"links": links_doc(3)}))
    runner = CliRunner()
    result = runner.invoke(main, ["links", "sync", str(path), "--config", str(config_file)])
    assert result.exit_code == 0, result.output
    assert "3 created" in result.output
    again = runner.invoke(main, ["links", "sync", str(path), "--config", str(config_file)])
    assert "0 created, 0 updated, 3 unchanged" in again.output

    path.write_text(yaml.safe_dump([{"key": "x", "url": "https://x.example.com"}]))
    bad = runner.invoke(main, ["links", "sync", str(path), "--config", str(config_file)])
    assert bad.exit_code == 1
    assert "links[0] (key 'x').kind: Field required" in bad.output
