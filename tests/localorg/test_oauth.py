"""The local org's OAuth: connected apps, the JWT bearer and refresh-token grants, revoke, session expiry.

Bodies and statuses are Salesforce's ("OAuth 2.0 JWT Bearer Flow for Server-to-Server Integration",
"OAuth 2.0 Refresh Token Flow", "Revoke OAuth Tokens"): 400 {"error", "error_description"}.
"""

from __future__ import annotations

import json
import time

import jwt
import pytest
from click.testing import CliRunner

from slotforce.cli import main
from slotforce.localorg import LocalOrg
from slotforce.localorg.testing import key_pair

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"


def _assertion(key_file, **claims) -> str:
    body = {"iss": claims.pop("iss"), "sub": claims.pop("sub"), "aud": claims.pop("aud"),
            "exp": int(time.time()) + 180, **claims}
    return jwt.encode({k: v for k, v in body.items() if v is not None}, key_file.read_bytes(), algorithm="RS256")


def _token(org, **form):
    return org.session().post(org.instance_url + "/services/oauth2/token", data=form)


def _jwt(org, app, key_file=None, **claims):
    claims = {"iss": app.client_id, "sub": org.username, "aud": org.instance_url, **claims}
    return _token(org, grant_type=JWT_BEARER, assertion=_assertion(key_file or app.key_file, **claims))


def _get(org, path, token):
    return org.session().get(org.instance_url + path, headers={"Authorization": f"Bearer {token}"})


def test_jwt_bearer_grant_opens_a_session_for_the_user(local_org, connected_app):
    answer = _jwt(local_org, connected_app)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["instance_url"] == local_org.instance_url and body["token_type"] == "Bearer"
    assert body["access_token"] != local_org.access_token  # a session of its own, not org.json's token
    assert body["id"] == f"{local_org.instance_url}/id/{local_org.org_id}/{local_org.user_id}"
    assert _get(local_org, "/services/data/v62.0/limits", body["access_token"]).status_code == 200
    who = _get(local_org, "/services/oauth2/userinfo", body["access_token"]).json()
    assert who["preferred_username"] == local_org.username
    # Salesforce's own login URL is a production org's audience too
    assert _jwt(local_org, connected_app, aud="https://login.salesforce.com").status_code == 200


@pytest.mark.parametrize("change, error, description", [
    ({"iss": "3MVG9-not-registered"}, "invalid_client_id", "client identifier invalid"),
    ({"aud": "https://test.salesforce.com"}, "invalid_grant", "audience is invalid"),
    ({"exp": int(time.time()) - 5}, "invalid_grant", "expired authorization code"),
    ({"sub": "nobody@slotforce.localorg"}, "invalid_grant", "user hasn't approved this consumer"),
    ({"sub": "former.employee@slotforce.localorg"}, "invalid_grant", "authentication failure"),
])
def test_jwt_bearer_errors_are_salesforces(local_org, connected_app, change, error, description):
    answer = _jwt(local_org, connected_app, **change)
    assert answer.status_code == 400
    assert answer.json() == {"error": error, "error_description": description}


def test_a_key_that_is_not_the_certificates_is_an_invalid_assertion(local_org, connected_app, tmp_path):
    other_key, _ = key_pair(tmp_path / "other")
    answer = _jwt(local_org, connected_app, key_file=other_key)
    assert (answer.status_code, answer.json()) == (400, {"error": "invalid_grant",
                                                         "error_description": "invalid assertion"})
    for assertion in ("not-a-jwt", jwt.encode({"iss": connected_app.client_id}, "s" * 32, algorithm="HS256")):
        bad = _token(local_org, grant_type=JWT_BEARER, assertion=assertion)
        assert (bad.status_code, bad.json()["error_description"]) == (400, "invalid assertion")
    missing = _token(local_org, grant_type=JWT_BEARER)
    assert (missing.status_code, missing.json()["error"]) == (400, "invalid_request")


def test_refresh_tokens_are_issued_checked_and_revoked(local_org, connected_app):
    refresh = local_org.oauth.issue_refresh_token(connected_app.client_id, local_org.username)
    answer = _token(local_org, grant_type="refresh_token", client_id=connected_app.client_id, refresh_token=refresh)
    assert answer.status_code == 200 and answer.json()["instance_url"] == local_org.instance_url
    access = answer.json()["access_token"]
    with_secret = _token(local_org, grant_type="refresh_token", client_id=connected_app.client_id,
                         refresh_token=refresh, client_secret=connected_app.consumer_secret)
    assert with_secret.status_code == 200

    def refused(**form):
        r = _token(local_org, grant_type="refresh_token", **form)
        return r.status_code, r.json()

    assert refused(client_id=connected_app.client_id, refresh_token="5Aep-made-up") == (
        400, {"error": "invalid_grant", "error_description": "expired access/refresh token"})
    assert refused(client_id="3MVG9-other", refresh_token=refresh) == (
        400, {"error": "invalid_client_id", "error_description": "client identifier invalid"})
    assert refused(client_id=connected_app.client_id, refresh_token=refresh, client_secret="wrong") == (
        400, {"error": "invalid_client", "error_description": "invalid client credentials"})

    revoke = local_org.session().post(local_org.instance_url + "/services/oauth2/revoke", data={"token": refresh})
    assert revoke.status_code == 200
    assert refused(client_id=connected_app.client_id, refresh_token=refresh)[1]["error"] == "invalid_grant"
    assert _get(local_org, "/services/data/v62.0/limits", access).status_code == 401  # its sessions end too
    again = local_org.session().post(local_org.instance_url + "/services/oauth2/revoke", data={"token": refresh})
    assert (again.status_code, again.json()["error"]) == (400, "invalid_token")


def test_revoking_an_access_token_ends_that_session_only(local_org, connected_app):
    first, second = (_jwt(local_org, connected_app).json()["access_token"] for _ in range(2))
    assert local_org.session().get(local_org.instance_url + "/services/oauth2/revoke",
                                   params={"token": first}).status_code == 200
    ended = _get(local_org, "/services/data/v62.0/limits", first)
    assert ended.status_code == 401 and ended.json()[0]["errorCode"] == "INVALID_SESSION_ID"
    assert _get(local_org, "/services/data/v62.0/limits", second).status_code == 200


def test_sessions_end_after_session_seconds_and_org_json_token_does_not(tmp_path):
    key_file, cert_file = key_pair(tmp_path / "jwt")
    with LocalOrg(session_seconds=0.5) as org:
        org.oauth.add_connected_app("3MVG9-expiring", cert_file.read_text())
        token = _token(org, grant_type=JWT_BEARER, assertion=_assertion(
            key_file, iss="3MVG9-expiring", sub=org.username, aud=org.instance_url)).json()["access_token"]
        assert _get(org, "/services/data/v62.0/limits", token).status_code == 200
        time.sleep(0.6)
        ended = _get(org, "/services/data/v62.0/limits", token)
        assert ended.status_code == 401
        assert ended.json() == [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
        assert _get(org, "/services/data/v62.0/limits", org.access_token).status_code == 200


def test_connected_app_commands_register_an_app_and_issue_refresh_tokens(tmp_path):
    _, cert_file = key_pair(tmp_path / "jwt")
    state = tmp_path / "org"
    with LocalOrg(state) as org:
        runner = CliRunner()
        added = runner.invoke(main, ["org", "connected-app", "add", "--state", str(state), "--client-id",
                                     "3MVG9-cli", "--certificate", str(cert_file),
                                     "--callback-url", "http://localhost:1717/OauthRedirect"])
        assert added.exit_code == 0, added.output
        assert json.loads(added.output)["client_id"] == "3MVG9-cli"
        issued = runner.invoke(main, ["org", "connected-app", "token", "--state", str(state),
                                      "--client-id", "3MVG9-cli"])
        assert issued.exit_code == 0, issued.output
        refresh = json.loads(issued.output)["refresh_token"]
        answer = _token(org, grant_type="refresh_token", client_id="3MVG9-cli", refresh_token=refresh)
        assert answer.status_code == 200, answer.text  # the served org read what the command wrote

        not_a_cert = runner.invoke(main, ["org", "connected-app", "add", "--state", str(state), "--client-id",
                                          "x", "--certificate", str(tmp_path / "jwt" / "server.key")])
        assert not_a_cert.exit_code != 0 and "not the private key" in not_a_cert.output
        unknown = runner.invoke(main, ["org", "connected-app", "token", "--state", str(state),
                                       "--client-id", "3MVG9-nope"])
        assert unknown.exit_code != 0 and "connected-app add" in unknown.output
        inactive = runner.invoke(main, ["org", "connected-app", "token", "--state", str(state), "--client-id",
                                        "3MVG9-cli", "--username", "former.employee@slotforce.localorg"])
        assert inactive.exit_code != 0 and "not an active user" in inactive.output


def test_org_serve_session_seconds_ends_the_sessions_it_hands_out(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    import requests

    slotforce = str(Path(sys.executable).parent / "slotforce")
    key_file, cert_file = key_pair(tmp_path / "jwt")
    state = tmp_path / "org"
    added = subprocess.run([slotforce, "org", "connected-app", "add", "--state", str(state), "--client-id",
                            "3MVG9-served", "--certificate", str(cert_file)], capture_output=True, text=True)
    assert added.returncode == 0, added.stderr
    proc = subprocess.Popen([slotforce, "org", "serve", "--port", "0", "--state", str(state),
                             "--session-seconds", "1"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        info = json.loads(proc.stdout.readline())
        http = requests.Session()
        http.trust_env = False  # REQUESTS_CA_BUNDLE would win over verify
        http.verify = info["ca_bundle"]
        url = info["instance_url"]
        token = http.post(url + "/services/oauth2/token", data={"grant_type": JWT_BEARER, "assertion": _assertion(
            key_file, iss="3MVG9-served", sub=info["username"], aud=url)}).json()["access_token"]

        def limits(t):
            return http.get(url + "/services/data/v62.0/limits", headers={"Authorization": f"Bearer {t}"})

        assert limits(token).status_code == 200
        time.sleep(1.2)
        assert limits(token).status_code == 401
        assert limits(info["access_token"]).status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_password_grant_checks_the_connected_app_when_one_is_named(local_org, connected_app):
    form = {"grant_type": "password", "username": local_org.username, "password": local_org.password}
    ok = _token(local_org, client_id=connected_app.client_id, client_secret=connected_app.consumer_secret, **form)
    assert ok.status_code == 200
    token = ok.json()["access_token"]
    assert _get(local_org, "/services/oauth2/userinfo", token).json()["user_id"] == local_org.user_id
    unknown = _token(local_org, client_id="3MVG9-nobody", **form)
    wrong = _token(local_org, client_id=connected_app.client_id, client_secret="nope", **form)
    assert (unknown.status_code, unknown.json()) == (400, {"error": "invalid_client_id",
                                                           "error_description": "client identifier invalid"})
    assert (wrong.status_code, wrong.json()) == (400, {"error": "invalid_client",
                                                       "error_description": "invalid client credentials"})


def test_client_credentials_need_a_registered_app_and_its_secret(local_org, connected_app):
    ok = _token(local_org, grant_type="client_credentials", client_id=connected_app.client_id,
                client_secret=connected_app.consumer_secret)
    assert ok.status_code == 200
    me = _get(local_org, "/services/oauth2/userinfo", ok.json()["access_token"]).json()
    assert me["user_id"] == local_org.user_id  # the app's run-as user
    for form, error in (({}, "invalid_client_id"), ({"client_id": "3MVG9-nobody", "client_secret": "x"},
                                                    "invalid_client_id"),
                        ({"client_id": connected_app.client_id}, "invalid_client"),
                        ({"client_id": connected_app.client_id, "client_secret": "x"}, "invalid_client")):
        bad = _token(local_org, grant_type="client_credentials", **form)
        assert (bad.status_code, bad.json()["error"]) == (400, error), form


def test_a_token_request_by_get_is_refused_as_salesforce_does(local_org):
    r = local_org.session().get(local_org.instance_url + "/services/oauth2/token",
                                params={"grant_type": "password", "username": local_org.username,
                                        "password": local_org.password})
    assert (r.status_code, r.json()) == (400, {"error": "invalid_request", "error_description": "must use HTTP POST"})


def test_a_grant_nobody_asked_for_is_refused(local_org):
    for form in ({}, {"grant_type": "authorization_code", "code": "x"}, {"grant_type": "nonsense"}):
        bad = _token(local_org, **form)
        assert (bad.status_code, bad.json()) == (400, {"error": "unsupported_grant_type",
                                                       "error_description": "grant type not supported"})


def test_userinfo_and_revoke_follow_the_session(local_org):
    token = _token(local_org, grant_type="password", username=local_org.username,
                   password=local_org.password).json()["access_token"]
    assert _get(local_org, "/services/oauth2/userinfo", token).json()["preferred_username"] == local_org.username
    assert local_org.session().post(local_org.instance_url + "/services/oauth2/revoke",
                                    data={"token": token}).status_code == 200
    assert _get(local_org, "/services/oauth2/userinfo", token).status_code == 401
    again = local_org.session().post(local_org.instance_url + "/services/oauth2/revoke", data={"token": token})
    assert (again.status_code, again.json()["error"]) == (400, "invalid_token")



def test_an_admin_sets_a_users_password_and_the_user_logs_in_with_it(local_org, sf):
    """simple-salesforce's set_password: POST sobjects/User/{id}/password, as in Salesforce."""
    from simple_salesforce.exceptions import SalesforceMalformedRequest

    profile = sf.query("SELECT Id FROM Profile WHERE Name = 'Standard User'")["records"][0]["Id"]
    user = sf.User.create({"Username": "pat@slotforce.example", "LastName": "Pat", "Email": "pat@slotforce.example",
                           "Alias": "pat", "ProfileId": profile, "TimeZoneSidKey": "GMT", "LocaleSidKey": "en_US",
                           "EmailEncodingKey": "UTF-8", "LanguageLocaleKey": "en_US"})["id"]
    form = {"grant_type": "password", "username": "pat@slotforce.example"}
    assert _token(local_org, password="whatever1", **form).json()["error"] == "invalid_grant"  # none set yet
    sf.set_password(user, "s3cretpass")
    assert _token(local_org, password="s3cretpass", **form).status_code == 200
    for weak in ("short1", "lettersonly"):
        with pytest.raises(SalesforceMalformedRequest) as e:
            sf.set_password(user, weak)
        assert e.value.content[0]["errorCode"] == "INVALID_NEW_PASSWORD"
    url = f"{sf.base_url}sobjects/User/{user}/password"
    assert sf.session.get(url, headers=sf.headers).json() == {"isExpired": False}
    reset = sf.session.delete(url, headers=sf.headers).json()["NewPassword"]
    assert _token(local_org, password="s3cretpass", **form).status_code == 400
    assert _token(local_org, password=reset, **form).status_code == 200
