"""A real PostgreSQL for the tests: `postgres_server` (one per session) and `postgres_url` (a fresh database).

The server runs from Debian's binaries (`make test` installs them when missing) in a temporary
directory, as the unprivileged `postgres` user when the tests run as root (PostgreSQL refuses
root), on a free port, with fsync off (a test database need not survive power loss); it is
stopped and removed after the session. Without the binaries the PostgreSQL tests skip, saying so.
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass(frozen=True)
class PostgresServer:
    host: str
    port: int
    user: str

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{self.user}@{self.host}:{self.port}/{database}"


def _bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def postgres_server():
    bindir = _bindir()
    if bindir is None:
        pytest.skip("PostgreSQL binaries not found under /usr/lib/postgresql (apt-get install postgresql;"
                    " `make test` does it when run as root)")
    base = Path(tempfile.mkdtemp(prefix="slotforce-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        import pwd

        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no `postgres` user to run PostgreSQL as")
        os.chown(base, owner.pw_uid, owner.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    data, port = base / "data", _free_port()
    subprocess.run([*as_user, str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "slotforce",
                    "--no-sync", "-E", "UTF8"], check=True, capture_output=True)
    log = open(base / "postgres.log", "wb")
    server = subprocess.Popen([*as_user, str(bindir / "postgres"), "-D", str(data), "-k", str(base), "-p", str(port),
                               "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off",
                               "-c", "full_page_writes=off", "-c", "max_connections=200"],
                              stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while subprocess.run([str(bindir / "pg_isready"), "-h", "127.0.0.1", "-p", str(port)],
                             capture_output=True).returncode != 0:
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"PostgreSQL did not start: {(base / 'postgres.log').read_text()[-2000:]}")
            time.sleep(0.1)
        yield PostgresServer("127.0.0.1", port, "slotforce")
    finally:
        server.terminate()  # SIGTERM: "smart" shutdown; the test connections are closed by now
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
        shutil.rmtree(base, ignore_errors=True)


_databases = itertools.count(1)


@pytest.fixture
def postgres_url(postgres_server):
    """A new, empty database of the session's server, dropped after the test."""
    import psycopg

    name = f"t{os.getpid()}_{next(_databases)}"
    with psycopg.connect(postgres_server.url(), autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    yield postgres_server.url(name)
    with psycopg.connect(postgres_server.url(), autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
