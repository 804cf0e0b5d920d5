"""pytest fixtures for tests that talk to a local org (a pytest plugin).

Use from a conftest.py:

    from slotforce.localorg.testing import local_org, local_org_session, sf  # noqa: F401

or, in the root conftest.py, `pytest_plugins = ["slotforce.localorg.testing"]`.

- `local_org_session`: one HTTPS local org for the whole test session (in memory, free port).
- `local_org`: the same org, reset to its seed data before the test (records, counters, faults).
  Deployed custom objects/fields and registered triggers stay: they are the org's configuration.
- `sf`: an unmodified simple_salesforce.Salesforce connected to `local_org`.
- `key_pair(folder)`: a private key and self-signed certificate (server.key, server.crt), as an admin
  makes them with openssl for a connected app; `connected_app` registers one with `local_org`.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from pathlib import Path

import pytest

from slotforce.localorg.server import LocalOrg


@pytest.fixture(scope="session")
def local_org_session():
    with LocalOrg() as org:
        yield org


@pytest.fixture
def local_org(local_org_session):
    local_org_session.reset()
    yield local_org_session


@pytest.fixture
def sf(local_org):
    client = local_org.client()
    yield client
    client.session.close()


def key_pair(folder: Path, name: str = "server") -> tuple[Path, Path]:
    """(NAME.key, NAME.crt) in `folder`: an RSA 2048 key and a self-signed certificate for it."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    folder.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "slotforce integration")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=365)).sign(key, hashes.SHA256()))
    key_file, cert_file = folder / f"{name}.key", folder / f"{name}.crt"
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_file, cert_file


@dataclass(frozen=True)
class ConnectedApp:
    client_id: str
    consumer_secret: str
    key_file: Path
    cert_file: Path


@pytest.fixture
def connected_app(local_org, tmp_path) -> ConnectedApp:
    """A connected app of `local_org` whose certificate belongs to `key_file` (a new consumer key per test)."""
    key_file, cert_file = key_pair(tmp_path / "jwt")
    client_id = f"3MVG9{secrets.token_hex(20)}"
    app = local_org.oauth.add_connected_app(client_id, cert_file.read_text())
    return ConnectedApp(client_id, app["consumer_secret"], key_file, cert_file)
