"""Transport and auth: what simple-salesforce and CumulusCI call before any data (wire-formats §2.1,
cumulusci-notes §3.3)."""

import pytest
import requests
import simple_salesforce
from simple_salesforce.exceptions import SalesforceExpiredSession, SalesforceResourceNotFound


def _get(local_org, path, token=None, **kw):
    headers = {"Authorization": f"Bearer {token or local_org.access_token}"}
    return local_org.session().get(local_org.instance_url + path, headers=headers, **kw)


def test_version_list_runs_from_31_to_63(local_org):
    """wire-formats §2.1: GET /services/data lists versions oldest -> newest; CumulusCI takes the last."""
    body = _get(local_org, "/services/data").json()
    assert body[0]["version"] == "31.0" and body[-1]["version"] == "63.0"
    assert body[-1]["url"] == "/services/data/v63.0" and len(body) == 33


def test_unsupported_version_is_not_found(local_org):
    """wire-formats §2.1 (real-org, Fidelic errors-012): unsupported version in a path -> 404 NOT_FOUND."""
    r = _get(local_org, "/services/data/v20.0/sobjects")
    assert r.status_code == 404 and r.json()[0]["errorCode"] == "NOT_FOUND"


def test_bad_token_is_invalid_session_id(local_org):
    """wire-formats §2.2: 401 INVALID_SESSION_ID 'Session expired or invalid' -> SalesforceExpiredSession."""
    sf = simple_salesforce.Salesforce(instance_url=local_org.instance_url, session_id="nope", version="62.0",
                                      session=local_org.session())
    with pytest.raises(SalesforceExpiredSession) as exc:
        sf.Contact.create({"LastName": "x"})
    assert exc.value.content[0]["errorCode"] == "INVALID_SESSION_ID"


def test_http_is_refused_only_https_is_served(local_org):
    """cumulusci-notes §3.1: clients force https://, so the org speaks TLS and nothing else."""
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(local_org.instance_url.replace("https", "http") + "/services/data", timeout=5)


def test_token_endpoint_refresh_grant_returns_our_instance_url(local_org, connected_app):
    """cumulusci-notes §3.3: the refresh response's instance_url overwrites the configured one."""
    refresh = local_org.oauth.issue_refresh_token(connected_app.client_id, local_org.username)
    r = local_org.session().post(local_org.instance_url + "/services/oauth2/token",
                                 data={"grant_type": "refresh_token", "refresh_token": refresh,
                                       "client_id": connected_app.client_id})
    body = r.json()
    assert r.status_code == 200 and body["instance_url"] == local_org.instance_url
    assert body["id"].endswith(f"/id/{local_org.org_id}/{local_org.user_id}")


def test_token_endpoint_password_grant_needs_the_users_password(local_org):
    """OAuth username-password flow: the org's username and password (org.json) or invalid_grant."""
    url = local_org.instance_url + "/services/oauth2/token"
    ok = local_org.session().post(url, data={"grant_type": "password", "username": local_org.username,
                                             "password": local_org.password})
    assert ok.status_code == 200 and ok.json()["id"].endswith(local_org.user_id)
    for username, password in ((local_org.username, "x"), (local_org.username, None),
                               ("former.employee@slotforce.localorg", local_org.password)):
        form = {"grant_type": "password", "username": username, **({"password": password} if password else {})}
        bad = local_org.session().post(url, data=form)
        assert (bad.status_code, bad.json()) == (400, {"error": "invalid_grant",
                                                       "error_description": "authentication failure"})


def test_userinfo_has_what_cumulusci_reads(local_org):
    """cumulusci-notes §3.3: GET /services/oauth2/userinfo, CumulusCI reads preferred_username."""
    body = _get(local_org, "/services/oauth2/userinfo").json()
    assert body["preferred_username"] == local_org.username
    assert body["organization_id"] == local_org.org_id and body["user_id"] == local_org.user_id


def test_organization_record_has_the_fields_cumulusci_reads(sf, local_org):
    """cumulusci-notes §3.3 step 4: OrganizationType, IsSandbox, InstanceName, NamespacePrefix, TrialExpirationDate."""
    org = sf.Organization.get(local_org.org_id)
    assert org["OrganizationType"] == "Developer Edition" and org["IsSandbox"] is False
    assert {"InstanceName", "NamespacePrefix", "TrialExpirationDate"} <= set(org)


def test_profiles_and_users_are_seeded(sf):
    """issue item 1: an admin user, an inactive user, System Administrator and Standard User profiles."""
    from simple_salesforce import Salesforce  # noqa: F401  (the client under test)

    users = sf.query("SELECT Username, IsActive, Profile.Name FROM User ORDER BY Username")["records"]
    assert [(u["IsActive"], u["Profile"]["Name"]) for u in users] == [
        (True, "System Administrator"), (False, "Standard User")]


def test_ids_have_key_prefix_and_checksum(sf):
    """wire-formats §5 IDs: 18 chars = 15-char id + 3-char case-safe suffix, key prefix per object."""
    from slotforce.localorg.store import id_suffix

    new_id = sf.Account.create({"Name": "Acme"})["id"]
    assert len(new_id) == 18 and new_id.startswith("001") and id_suffix(new_id[:15]) == new_id[15:]


def test_unknown_sobject_route_is_not_found(sf):
    """wire-formats §2.2 INVALID_TYPE row: /sobjects/Foo__c routes answer 404 NOT_FOUND."""
    with pytest.raises(SalesforceResourceNotFound):
        sf.Foo__c.create({"Name": "x"})
