"""force-app/ is generated and committed: regenerating must not change a byte."""

from pathlib import Path

from slotforce.package import render
from slotforce.package.definition import slotforce_package

FORCE_APP = Path(__file__).resolve().parents[2] / "force-app"


def test_committed_force_app_matches_the_model():
    expected = render(slotforce_package())
    on_disk = {
        str(p.relative_to(FORCE_APP)): p.read_text(encoding="utf-8")
        for p in FORCE_APP.rglob("*") if p.is_file()
    }
    missing = sorted(set(expected) - set(on_disk))
    extra = sorted(set(on_disk) - set(expected))
    changed = sorted(k for k in set(expected) & set(on_disk) if expected[k] != on_disk[k])
    assert not (missing or extra or changed), (
        f"force-app is out of date (missing {missing}, extra {extra}, changed {changed}); "
        "run `slotforce package build` and commit force-app/")
