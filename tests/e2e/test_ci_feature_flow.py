"""The CI flow a scratch org runs, run here against the local org: `cci flow run slotforce_ci_feature`.

Deploy (the deploy_package flow: generate, validate, deploy, assign Slotforce_Integration), then the
Robot suites, unchanged: what CI runs on a fresh scratch org with `--org feature --delete-org`.
"""

from __future__ import annotations

import pytest

from .test_cumulusci_robot import SUITES, _test_count, robot_totals

pytestmark = [pytest.mark.sfcli, pytest.mark.slow]


def test_the_ci_feature_flow_deploys_assigns_and_passes_the_robot_suites(deployed_org, tmp_path):
    out, results = tmp_path / "force-app", tmp_path / "robot"
    paths = [a for step in ("generate_package", "validate_package", "deploy") for a in ("-o", f"{step}__path", str(out))]
    run = deployed_org.cci("flow", "run", "slotforce_ci_feature", "--org", "local", *paths,
                           "-o", "robot__options", f"outputdir:{results}", timeout=400)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    assert "Completed flow 'slotforce_ci_feature'" in run.stdout
    declared = sum(_test_count(p) for p in SUITES.glob("*.robot"))
    assert robot_totals(results / "output.xml") == {"pass": declared, "fail": 0, "skip": 0}
