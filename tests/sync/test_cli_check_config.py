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
