"""`slotforce check-config` asks whether the org is ready for the user slotforce connects as."""

from __future__ import annotations

import yaml
from click.testing import CliRunner

from slotforce.cli import main
from slotforce.localorg import LocalOrg
from slotforce.package.definition import slotforce_package
from slotforce.service import readiness as ready


def _check_config(tmp_path, org):
    path = tmp_path / "slotforce.yml"
    path.write_text(yaml.safe_dump({"salesforce": {"local": str(org.state_dir)}}))
    return CliRunner().invoke(main, ["check-config", "--config", str(path)])


def test_a_deployed_org_with_the_permission_set_assigned_is_ready(tmp_path, org):
    result = _check_config(tmp_path, org)
    assert result.exit_code == 0, result.output
    for line in ("ok   permission set: Slotforce_Integration is assigned to admin@slotforce.localorg",
                 "ok   object and field access", "ok   Shared Activities: on", "ok   package: deployed"):
        assert line in result.output


def test_without_the_permission_set_it_names_it_and_the_command_and_exits_1(tmp_path, org):
    sf = org.client()
    assignment = sf.query("SELECT Id, PermissionSetId FROM PermissionSetAssignment "
                          "WHERE PermissionSet.Name = 'Slotforce_Integration'")["records"][0]
    sf.PermissionSetAssignment.delete(assignment["Id"])
    try:
        result = _check_config(tmp_path, org)
    finally:
        sf.PermissionSetAssignment.create({"AssigneeId": org.user_id, "PermissionSetId": assignment["PermissionSetId"]})
    assert result.exit_code == 1
    assert ("FAIL permission set: Slotforce_Integration is not assigned to admin@slotforce.localorg: sf org assign "
            "permset --name Slotforce_Integration --on-behalf-of admin@slotforce.localorg --target-org local") \
        in result.output


def test_an_org_without_the_package_says_to_deploy_it():
    with LocalOrg() as bare:  # the session's org has the package deployed
        checks = {c.name: c for c in ready.readiness(bare.client(), "uat")}
    assert not checks["package"].ok
    assert "the package is not deployed" in checks["package"].detail
    assert "cci flow run deploy_package --org uat" in checks["package"].detail
    assert not checks["object and field access"].ok and not checks["permission set"].ok
    assert checks["Shared Activities"].ok


def test_an_older_package_and_shared_activities_off_are_named():
    older = {"Booking_Action__c": {"fields": [{"name": "Action_Key__c"}]}, "Scheduling_Link__c": {"fields": []}}
    check = ready._package(older, True, "prod")
    assert not check.ok and check.detail.startswith("an older package is deployed (no Booking_Action__c.Action__c")
    assert "cci flow run deploy_package --org prod" in check.detail
    off = ready._shared_activities({"fields": [{"name": "EventId"}, {"name": "RelationId"}]})
    assert not off.ok and "Setup > Activity Settings > Allow Users to Relate Multiple Contacts" in off.detail


def test_the_fields_the_engine_writes_are_fields_of_the_package():
    objects = {o.api_name: {f.api_name for f in o.fields} for o in slotforce_package().objects}
    for name, fields in ready.WRITTEN.items():
        assert set(fields) <= objects[name]
