"""`make demo` tells the whole story: webhooks in, Events, participants and links out."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.sfcli
@pytest.mark.slow
def test_demo_runs_the_whole_path_on_a_fresh_local_org(tmp_path):
    slotforce = Path(sys.executable).parent / "slotforce"
    done = subprocess.run([str(slotforce), "demo", "--work-dir", str(tmp_path / "demo")], cwd=REPO,
                          capture_output=True, text=True, timeout=300, env=dict(os.environ, COLUMNS="200"))
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-3000:]
    # every posted change was synced and processed by the Flows
    assert "outbox drained: 8 changes done, 0 failed, 0 parked" in out
    assert out.count("│ Processed │") == 8, out
    # the contact booking: account found by website, guests and co-host on the Event, no-show mirrored
    assert "Priya Shah" in out and "Morgan Blake" in out
    assert "account_found_by_website" in out
    # links: profile links of active Users mapped, the unknown owner left unmatched
    assert "4 created" in out
    assert out.count("Mapped") == 2 and "Unmatched" in out
    assert "demo done" in out
