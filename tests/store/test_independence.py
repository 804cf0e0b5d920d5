"""The store imports nothing of sources or sync: it stores JSON (DESIGN: sources -> sync -> store)."""

import subprocess
import sys


def test_store_imports_neither_sources_nor_sync():
    code = (
        "import sys, slotforce.store, slotforce.store.sqlite, slotforce.store.cli, slotforce.store.config;"
        "bad = sorted(m for m in sys.modules if m.startswith(('slotforce.sources', 'slotforce.sync')));"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == ""
