"""Run the local org over HTTPS: TLS material and org.json in a state dir, uvicorn in a thread.

State dir layout (made on first start, reused after):
    org.db          SQLite: schema, records, ids, session token
    ca.pem          the local certificate authority (clients trust this)
    server.pem      the server's key and certificate for 127.0.0.1 / localhost, signed by ca.pem
    ca-bundle.pem   the system's CAs plus ca.pem (for REQUESTS_CA_BUNDLE: other hosts keep working)
    org.json        how to connect (instance_url, access_token, org_id, username, password, user_id, ...)
    oauth.json      connected apps and refresh tokens (oauth.py; `slotforce org connected-app`)
"""

from __future__ import annotations

import json
import logging
import os
import pathlib
import socket
import tempfile
import threading
import time

from slotforce.localorg.faults import Faults
from slotforce.localorg.metadata import attach
from slotforce.localorg.models import Org
from slotforce.localorg.oauth import OAuth
from slotforce.localorg.rest.app import MAX_HEAD_BYTES, build_app

API_VERSION = "62.0"


class _QuietShutdown(logging.Filter):
    """Idle keep-alive TLS connections never finish closing; cutting them at shutdown is expected."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "timeout graceful shutdown exceeded" not in record.getMessage()


logging.getLogger("uvicorn.error").addFilter(_QuietShutdown())


def ensure_tls(state_dir: pathlib.Path) -> tuple[pathlib.Path, pathlib.Path]:
    """(ca.pem, server.pem) in `state_dir`, made with trustme the first time."""
    ca_path, server_path = state_dir / "ca.pem", state_dir / "server.pem"
    if not (ca_path.exists() and server_path.exists()):
        import trustme

        ca = trustme.CA(organization_name="slotforce local org")
        cert = ca.issue_cert("127.0.0.1", "localhost", "::1")
        ca.cert_pem.write_to_path(str(ca_path))
        cert.private_key_and_cert_chain_pem.write_to_path(str(server_path))
        os.chmod(server_path, 0o600)
    ensure_bundle(state_dir)
    return ca_path, server_path


def system_ca_file() -> str | None:
    """The CA bundle requests would use without us (env first, then certifi)."""
    for var in ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "CURL_CA_BUNDLE"):
        path = os.environ.get(var)
        if path and os.path.isfile(path) and not path.endswith("ca-bundle.pem"):
            return path
    try:
        import certifi

        return certifi.where()
    except ImportError:
        return None


def ensure_bundle(state_dir: pathlib.Path) -> pathlib.Path:
    bundle = state_dir / "ca-bundle.pem"
    ca = (state_dir / "ca.pem").read_text()
    system = system_ca_file()
    text = (pathlib.Path(system).read_text() if system else "").rstrip("\n") + "\n" + ca
    if not bundle.exists() or bundle.read_text() != text:
        bundle.write_text(text)
    return bundle


def bind(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # accepted sockets inherit this on Linux: without it Nagle + delayed ACK add ~40 ms per call
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


class LocalOrg:
    """A local Salesforce org served over HTTPS; use as a context manager.

        with LocalOrg() as org:
            sf = org.client()
            sf.Contact.create({"LastName": "Ada"})

    `state_dir=None` keeps everything in a temporary directory (records in memory) that goes
    away on exit; `port=0` picks a free port. Access tokens the OAuth token endpoint hands out
    end after `session_seconds` (None: never); org.json's token always works.
    """

    def __init__(self, state_dir: str | os.PathLike | None = None, port: int = 0, *,
                 session_seconds: float | None = None) -> None:
        self._tmp = None
        if state_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="slotforce-org-")
            state = pathlib.Path(self._tmp.name)
            db = ":memory:"
        else:
            # Absolute, so org.json's ca_bundle works from any working directory.
            state = pathlib.Path(state_dir).resolve()
            state.mkdir(parents=True, exist_ok=True)
            db = str(state / "org.db")
        self.state_dir = state
        self.ca_bundle_path, self.server_pem = ensure_tls(state)
        self.org = Org(db)
        attach(self.org)  # the Flows deployed before a restart run again (the Metadata part owns both)
        self.org.oauth = self.oauth = OAuth(self.org, state, session_seconds)
        self.faults = Faults()
        self._sock = bind(port)
        self.port = self._sock.getsockname()[1]
        self.org.instance_url = self.instance_url
        self._server = None
        self._thread: threading.Thread | None = None

    # --- connection facts -------------------------------------------------------------------------

    @property
    def instance_url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def access_token(self) -> str:
        return self.org.access_token

    @property
    def password(self) -> str:
        """The admin user's password (the OAuth password grant, partner SOAP login)."""
        return self.org.password

    @property
    def org_id(self) -> str:
        return self.org.org_id

    @property
    def user_id(self) -> str:
        return self.org.user_id

    @property
    def username(self) -> str:
        return self.org.username

    @property
    def ca_bundle(self) -> str:
        """Our CA alone (give it to a session with trust_env off); ca-bundle.pem has system CAs too."""
        return str(self.ca_bundle_path)

    @property
    def combined_ca_bundle(self) -> str:
        return str(self.state_dir / "ca-bundle.pem")

    def info(self) -> dict:
        """What org.json holds (DESIGN.md)."""
        return {"instance_url": self.instance_url, "access_token": self.access_token, "org_id": self.org_id,
                "username": self.username, "password": self.password, "user_id": self.user_id,
                "ca_bundle": self.ca_bundle,
                "api_version": API_VERSION}

    def env_exports(self, name: str = "local") -> dict[str, str]:
        """The variables `slotforce org env` prints for this org (see `env_exports`)."""
        return env_exports(self.state_dir, name, self.info())

    def write_org_json(self) -> pathlib.Path:
        path = self.state_dir / "org.json"
        path.write_text(json.dumps(self.info(), indent=2) + "\n")
        os.chmod(path, 0o600)
        return path

    # --- serving ----------------------------------------------------------------------------------

    def _make_server(self, grace_seconds: float = 0.25):
        import uvicorn

        config = uvicorn.Config(build_app(self.org, self.faults), ssl_certfile=str(self.server_pem),
                                log_level="warning", access_log=False, lifespan="off", http="h11",
                                timeout_keep_alive=30, timeout_graceful_shutdown=grace_seconds,
                                h11_max_incomplete_event_size=MAX_HEAD_BYTES)  # app.py answers 414/431
        return uvicorn.Server(config)

    def start(self) -> LocalOrg:
        """Serve in a background thread; returns once the server accepts connections."""
        self._server = self._make_server()
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._sock]},
                                        name=f"localorg:{self.port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 15
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError("the local org server stopped while starting; see the log above")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the local org did not start on port {self.port} within 15 s")
            time.sleep(0.01)
        self.write_org_json()
        self._start_ticker()
        return self

    def _start_ticker(self) -> None:
        self._ticking = threading.Event()
        self._ticker = threading.Thread(target=self._tick, name=f"localorg-clock:{self.port}", daemon=True)
        self._ticker.start()

    def _tick(self) -> None:
        """Real-time mode: scheduled flow paths run within a second of falling due."""
        while not self._ticking.wait(1.0):
            try:
                if self.org.flows is not None:
                    self.org.flows.run_due()
            except Exception:  # noqa: BLE001 - the next tick tries again; a failed batch is marked failed
                logging.getLogger(__name__).exception("running due scheduled flow paths")

    def serve_forever(self) -> None:
        """Serve in this thread until SIGINT/SIGTERM (requests in flight get 2 s to finish)."""
        self._server = self._make_server(grace_seconds=2)
        self.write_org_json()
        self._start_ticker()
        self._server.run(sockets=[self._sock])

    def stop(self) -> None:
        if getattr(self, "_ticker", None) is not None:
            self._ticking.set()
            self._ticker.join(timeout=5)
            self._ticker = None
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        try:
            self._sock.close()
        except OSError:
            pass
        self.org.close()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> LocalOrg:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- clients and control ------------------------------------------------------------------------

    def session(self):
        """A requests.Session that trusts the local CA (and ignores REQUESTS_CA_BUNDLE, which would win)."""
        import requests

        s = requests.Session()
        s.trust_env = False
        s.verify = self.ca_bundle
        return s

    def client(self, version: str = API_VERSION):
        """An unmodified simple_salesforce.Salesforce connected to this org."""
        from simple_salesforce import Salesforce

        return Salesforce(instance_url=self.instance_url, session_id=self.access_token, version=version,
                          session=self.session())

    def stats(self) -> dict:
        return self.org.stats()

    def reset(self) -> None:
        """Records back to the seed data; counters, faults and query cursors cleared."""
        self.org.reset()
        self.faults.clear()
        if self.org.flows is not None:
            self.org.flows.clear_paths()

    def set_api_budget(self, daily_max: int | None = None, used: int | None = None) -> None:
        """The daily API request budget (REQUEST_LIMIT_EXCEEDED once `used` reaches `daily_max`)."""
        self.org.set_api_budget(daily_max=daily_max, used=used)

    def convert_lead(self, lead_id: str, **kw) -> dict:
        return self.org.convert_lead(lead_id, **kw)


def read_org_json(state_dir: str | os.PathLike) -> dict:
    path = pathlib.Path(state_dir) / "org.json"
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist: start the org first with `slotforce org serve --state "
                                f"{state_dir}`")
    return json.loads(path.read_text())


def env_exports(state_dir: str | os.PathLike, name: str = "local", info: dict | None = None) -> dict[str, str]:
    """What `slotforce org env` exports: requests trusts our CA (and the system's); CumulusCI knows the
    org as `name` and uses its token as it is (no OAuth refresh)."""
    info = info or read_org_json(state_dir)
    bundle = ensure_bundle(pathlib.Path(state_dir))
    cci = {"instance_url": info["instance_url"], "access_token": info["access_token"], "org_id": info["org_id"],
           "username": info["username"], "id": f"{info['instance_url']}/id/{info['org_id']}/{info['user_id']}"}
    return {"REQUESTS_CA_BUNDLE": str(bundle.resolve()),
            f"CUMULUSCI_ORG_{name}": json.dumps(cci, separators=(",", ":")),
            "CUMULUSCI_DISABLE_REFRESH": "1"}
