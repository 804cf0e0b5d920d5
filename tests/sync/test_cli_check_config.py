"""`slotforce check-config`, offline and against the local org."""

import yaml
from click.testing import CliRunner

from slotforce.cli import main


def write(tmp_path, doc):
    path = tmp_path / "slotforce.yml"
    path.write_text(yaml.safe_dump(doc))
    return str(path)


def test_offline_errors_name_key_paths(tmp_path):
    path = write(tmp_path, {"salesforce": {"local": "x"}, "event_types": {"demo": {
        "write_to_event": [{"field": "No_Show__c", "type": "checkbox", "value": "yes"}]}}})
    result = CliRunner().invoke(main, ["check-config", "--config", path, "--offline"])
    assert result.exit_code == 1
    assert "event_types.demo.write_to_event[0].value" in result.output


def test_connected_check_finds_what_describe_refuses(tmp_path, org):
    good = {"field": "Meeting_Status__c", "type": "picklist", "value": "Scheduled"}
    doc = {"salesforce": {"local": str(org.state_dir)},
           "event_types": {"default": {"create_event_on": "lead", "write_to_record": [good]}}}
    result = CliRunner().invoke(main, ["check-config", "--config", write(tmp_path, doc)])
    assert result.exit_code == 0, result.output
    assert "fits the org" in result.output
    doc["event_types"]["default"]["write_to_record"] = [good | {"value": "Maybe"}, {"field": "Gone__c", "type": "text", "value": "x"}]
    result = CliRunner().invoke(main, ["check-config", "--config", write(tmp_path, doc)])
    assert result.exit_code == 1
    assert "event_types.default.write_to_record[0].value" in result.output
    assert "event_types.default.write_to_record[1].field: Lead has no field Gone__c" in result.output


def test_unreachable_org_is_exit_2(tmp_path):
    path = write(tmp_path, {"salesforce": {"local": str(tmp_path / "nowhere")}})
    result = CliRunner().invoke(main, ["check-config", "--config", path])
    assert result.exit_code == 2 and "org serve" in result.output


def test_check_config_catches_what_breaks_production(tmp_path, org, monkeypatch):
    """Unknown source keys (did you mean), unset secrets, unknown {utm:} tokens, an unsupported store,
    record types, users and owners the org does not have (issue 14.12): 'valid' only when all is right."""
    from click.testing import CliRunner

    from slotforce.cli import main
    from slotforce.testing import API_SECRET, API_SECRET_ENV, write_config

    runner = CliRunner()
    monkeypatch.setenv(API_SECRET_ENV, API_SECRET)

    def check(**extra):
        path = write_config(tmp_path, org, **extra)
        result = runner.invoke(main, ["check-config", "--config", str(path)])
        return result.exit_code, result.output

    code, out = check(sources={"calcomm": {"secret_env": "X"}})
    assert code == 1 and "sources.calcomm: unknown source; did you mean calcom?" in out
    code, out = check(store="mysql://db/slotforce")
    assert code == 1 and "store: 'mysql://db/slotforce': no outbox backend" in out
    code, out = check(event_types={"default": {"write_to_record": [
        {"field": "LeadSource", "type": "text", "value": "{utm:sorce}"}]}})
    assert code == 1 and "{utm:sorce} is not a UTM parameter" in out
    monkeypatch.delenv("SLOTFORCE_TEST_CALCOM_SECRET", raising=False)
    code, out = check(sources={"api": {"secret_env": "SLOTFORCE_TEST_API_SECRET"},
                               "calcom": {"secret_env": "SLOTFORCE_TEST_CALCOM_SECRET"}})
    assert code == 1 and "sources.calcom: the environment variable SLOTFORCE_TEST_CALCOM_SECRET is not set" in out
    code, out = check(event_types={"default": {"exclude_record_types": ["Partner Accounts"],
                                               "owner_fallback_user": "nobody@example.com",
                                               "change_record_owner": {"enabled": True, "only_from_owners": ["Ghost"]}}})
    assert code == 1, out
    assert "event_types.default.exclude_record_types[0]: no Lead, Contact or Account record type is named 'partner accounts'" in out
    assert "event_types.default.owner_fallback_user: no active User has the username or email 'nobody@example.com'" in out
    assert "event_types.default.change_record_owner.only_from_owners[0]: no User is named 'ghost'" in out
