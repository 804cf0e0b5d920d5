"""Issue 5, behaviour 2 end to end: `slotforce check-config` connected to the local org.

The existing tests/sync/test_cli_check_config.py covers a missing field and an inactive picklist
value; these add the type checks, the settings that name fields outside the mappings, and a
config using every mapping type that the org accepts as it is.
"""

from __future__ import annotations

import yaml
from click.testing import CliRunner

from slotforce.cli import main

from .test_e2e_behaviours_writes import EVERY_TYPE, m


def check(tmp_path, org, event_types):
    path = tmp_path / "slotforce.yml"
    path.write_text(yaml.safe_dump({"salesforce": {"local": str(org.state_dir)}, "event_types": event_types}))
    return CliRunner().invoke(main, ["check-config", "--config", str(path)])


def test_every_mapping_type_the_e2e_tests_write_fits_the_org(tmp_path, org):
    result = check(tmp_path, org, {"default": {
        # as written in the org (the writes test spells one picklist value in lower case on purpose)
        "write_to_record": [m("Meeting_Status__c", "picklist", "Scheduled") if e["field"] == "Meeting_Status__c" else e
                            for e in EVERY_TYPE],
        "write_to_event": [m("ShowAs", "picklist", "Free"), m("ReminderDateTime", "datetime", "booking_created_date"),
                           m("IsReminderSet", "checkbox", True), m("Meeting_Url__c", "text", "{form:link}")],
        "on_cancel": {"mode": "keep", "write_to_event": [m("Canceled__c", "checkbox", True)]},
        "no_show_field": "No_Show__c",
        "round_robin": {"book_with_owner": True, "field_rules": [{"field": "LeadSource", "value": "Web", "action": "ignore"}]},
        "tiebreaker": {"sub_region_field": "Site"}}})
    assert result.exit_code == 0, result.output
    assert "fits the org" in result.output


def test_types_that_do_not_fit_and_fields_named_outside_the_mappings_are_reported(tmp_path, org):
    result = check(tmp_path, org, {"default": {"create_event_on": "lead"}, "demo": {
        "write_to_event": [m("Meeting_Type__c", "checkbox", True),  # a text field
                           m("No_Show__c", "date", "booking_start_date")],  # a checkbox
        "write_to_record": [m("meeting_type__c", "text", "x"),  # the org spells it Meeting_Type__c
                            m("IsConverted", "checkbox", True),  # read-only
                            m("Meeting_Status__c", "picklist", "Tentative")],
        "no_show_field": "Meeting_Type__c",
        "round_robin": {"check_record_on": "account", "field_rules": [{"field": "Tier__c", "value": "A", "action": "ignore"}]},
        "tiebreaker": {"sub_region_field": "Sub_Region__c"}}})
    assert result.exit_code == 1, result.output
    out = result.output
    for expected in [
        "event_types.demo.write_to_event[0].type: Event.Meeting_Type__c is a string field; type checkbox cannot be written to it",
        "event_types.demo.write_to_event[1].type: Event.No_Show__c is a boolean field; type date cannot be written to it",
        "event_types.demo.write_to_record[0].field: spelled meeting_type__c but the org calls it Meeting_Type__c",
        "event_types.demo.write_to_record[1].field: Lead.IsConverted is not editable by the integration user",
        "event_types.demo.write_to_record[2].value: 'Tentative' is not an active value of Lead.Meeting_Status__c",
        "event_types.demo.no_show_field: Event.Meeting_Type__c is a string field; the no-show field must be a checkbox",
        "event_types.demo.round_robin.field_rules[0].field: Account has no field Tier__c",
        "event_types.demo.tiebreaker.sub_region_field: Account has no field Sub_Region__c",
    ]:
        assert expected in out, out
    assert "event_types.default" not in out  # problems are named where they were written


def test_a_picklist_value_in_another_case_is_named_with_the_orgs_spelling(tmp_path, org):
    result = check(tmp_path, org, {"default": {"create_event_on": "lead", "write_to_record": [
        m("Meeting_Status__c", "picklist", "no show")]}})
    assert result.exit_code == 1, result.output
    assert ("event_types.default.write_to_record[0].value: spelled 'no show' but the active value is 'No Show'; "
            "use No Show") in result.output
