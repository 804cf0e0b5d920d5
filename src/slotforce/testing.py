"""pytest fixtures for tests that need slotforce's package deployed in a local org (a pytest plugin).

Registered in the repository's root conftest.py, next to `slotforce.localorg.testing`:

- `packaged_org`: the test session's local org with force-app deployed (objects, fields, Flows,
  permission sets) through the Metadata API and Slotforce_Integration assigned to its user, as CI
  deploys it;
- `org`: that org, its records back to the seed data before the test;
- `config_file`: a slotforce.yml in the test's tmp folder pointing at `org`, with an outbox beside
  it and the `api` source's secret set in the environment (`write_config` builds other ones);
- `assign_integration(client, user_id)`: Slotforce_Integration for a user, as deploy_package assigns it;
- `wait_for(predicate)`: poll until something a background worker does has happened;
- `free_port()`: a TCP port on 127.0.0.1 nothing listens on, for a `slotforce serve` a test starts;
- `fill_disk(db)` / `free_disk(db)`: a SQLite connection that can no longer grow its file, as on a
  full disk (SQLite's `max_page_count`), and back;
- `postgres_server` (session) / `postgres_url` (a new database per test): a real PostgreSQL run from
  Debian's binaries in a temporary directory (`running_postgres()`, also used by the bench); the
  tests that need it skip, saying why, when the binaries are missing.
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import shutil
import socket
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from slotforce.package import deploy

API_SECRET = "test-api-secret"
API_SECRET_ENV = "SLOTFORCE_TEST_API_SECRET"


def wait_for(predicate, timeout: float = 15.0):
    """`predicate()`'s first truthy value, polled every 50 ms; AssertionError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"not true within {timeout} s")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fill_disk(db: sqlite3.Connection, spare_pages: int = 0) -> None:
    """Let `db` allocate no page past `spare_pages` more, and use up the room left in its pages, so the
    next write that needs space fails with SQLITE_FULL ("database or disk is full")."""
    db.execute("CREATE TABLE IF NOT EXISTS disk_filler (b BLOB)")
    db.execute(f"PRAGMA max_page_count = {db.execute('PRAGMA page_count').fetchone()[0]}")
    try:
        while True:
            db.execute("INSERT INTO disk_filler VALUES (zeroblob(64))")
    except sqlite3.OperationalError:
        pass
    db.execute(f"PRAGMA max_page_count = {db.execute('PRAGMA page_count').fetchone()[0] + spare_pages}")


def free_disk(db: sqlite3.Connection) -> None:
    db.execute("PRAGMA max_page_count = 1073741823")


def write_config(folder: Path, org, **extra) -> Path:
    """slotforce.yml in `folder` for `org` (a LocalOrg); `extra` top-level keys are added as given."""
    doc = {"salesforce": {"local": str(org.state_dir)}, "store": "sqlite:///outbox.db",
           "sources": {"api": {"secret_env": API_SECRET_ENV}}, **extra}
    path = folder / "slotforce.yml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def assign_integration(client, user_id: str) -> None:
    """Give `user_id` Slotforce_Integration, as `cci flow run deploy_package` ends (the running user)."""
    permission_set = client.query("SELECT Id FROM PermissionSet WHERE Name = 'Slotforce_Integration'")["records"][0]
    client.PermissionSetAssignment.create({"AssigneeId": user_id, "PermissionSetId": permission_set["Id"]})


@pytest.fixture(scope="session")
def packaged_org(local_org_session):
    client = local_org_session.client()
    deploy(client)
    assign_integration(client, local_org_session.user_id)
    client.session.close()
    return local_org_session


@pytest.fixture
def org(packaged_org):
    packaged_org.reset()
    return packaged_org


@pytest.fixture
def config_file(tmp_path, org, monkeypatch):
    monkeypatch.setenv(API_SECRET_ENV, API_SECRET)
    return write_config(tmp_path, org)


# -- PostgreSQL ---------------------------------------------------------------------------------

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


class PostgresMissing(Exception):
    """No PostgreSQL server binaries here, or no unprivileged user to run them as."""


@contextlib.contextmanager
def running_postgres() -> Iterator[PostgresServer]:
    """A throwaway PostgreSQL server (Debian's binaries; as `postgres` when run as root, which
    PostgreSQL refuses), in a temporary directory on a free port, fsync off; removed afterwards."""
    bindir = _bindir()
    if bindir is None:
        raise PostgresMissing("PostgreSQL binaries not found under /usr/lib/postgresql (apt-get install postgresql;"
                              " `make test` does it when run as root)")
    base = Path(tempfile.mkdtemp(prefix="slotforce-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        import pwd

        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            raise PostgresMissing("running as root and there is no `postgres` user to run PostgreSQL as") from None
        os.chown(base, owner.pw_uid, owner.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    data, port = base / "data", free_port()
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




@pytest.fixture(scope="session")
def postgres_server():
    """One PostgreSQL server for the test session (skipped, saying why, without the binaries)."""
    try:
        with running_postgres() as server:
            yield server
    except PostgresMissing as missing:
        pytest.skip(str(missing))

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
