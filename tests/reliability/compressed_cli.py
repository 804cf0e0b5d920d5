"""`slotforce` as a real process, with the outbox's clock compressed for tests that kill it.

In production a lease lasts 2 minutes and retries back off from 2 s to 15 min; a test that
SIGKILLs a worker cannot wait minutes for the lease to expire. Neither is a key of slotforce.yml,
so this launcher changes the two defaults before the command runs (nothing else is touched):

    python tests/reliability/compressed_cli.py sync --config slotforce.yml

SLOTFORCE_TEST_LEASE_SECONDS (default 3) sets the lease; the backoff is 0.02 s doubling to 0.2 s,
still 12 attempts.
"""

import os
from datetime import timedelta

from slotforce.service.worker import Worker
from slotforce.store import Backoff
from slotforce.store.sqlite import SqliteOutbox

LEASE_SECONDS = float(os.environ.get("SLOTFORCE_TEST_LEASE_SECONDS", 3))
Worker.__init__.__kwdefaults__["lease_for"] = timedelta(seconds=LEASE_SECONDS)
SqliteOutbox.__init__.__kwdefaults__["backoff"] = Backoff(base_seconds=0.02, cap_seconds=0.2, max_attempts=12)

if __name__ == "__main__":
    from slotforce.cli import main

    main()
