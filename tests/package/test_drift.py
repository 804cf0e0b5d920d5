"""force-app/ is generated and committed: regenerating (with the project's extensions.yml) must not change a byte."""

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from slotforce.cli import main
from slotforce.package import DefinitionError, drift, project_extensions

REPO = Path(__file__).resolve().parents[2]


def test_committed_force_app_matches_the_model():
    found = drift(REPO)
    assert not found, found.message()


@pytest.fixture
def admin_project(tmp_path, monkeypatch) -> Path:
    """An admin's project: this checkout's cumulusci.yml and force-app, and an extensions.yml of their own."""
    root = tmp_path / "project"
    root.mkdir()
    for name in ("cumulusci.yml", "sfdx-project.json"):
        shutil.copy(REPO / name, root / name)
    shutil.copytree(REPO / "force-app", root / "force-app")
    shutil.copy(REPO / "extensions.example.yml", root / "extensions.yml")
    monkeypatch.chdir(root)
    return root


def test_an_admins_extensions_yml_is_found_without_being_passed(admin_project):
    assert project_extensions(admin_project) == admin_project / "extensions.yml"
    assert project_extensions() == admin_project / "extensions.yml"  # from the working directory
    stale = drift(admin_project)
    assert stale.missing == ["main/default/objects/Contact/fields/Last_Booking_Status__c.field-meta.xml",
                             "main/default/objects/Contact/fields/Last_Cancel_Date__c.field-meta.xml"]
    assert "Run `make package` (or `slotforce package build`) and commit force-app/" in stale.message()
    assert f"with {admin_project / 'extensions.yml'}" in stale.message()

    result = CliRunner().invoke(main, ["package", "build"])  # no --extensions: the project's file
    assert result.exit_code == 0, result.output
    assert "with the fields of" in result.output
    assert not drift(admin_project), drift(admin_project).message()


def test_hand_added_fields_are_named_and_the_advice_keeps_them(admin_project):
    (admin_project / "extensions.yml").unlink()
    field = admin_project / "force-app/main/default/objects/Contact/fields/Tier__c.field-meta.xml"
    field.write_text("<CustomField/>")
    found = drift(admin_project)
    assert found.extra == ["main/default/objects/Contact/fields/Tier__c.field-meta.xml"]
    assert "Fields of your own go in extensions.yml at the project root" in found.message()


def test_cumulusci_yml_can_point_somewhere_else(admin_project):
    (admin_project / "extensions.yml").rename(admin_project / "config-fields.yml")
    text = (admin_project / "cumulusci.yml").read_text()
    text = text.replace("    source_format: sfdx\n", "    source_format: sfdx\n    custom:\n"
                        "        slotforce_extensions: config-fields.yml\n")
    (admin_project / "cumulusci.yml").write_text(text)
    assert project_extensions(admin_project) == admin_project / "config-fields.yml"
    (admin_project / "config-fields.yml").unlink()
    with pytest.raises(DefinitionError, match=r"cumulusci.yml: project.custom.slotforce_extensions: .*does not exist"):
        project_extensions(admin_project)


def test_no_project_means_no_extensions(tmp_path):
    assert project_extensions(tmp_path) is None
