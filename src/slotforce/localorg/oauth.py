"""The local org's OAuth rules: connected apps, the JWT bearer and refresh-token grants, sessions (no HTTP).

Connected apps and refresh tokens are kept in STATE/oauth.json, so `slotforce org connected-app
add|token` change them while the org is being served: the token endpoint reads the file on every
request. Refresh tokens are stored as SHA-256 digests, as a real org never shows them again.

Access tokens the token endpoint hands out are sessions held in memory that end `session_seconds`
after they were issued (Salesforce's session timeout); a request carrying one after that answers
401 INVALID_SESSION_ID. org.json's own token is not a session: it stays valid for the org's life.

The JWT checks follow Salesforce's "OAuth 2.0 JWT Bearer Flow for Server-to-Server Integration":
RS256 signed with the key of the certificate uploaded to the connected app, `iss` its consumer key,
`sub` an active user's username, `aud` the authorization server's URL, `exp` not passed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from slotforce.localorg import errors
from slotforce.localorg.models import Org

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
FILE_NAME = "oauth.json"
# The authorization servers a production org (the local org is a Developer Edition) accepts as `aud`
# besides its own URL; a sandbox would take https://test.salesforce.com instead.
PRODUCTION_LOGIN = "https://login.salesforce.com"


@dataclass(frozen=True)
class Grant:
    """Who a token request authenticated: the user, and the connected app it went through."""

    user_id: str
    client_id: str
    refresh_digest: str | None = None  # the refresh token this session came from (revoke ends both)


@dataclass
class _Session:
    grant: Grant
    expires_at: float | None


class OAuth:
    """Connected apps, refresh tokens and sessions of one local org (state in `state_dir`/oauth.json)."""

    def __init__(self, org: Org, state_dir: Path, session_seconds: float | None = None) -> None:
        self.org = org
        self.path = Path(state_dir) / FILE_NAME
        self.session_seconds = session_seconds
        self._sessions: dict[str, _Session] = {}
        self._lock = threading.Lock()

    # --- connected apps and refresh tokens (the file) ---------------------------------------------------

    def add_connected_app(self, client_id: str, certificate_pem: str, callback_url: str | None = None) -> dict:
        """Register (or replace) a connected app; returns it with its consumer secret."""
        _public_key(certificate_pem)  # refuse what could never verify a signature
        state = self._read()
        app = {"client_id": client_id, "certificate": certificate_pem, "callback_url": callback_url,
               "consumer_secret": secrets.token_hex(32)}
        state["connected_apps"][client_id] = app
        self._write(state)
        return app

    def connected_app(self, client_id: str | None) -> dict:
        app = self._read()["connected_apps"].get(client_id or "")
        if app is None:
            raise errors.InvalidClientId()
        return app

    def issue_refresh_token(self, client_id: str, username: str) -> str:
        """A refresh token for `username` through `client_id`, as an approved authorization would give."""
        self.connected_app(client_id)
        user_id = self.active_user(username)
        token = f"5Aep{secrets.token_urlsafe(48)}"
        state = self._read()
        state["refresh_tokens"][_digest(token)] = {"client_id": client_id, "user_id": user_id}
        self._write(state)
        return token

    def _read(self) -> dict:
        try:
            state = json.loads(self.path.read_text())
        except FileNotFoundError:
            state = {}
        state.setdefault("connected_apps", {})
        state.setdefault("refresh_tokens", {})
        return state

    def _write(self, state: dict) -> None:
        # replace, never rewrite in place: a served org may be reading the file right now
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".oauth-")
        with os.fdopen(fd, "w") as out:
            json.dump(state, out, indent=2)
        os.chmod(tmp, 0o600)
        os.replace(tmp, self.path)

    # --- grants -----------------------------------------------------------------------------------------

    def jwt_bearer(self, assertion: str, own_url: str) -> Grant:
        """Check a JWT bearer assertion; raises the OAuth error Salesforce answers for what is wrong."""
        import jwt

        try:
            header = jwt.get_unverified_header(assertion)
            claims = jwt.decode(assertion, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise errors.InvalidGrant("invalid assertion") from None
        app = self.connected_app(claims.get("iss"))
        if header.get("alg") != "RS256":
            raise errors.InvalidGrant("invalid assertion")
        try:
            jwt.decode(assertion, _public_key(app["certificate"]), algorithms=["RS256"],
                       options={"verify_aud": False, "verify_exp": False, "verify_iat": False,
                                "verify_nbf": False})
        except jwt.PyJWTError:
            raise errors.InvalidGrant("invalid assertion") from None
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if not {str(a).rstrip("/") for a in audiences} & {own_url.rstrip("/"), PRODUCTION_LOGIN}:
            raise errors.InvalidGrant("audience is invalid")
        exp = claims.get("exp")
        if not isinstance(exp, (int, float)) or exp <= self._now():
            raise errors.InvalidGrant("expired authorization code")
        if not isinstance(claims.get("sub"), str):
            raise errors.InvalidGrant("invalid assertion")
        return Grant(self.active_user(claims["sub"], unknown="user hasn't approved this consumer"),
                     app["client_id"])

    def refresh(self, client_id: str | None, refresh_token: str | None, client_secret: str | None) -> Grant:
        """Check a refresh-token grant (the consumer secret only when the client sends one)."""
        app = self.connected_app(client_id)
        if client_secret is not None and not hmac.compare_digest(client_secret, app["consumer_secret"]):
            raise errors.InvalidClient()
        digest = _digest(refresh_token or "")
        issued = self._read()["refresh_tokens"].get(digest)
        if issued is None or issued["client_id"] != app["client_id"]:
            raise errors.InvalidGrant("expired access/refresh token")
        if not self._is_active(issued["user_id"]):
            raise errors.InvalidGrant("authentication failure")
        return Grant(issued["user_id"], app["client_id"], digest)

    def password(self, username: str | None, password: str | None, client_id: str | None,
                 client_secret: str | None) -> Grant:
        """Check a username-password grant: the user's own password (org.json has the admin's). A
        client_id, when sent, must name a connected app and a client_secret match it."""
        if client_id:
            app = self.connected_app(client_id)
            if client_secret is not None and not hmac.compare_digest(client_secret, app["consumer_secret"]):
                raise errors.InvalidClient()
        user_id = self.active_user(username or "")
        if not self.org.password_matches(user_id, password):
            raise errors.InvalidGrant("authentication failure")
        return Grant(user_id, client_id or "")

    def client_credentials(self, client_id: str | None, client_secret: str | None) -> Grant:
        """Check a client-credentials grant: a connected app and its consumer secret; the session runs
        as the app's run-as user, the admin."""
        app = self.connected_app(client_id)
        if not client_secret or not hmac.compare_digest(client_secret, app["consumer_secret"]):
            raise errors.InvalidClient()
        return Grant(self.org.user_id, app["client_id"])

    def revoke(self, token: str | None) -> None:
        """End a session, or revoke a refresh token and every session it opened."""
        with self._lock:
            if token and self._sessions.pop(token, None) is not None:
                return
        state = self._read()
        digest = _digest(token or "")
        if state["refresh_tokens"].pop(digest, None) is None:
            raise errors.InvalidToken()
        self._write(state)
        with self._lock:
            for key in [k for k, s in self._sessions.items() if s.grant.refresh_digest == digest]:
                del self._sessions[key]

    # --- sessions -----------------------------------------------------------------------------------

    def start_session(self, grant: Grant) -> str:
        token = f"{self.org.org_id[:15]}!{secrets.token_urlsafe(72)}"  # the shape of a Salesforce session id
        expires = self._now() + self.session_seconds if self.session_seconds else None
        with self._lock:
            self._sessions[token] = _Session(grant, expires)
        return token

    def session_user(self, token: str) -> str | None:
        """The user a live session runs as; None for an unknown or ended session."""
        with self._lock:
            session = self._sessions.get(token)
            if session is None:
                return None
            if session.expires_at is not None and session.expires_at <= self._now():
                del self._sessions[token]
                return None
            return session.grant.user_id

    # --- users --------------------------------------------------------------------------------------

    def active_user(self, username: str, *, unknown: str = "authentication failure") -> str:
        with self.org.lock:
            row = self.org.conn.execute('SELECT Id, IsActive FROM "User" WHERE Username = ? AND IsDeleted = 0',
                                        (username,)).fetchone()
        if row is None:
            raise errors.InvalidGrant(unknown)
        if not row[1]:
            raise errors.InvalidGrant("authentication failure")
        return row[0]

    def _is_active(self, user_id: str) -> bool:
        with self.org.lock:
            row = self.org.conn.execute('SELECT IsActive FROM "User" WHERE Id = ? AND IsDeleted = 0',
                                        (user_id,)).fetchone()
        return bool(row and row[0])

    def _now(self) -> float:
        return self.org.clock().timestamp()


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _public_key(certificate_pem: str):
    from cryptography import x509

    try:
        return x509.load_pem_x509_certificate(certificate_pem.encode()).public_key()
    except ValueError as exc:
        raise ValueError(f"not a PEM X.509 certificate ({exc}): upload the certificate (server.crt), "
                         "not the private key") from None
