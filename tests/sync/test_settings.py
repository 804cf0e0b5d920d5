"""slotforce.yml: errors name the key path; event types inherit from default; describe checks."""

import pytest

from slotforce.sync.settings import SettingsError, check_config, load_settings, parse_settings

from .factories import describes


def problems_of(raw):
    with pytest.raises(SettingsError) as info:
        parse_settings(raw)
    return dict(info.value.problems)


def test_mapping_errors_name_the_exact_key_path():
    found = problems_of({"event_types": {"discovery-call": {"write_to_record": [
        {"field": "Company", "type": "text", "value": "{company}"},
        {"field": "No_Show__c", "type": "checkbox", "value": "yes"},
        {"field": "Meeting_Date__c", "type": "date", "value": "tomorrow"},
        {"field": "Notes__c", "type": "textarea", "value": "  "},
    ]}}})
    assert set(found) == {
        "event_types.discovery-call.write_to_record[1].value",
        "event_types.discovery-call.write_to_record[2].value",
        "event_types.discovery-call.write_to_record[3].value",
    }
    assert "checkbox" in found["event_types.discovery-call.write_to_record[1].value"]
    assert "booking_start_date" in found["event_types.discovery-call.write_to_record[2].value"]


def test_unknown_keys_are_errors_with_their_path():
    found = problems_of({"colour": 1, "event_types": {"default": {"on_cancel": {"mode": "keep", "wipe": True}}}})
    assert "colour" in found and "unknown key" in found["colour"]
    assert "event_types.default.on_cancel.wipe" in found


def test_bad_enum_value_is_named():
    found = problems_of({"event_types": {"x": {"create_event_on": "account"}}})
    assert list(found) == ["event_types.x.create_event_on"]


def test_salesforce_needs_exactly_one_connection():
    found = problems_of({"salesforce": {"local": "a", "cumulusci": "dev"}})
    assert "choose exactly one" in found["salesforce"]


def test_event_types_inherit_from_default_key_by_key():
    s = parse_settings({"event_types": {
        "default": {"create_event_on": "lead", "round_robin": {"book_with_owner": True, "check_record_on": "lead"},
                    "exclude_record_types": ["Partner"]},
        "demo": {"round_robin": {"check_record_on": "account"}, "exclude_record_types": []},
    }})
    demo, configured = s.for_event_type("demo")
    assert configured and demo.create_event_on == "lead"
    assert demo.round_robin.book_with_owner is True and demo.round_robin.check_record_on == "account"
    assert demo.exclude_record_types == []  # lists replace, never concatenate
    fallback, configured = s.for_event_type("never-configured")
    assert not configured and fallback.create_event_on == "lead"


def test_load_settings_reports_yaml_errors_with_line(tmp_path):
    bad = tmp_path / "slotforce.yml"
    bad.write_text("event_types:\n  default: {create_event_on: lead\n")
    with pytest.raises(SettingsError) as info:
        load_settings(bad)
    assert info.value.problems[0][0].startswith("line ")
    with pytest.raises(SettingsError, match="not found"):
        load_settings(tmp_path / "missing.yml")


def test_example_config_is_valid():
    from pathlib import Path
    s = load_settings(Path(__file__).parents[2] / "examples" / "slotforce.yml")
    assert "default" in s.event_types
    assert s.event_types["discovery-call"].fuzzy_domain_matching
    assert s.event_types["discovery-call"].no_show_field == "No_Show__c"  # inherited from default


def test_check_config_against_describe():
    s = parse_settings({"event_types": {"default": {
        "create_event_on": "lead",
        "write_to_record": [
            {"field": "meeting_type__c", "type": "text", "value": "x"},  # wrong case
            {"field": "Nope__c", "type": "text", "value": "x"},
            {"field": "No_Show__c", "type": "text", "value": "x"},  # checkbox field, text mapping
            {"field": "Meeting_Status__c", "type": "picklist", "value": "Done"},  # not an active value
            {"field": "IsConverted", "type": "checkbox", "value": True},  # read-only
        ],
        "no_show_field": "Subject",
        "tiebreaker": {"sub_region_field": "Region__c"},
    }}})
    found = {p.path: p.message for p in check_config(s, describes())}
    base = "event_types.default"
    assert "Meeting_Type__c" in found[f"{base}.write_to_record[0].field"]
    assert "has no field Nope__c" in found[f"{base}.write_to_record[1].field"]
    assert "boolean" in found[f"{base}.write_to_record[2].type"]
    assert "Done" in found[f"{base}.write_to_record[3].value"]
    assert "not editable" in found[f"{base}.write_to_record[4].field"]
    assert "checkbox" in found[f"{base}.no_show_field"]
    assert f"{base}.tiebreaker.sub_region_field" in found
    assert check_config(s, None) == []


def test_check_config_accepts_a_field_on_one_of_the_possible_who_objects():
    s = parse_settings({"event_types": {"default": {
        "create_event_on": "contact_under_account", "create_contact_under_account": True, "create_lead_if_no_account": True,
        "write_to_record": [{"field": "Company", "type": "text", "value": "{company}"},
                            {"field": "Nope__c", "type": "text", "value": "x"}]}}})
    found = [p.path for p in check_config(s, describes())]
    assert found == ["event_types.default.write_to_record[1].field"]


def test_source_limits_are_settings_the_webhook_intake_reads():
    """sources.<name>.max_body_bytes and replay_window_seconds are accepted, positive, and reach the intake."""
    from slotforce.sources import options_for

    settings = parse_settings({"sources": {"calendly": {"signing_key_env": "K", "max_body_bytes": 2048,
                                                         "replay_window_seconds": 60}}})
    options = options_for("calendly", settings.sources)
    assert options["max_body_bytes"] == 2048 and options["replay_window"].total_seconds() == 60
    with pytest.raises(SettingsError, match=r"sources\.calcom\.max_body_bytes"):
        parse_settings({"sources": {"calcom": {"max_body_bytes": 0}}})


def test_match_names_an_event_type_by_the_tools_ids_in_any_case():
    s = parse_settings({"event_types": {
        "default": {"create_event_on": "lead", "match": ["never-inherited"]},
        "consultation": {"match": ["Beratungsgespräch", "ETCONSULT0001", "初回相談"]},
    }})
    by_uuid, key = s.for_event_type("beratungsgespr-ch", ("https://api.calendly.com/event_types/etconsult0001",
                                                          "etconsult0001"))
    assert key == "consultation" and by_uuid.create_event_on == "lead"  # still inherits from default
    assert s.for_event_type("BERATUNGSGESPRÄCH")[1] == "consultation"
    assert s.for_event_type(None, ("初回相談",))[1] == "consultation"
    assert s.for_event_type("consultation")[1] == "consultation"  # the key still matches as it is
    assert s.event_types["consultation"].match == ["Beratungsgespräch", "ETCONSULT0001", "初回相談"]
    assert s.for_event_type("never-inherited")[1] == "default"
    assert s.for_event_type("other")[1] is None


def test_a_match_string_names_one_event_type_only():
    found = problems_of({"event_types": {"a": {"match": ["Intro"]}, "b": {"match": ["x", "intro"]}, "c": {"match": ["A"]}}})
    assert found["event_types.b.match[1]"] == "'intro' is also matched by event_types.a"
    assert found["event_types.c.match[0]"] == "'A' is the key of another event type"


def test_sync_false_is_a_setting_of_its_own():
    s = parse_settings({"event_types": {"internal": {"sync": False}}})
    assert s.for_event_type("internal")[0].sync is False and s.for_event_type("other")[0].sync is True
    assert "event_types.internal.sync" in problems_of({"event_types": {"internal": {"sync": "sometimes"}}})
