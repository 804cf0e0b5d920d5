"""CI on scratch orgs, checked offline: the cumulusci.yml scratch configs and flow, orgs/*.json, the workflow."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

from slotforce.cci import cci_env

REPO = Path(__file__).resolve().parents[2]
CCI = Path(sys.executable).parent / "cci"


def _cci(*args, home):
    return subprocess.run([str(CCI), *args], cwd=REPO, env=cci_env(home), capture_output=True, text=True, timeout=120)


def test_scratch_org_configs_have_shared_activities_on():
    scratch = yaml.safe_load((REPO / "cumulusci.yml").read_text())["orgs"]["scratch"]
    assert set(scratch) == {"dev", "feature", "qa"}
    for name, org in scratch.items():
        definition = json.loads((REPO / org["config_file"]).read_text())
        assert definition["edition"] == "Developer", name
        assert definition["settings"]["activitiesSettings"]["allowUsersToRelateMultipleContactsToTasksAndEvents"]


def test_cci_validates_the_flow_and_lists_the_scratch_configs(tmp_path):
    info = _cci("flow", "info", "slotforce_ci_feature", home=tmp_path / "home")
    assert info.returncode == 0, info.stdout + info.stderr
    assert "Configuration Warning" not in info.stdout + info.stderr
    steps = [line.strip() for line in info.stdout.splitlines() if ") task:" in line or ") flow:" in line]
    assert steps == ["1) flow: deploy_package [from current folder]", "1) task: generate_package",
                     "2) task: validate_package", "3) task: deploy", "4) task: assign_permission_sets",
                     "2) task: robot"]
    listed = _cci("org", "list", home=tmp_path / "home")
    assert listed.returncode == 0, listed.stdout + listed.stderr
    rows = {line.split()[0] for line in listed.stdout.splitlines() if line.strip() and line.split()[0].isalpha()}
    assert {"dev", "feature", "qa"} <= rows


def test_the_workflow_runs_make_test_and_the_scratch_flow_only_with_a_dev_hub():
    workflow = yaml.safe_load((REPO / ".github" / "workflows" / "ci.yml").read_text())
    jobs = workflow["jobs"]
    assert [s.get("run") for s in jobs["test"]["steps"]][-1] == "make test"
    scratch = jobs["scratch-org"]
    assert scratch["needs"] == "test" and scratch["env"]["DEV_HUB_JWT_KEY"] == "${{ secrets.DEV_HUB_JWT_KEY }}"
    runs = "\n".join(s.get("run", "") for s in scratch["steps"])
    assert "cci flow run slotforce_ci_feature --org feature --delete-org" in runs
    assert "sf org login jwt" in runs and "--set-default-dev-hub" in runs
    for step in scratch["steps"][1:]:  # everything after the notice waits for the secret
        assert "env.DEV_HUB_JWT_KEY != ''" in step["if"]
