"""slotforce.yml with `orgs:`: each org its own Salesforce, sources, settings and links; the single-org
file stays one org named `default`."""

from __future__ import annotations

from pathlib import Path

import pytest

from slotforce.service.config import parse_service_config
from slotforce.store import DEFAULT_ORG
from slotforce.sync.settings import SettingsError

TWO_ORGS = {
    "store": "sqlite:///outbox.db",
    "orgs": {
        "acme": {"salesforce": {"local": "orgs/acme"}, "sources": {"api": {"secret_env": "ACME_SECRET"}},
                 "event_types": {"default": {"create_event_on": "lead"}}, "links": {"file": "acme-links.yml"}},
        "globex": {"salesforce": {"local": "orgs/globex"}, "sources": {"calcom": {"secret_env": "GLOBEX_CALCOM"}}},
    },
}


def parse(raw: dict):
    return parse_service_config(raw, Path("slotforce.yml"))


def test_each_org_has_its_own_salesforce_sources_settings_and_links():
    cfg = parse(TWO_ORGS)
    assert cfg.many_orgs and list(cfg.orgs) == ["acme", "globex"]
    acme, globex = cfg.orgs["acme"], cfg.orgs["globex"]
    assert acme.settings.salesforce.local == "orgs/acme" and globex.settings.salesforce.local == "orgs/globex"
    assert acme.settings.event_types["default"].create_event_on == "lead"
    assert globex.settings.event_types["default"].create_event_on == "contact"
    assert acme.sources == {"api": {"secret_env": "ACME_SECRET"}} and "api" not in globex.sources
    assert acme.links.file == "acme-links.yml" and globex.links is None
    assert acme.settings.store == globex.settings.store == cfg.store == "sqlite:///outbox.db"
    with pytest.raises(KeyError, match="name one with --org"):
        cfg.org(None)
    with pytest.raises(KeyError, match="'initech' is not configured"):
        cfg.org("initech")


def test_the_single_org_file_is_one_org_named_default():
    cfg = parse({"salesforce": {"local": "org"}, "sources": {"api": {"secret_env": "S"}}})
    assert not cfg.many_orgs and list(cfg.orgs) == [DEFAULT_ORG]
    assert cfg.org(None) is cfg.orgs[DEFAULT_ORG] and cfg.settings.salesforce.local == "org"
    assert cfg.sources == {"api": {"secret_env": "S"}}


@pytest.mark.parametrize("raw, where, says", [
    ({**TWO_ORGS, "salesforce": {"local": "org"}}, "salesforce", "every org has its own salesforce"),
    ({**TWO_ORGS, "event_types": {}}, "event_types", "move it under orgs.<name>.event_types"),
    ({"orgs": {"Acme Corp": {"salesforce": {"local": "x"}}}}, "orgs.Acme Corp", "lowercase letters, digits"),
    ({"orgs": {"acme": {"salesforce": {"local": "x"}, "store": "sqlite:///x.db"}}}, "orgs.acme.store",
     "unknown key (an org takes salesforce, sources, event_types, links)"),
    ({"orgs": {"acme": {"salesforce": {"local": "x", "cumulusci": "dev"}}}}, "orgs.acme.salesforce",
     "choose exactly one"),
    ({"orgs": {"acme": {"salesforce": {"local": "x"}, "sources": {"calcomm": {}}}}}, "orgs.acme.sources.calcomm",
     "did you mean calcom"),
    ({"orgs": {"acme": {"salesforce": {"local": "x"}, "links": {"every_minutes": 5}}}}, "orgs.acme.links",
     "give exactly one of"),
    ({"orgs": {}}, "orgs", "must be a mapping of org name"),
])
def test_a_bad_orgs_file_names_the_key(raw, where, says):
    with pytest.raises(SettingsError) as caught:
        parse(raw)
    assert any(path == where and says in message for path, message in caught.value.problems), caught.value.problems


def test_the_example_orgs_file_is_valid():
    example = Path(__file__).parents[2] / "examples" / "slotforce.orgs.yml"
    from slotforce.service.config import load_service_config

    cfg = load_service_config(example)
    assert list(cfg.orgs) == ["acme", "globex"] and cfg.orgs["acme"].links.tool == "calcom"
