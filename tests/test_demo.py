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
    assert "outbox drained: 11 changes done, 0 failed, 0 parked" in out
    assert out.count("│ Processed │") == 11, out
    # the contact booking: account found by website, guests and co-host on the Event; only the guest
    # who missed it (Priya) is a no-show, not the Event
    assert "Priya Shah" in out and "Morgan Blake" in out
    assert "account_found_by_website" in out
    assert "(no-show)" not in out and out.count("│ No Show   │ yes") == 1
    # the seated workshop: one Event; the seat given up is Canceled on its Lead, the workshop goes on
    assert out.count("│ Onboarding Workshop  ") == 1 and "│ Kenji Watanabe │" in out  # one Event row
    # links: profile links of active Users mapped, the unknown owner left unmatched
    assert "4 created" in out
    assert out.count("Mapped") == 2 and "Unmatched" in out
    assert "demo done" in out
