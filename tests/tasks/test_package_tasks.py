"""The CumulusCI tasks: thin, offline, and wired into cumulusci.yml the way `cci` resolves them."""

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from slotforce.cci import cci_env
from cumulusci.core.config import BaseProjectConfig, TaskConfig, UniversalConfig
from cumulusci.core.exceptions import CumulusCIFailure, TaskOptionsError
from cumulusci.core.keychain import BaseProjectKeychain

from tasks.package import GenerateSlotforcePackage, ValidateSlotforcePackage

REPO = Path(__file__).resolve().parents[2]
CCI = Path(sys.executable).parent / "cci"


@pytest.fixture
def project():
    config = BaseProjectConfig(UniversalConfig(), config={
        "noyaml": True, "project": {"name": "slotforce", "package": {"api_version": "62.0"}}})
    config.keychain = BaseProjectKeychain(config, None)
    return config


def test_generate_then_validate_in_process(project, tmp_path):
    out = tmp_path / "force-app"
    task = GenerateSlotforcePackage(project, TaskConfig({"options": {
        "path": str(out), "extensions": str(REPO / "extensions.example.yml")}}))
    task()
    assert len(task.return_values["files"]) == 75
    ValidateSlotforcePackage(project, TaskConfig({"options": {"path": str(out)}}))()
    (out / "main/default/permissionsets/Slotforce_Admin.permissionset-meta.xml").write_text("<x")
    with pytest.raises(CumulusCIFailure, match="1 problem"):
        ValidateSlotforcePackage(project, TaskConfig({"options": {"path": str(out)}}))()


def test_bad_options_and_bad_extensions(project, tmp_path):
    with pytest.raises(TaskOptionsError, match="is not a file"):
        GenerateSlotforcePackage(project, TaskConfig({"options": {"extensions": str(tmp_path / "none.yml")}}))
    bad = tmp_path / "bad.yml"
    bad.write_text("objects:\n  Lead:\n    fields:\n      - {api_name: X, type: Date, label: X, description: d}\n")
    task = GenerateSlotforcePackage(project, TaskConfig({"options": {"path": str(tmp_path / "fa"),
                                                                    "extensions": str(bad)}}))
    with pytest.raises(CumulusCIFailure, match=r"fields\[0\].api_name: field API name 'X' must end in __c"):
        task()
    assert not (tmp_path / "fa").exists()


def test_deploy_package_flow_is_generate_validate_deploy_assign():
    config = yaml.safe_load((REPO / "cumulusci.yml").read_text())
    assert config["project"]["package"]["api_version"] == "62.0"
    assert config["project"]["source_format"] == "sfdx"
    assert config["project"]["git"]["default_branch"] == "main"
    steps = config["flows"]["deploy_package"]["steps"]
    assert [steps[i]["task"] for i in sorted(steps)] == [
        "generate_package", "validate_package", "deploy", "assign_permission_sets"]
    assert steps[3]["options"]["path"] == "force-app"
    assert steps[4]["options"]["api_names"] == "Slotforce_Integration"
    for name in ("generate_package", "validate_package"):
        task = config["tasks"][name]
        module, cls = task["class_path"].rsplit(".", 1)
        assert module == "tasks.package" and cls in {"GenerateSlotforcePackage", "ValidateSlotforcePackage"}


def cci(*args, home):
    return subprocess.run([str(CCI), *args], cwd=REPO, env=cci_env(home), capture_output=True, text=True, timeout=120)


def test_cci_task_run_generate_package_offline(tmp_path):
    out = tmp_path / "force-app"
    result = cci("task", "run", "generate_package", "-o", "path", str(out), home=tmp_path / "home")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Wrote 73 files" in result.stdout
    assert (out / "main/default/objects/Booking_Action__c/Booking_Action__c.object-meta.xml").is_file()
    result = cci("task", "run", "validate_package", "-o", "path", str(out), home=tmp_path / "home")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Configuration Warning" not in result.stdout + result.stderr
