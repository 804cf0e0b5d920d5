"""Bulk API 1.0 (/services/async) against the local org: salesforce_bulk (the client CumulusCI uses), raw HTTP
for the edge cases, and `cci task run load_dataset` / `extract_dataset` / `snowfakery` end to end."""

import csv
import gzip
import io
import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import requests
from salesforce_bulk import SalesforceBulk
from salesforce_bulk.salesforce_bulk import BulkBatchFailed

from slotforce.cci import cci_env
from slotforce.localorg.bulk1 import jobs1_of
from tests.localorg.test_bulk2 import title_flow  # noqa: F401 (a fixture: a before-save Flow on Contact)
from tests.localorg.test_first_hour_clients import TOOLS, _env, sf_cli  # noqa: F401 (sf_cli: a fixture)

NS = "{http://www.force.com/2009/06/asyncapi/dataload}"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "bulkdata"
BIN = Path(sys.executable).parent


@pytest.fixture
def bulk(local_org, monkeypatch):
    """salesforce_bulk.SalesforceBulk as CumulusCI makes it (BaseSalesforceApiTask._init_bulk)."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(local_org.ca_bundle))
    return SalesforceBulk(host=local_org.instance_url.replace("https://", ""), sessionId=local_org.access_token,
                          API_version="62.0")


def _post_csv(bulk, job, text: str) -> str:
    return bulk.post_batch(job, iter([text.encode()]))


def _done(bulk, job, batch) -> dict:
    bulk.wait_for_batch(job, batch, sleep_interval=0.05, timeout=30)
    return bulk.batch_status(batch, job, reload=True)


def _get(bulk, path: str, **kw) -> requests.Response:
    return requests.get(f"{bulk.endpoint}/{path}", headers={**bulk.headers(), **kw.pop("headers", {})}, **kw)


def _post(bulk, path: str, data, **kw) -> requests.Response:
    return requests.post(f"{bulk.endpoint}/{path}", data=data, headers={**bulk.headers(), **kw.pop("headers", {})},
                         **kw)


def test_an_insert_job_reports_each_row_and_the_job_counts(bulk, sf):
    job = bulk.create_insert_job("Contact", contentType="CSV")
    batch = _post_csv(bulk, job, '"LastName","Email"\n"Ada","ada@example.com"\n"","nobody@example.com"\n'
                                 '"Grace","grace@example.com"\n')
    bulk.close_job(job)
    info = _done(bulk, job, batch)
    assert (info["state"], info["numberRecordsProcessed"], info["numberRecordsFailed"]) == ("Completed", "3", "1")
    results = bulk.get_batch_results(batch, job)
    assert [(r.success, r.created) for r in results] == [("true", "true"), ("false", "false"), ("true", "true")]
    assert results[0].id.startswith("003") and results[1].id == ""
    assert results[1].error == "REQUIRED_FIELD_MISSING:Required fields are missing: [LastName]:LastName --"
    raw = _get(bulk, f"job/{job}/batch/{batch}/result")
    assert raw.headers["Content-Type"] == "text/csv" and raw.text.splitlines()[0] == '"Id","Success","Created","Error"'
    status = bulk.job_status(job)
    assert (status["state"], status["numberBatchesCompleted"], status["numberBatchesTotal"]) == ("Closed", "1", "1")
    assert (status["numberRecordsProcessed"], status["numberRecordsFailed"], status["apiVersion"]) == ("3", "1", "62.0")
    listed = ET.fromstring(_get(bulk, f"job/{job}/batch").content)
    assert listed.tag == f"{NS}batchInfoList" and [b.findtext(f"{NS}id") for b in listed] == [batch]
    assert _get(bulk, f"job/{job}/batch/{batch}/request").text.startswith('"LastName","Email"')
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 2


def test_update_upsert_delete_hard_delete_and_query_all(bulk, sf, local_org):
    a = sf.Account.create({"Name": "Acme"})["id"]
    b = sf.Account.create({"Name": "Globex"})["id"]
    job = bulk.create_update_job("Account", contentType="CSV")
    batch = _post_csv(bulk, job, f"Id,Industry\n{a},Energy\n001000000000999AAA,Energy\n")
    _done(bulk, job, batch)
    updated = bulk.get_batch_results(batch, job)
    assert [(r.success, r.created) for r in updated] == [("true", "false"), ("false", "false")]
    assert sf.Account.get(a)["Industry"] == "Energy"

    job = bulk.create_upsert_job("Account", external_id_name="Id", contentType="CSV")
    batch = _post_csv(bulk, job, f"Id,Name\n{b},Globex Corp\n")
    _done(bulk, job, batch)
    assert bulk.get_batch_results(batch, job)[0].success == "true" and sf.Account.get(b)["Name"] == "Globex Corp"

    for operation, record in (("delete", a), ("hardDelete", b)):
        job = bulk.create_job("Account", operation, contentType="CSV")
        batch = _post_csv(bulk, job, f"Id\n{record}\n")
        _done(bulk, job, batch)
        assert bulk.get_batch_results(batch, job)[0].success == "true"
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == 0
    job = bulk.create_queryall_job("Account", contentType="CSV")
    batch = bulk.query(job, "SELECT Id, IsDeleted FROM Account")
    _done(bulk, job, batch)
    (result,) = bulk.get_all_results_for_query_batch(batch, job)
    rows = list(csv.DictReader(io.TextIOWrapper(result, "utf-8")))
    assert rows == [{"Id": a, "IsDeleted": "true"}]  # the hard-deleted one is not in the Recycle Bin


def test_query_jobs_answer_csv_and_json_results(bulk, sf):
    account = sf.Account.create({"Name": "Acme"})["id"]
    sf.Contact.create({"LastName": "Ada", "AccountId": account})
    sf.Contact.create({"LastName": "Bob"})
    job = bulk.create_query_job("Contact", contentType="CSV")
    batch = bulk.query(job, "SELECT LastName, Account.Name, CreatedDate FROM Contact ORDER BY LastName")
    bulk.close_job(job)
    _done(bulk, job, batch)
    (result_id,) = bulk.get_query_batch_result_ids(batch, job)
    assert result_id.startswith("752")
    text = _get(bulk, f"job/{job}/batch/{batch}/result/{result_id}").text
    lines = text.splitlines()
    assert lines[0] == '"LastName","Account.Name","CreatedDate"' and lines[1].startswith('"Ada","Acme","20')
    assert re.search(r'"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"$', lines[1]) and lines[2].startswith('"Bob",""')

    job = bulk.create_query_job("Contact", contentType="JSON")  # CumulusCI's get_prev_record_values
    batch = bulk.query(job, "SELECT Id, LastName FROM Contact WHERE LastName = 'Ada'")
    bulk.wait_for_batch(job, batch, sleep_interval=0.05)
    (result,) = bulk.get_all_results_for_query_batch(batch, job)
    (record,) = json.load(result)
    assert record["LastName"] == "Ada" and record["attributes"]["type"] == "Contact"

    job = bulk.create_query_job("Contact", contentType="CSV")
    batch = bulk.query(job, "SELECT Id FROM Contact WHERE LastName = 'Nobody'")
    _done(bulk, job, batch)
    (result_id,) = bulk.get_query_batch_result_ids(batch, job)
    assert _get(bulk, f"job/{job}/batch/{batch}/result/{result_id}").text == "Records not found for this query"


def test_a_json_job_speaks_json(bulk, local_org):
    headers = {"Content-Type": "application/json; charset=UTF-8"}
    created = _post(bulk, "job", json.dumps({"operation": "insert", "object": "Lead", "contentType": "JSON"}),
                    headers=headers)
    assert created.status_code == 201 and created.headers["Content-Type"] == "application/json"
    job = created.json()
    assert (job["state"], job["contentType"], job["apiVersion"]) == ("Open", "JSON", 62.0)
    batch = _post(bulk, f"job/{job['id']}/batch", json.dumps([{"LastName": "Noether", "Company": "Erlangen"},
                                                              {"Company": "No name"}]), headers=headers).json()
    assert batch["state"] == "Queued"
    bulk.jobs[job["id"]] = job["id"]
    bulk.job_content_types[job["id"]] = "JSON"
    bulk.wait_for_batch(job["id"], batch["id"], sleep_interval=0.05)
    ok, bad = _get(bulk, f"job/{job['id']}/batch/{batch['id']}/result").json()
    assert ok["success"] and ok["created"] and ok["id"].startswith("00Q") and ok["errors"] == []
    assert not bad["success"] and bad["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    closed = _post(bulk, f"job/{job['id']}", json.dumps({"state": "Closed"}), headers=headers).json()
    assert closed["state"] == "Closed" and closed["numberRecordsProcessed"] == 2


def test_bulk_saves_run_flows_and_triggers_in_chunks_of_200(bulk, title_flow, triggers, local_org, sf):  # noqa: F811
    sizes = []

    def count(ctx, sobject, event, new, old):
        if sobject.name == "Contact":
            sizes.append(len(new))

    local_org.org.triggers.append(count)
    triggers.append(count)
    job = bulk.create_insert_job("Contact", contentType="CSV")
    batch = _post_csv(bulk, job, "LastName\n" + "".join(f"C{i}\n" for i in range(450)))
    assert _done(bulk, job, batch)["numberRecordsProcessed"] == "450"
    assert sizes == [200, 200, 50]
    assert {r["Title"] for r in sf.query_all("SELECT Title FROM Contact")["records"]} == {"From a flow"}


def test_a_bad_batch_fails_with_salesforces_state_message(bulk):
    job = bulk.create_insert_job("Contact", contentType="CSV")
    unknown = _post_csv(bulk, job, "LastName,Nope__c\nAda,x\n")
    ragged = _post_csv(bulk, job, "LastName,Email\nAda\n")
    for batch, message in ((unknown, "InvalidBatch : Field name not found : Nope__c"),
                           (ragged, "ClientInputError : Wrong number of columns on line 2")):
        with pytest.raises(BulkBatchFailed) as failed:
            bulk.wait_for_batch(job, batch, sleep_interval=0.05)
        assert failed.value.state == "Failed" and failed.value.state_message.startswith(message)
    early = _get(bulk, f"job/{job}/batch/{unknown}/result")
    assert early.status_code == 400 and "<exceptionCode>InvalidBatch</exceptionCode>" in early.text
    query = bulk.create_query_job("Contact", contentType="CSV")
    batch = bulk.query(query, "SELECT Nope FROM Contact")
    with pytest.raises(BulkBatchFailed) as failed:
        bulk.wait_for_batch(query, batch, sleep_interval=0.05)
    assert failed.value.state_message.startswith("InvalidBatch : Failed to process query: INVALID_FIELD")


def _error(resp: requests.Response) -> tuple[int, str, str]:
    if resp.headers["Content-Type"] == "application/json":
        body = resp.json()
        return resp.status_code, body["exceptionCode"], body["exceptionMessage"]
    root = ET.fromstring(resp.content)
    assert root.tag == f"{NS}error", resp.text
    return resp.status_code, root.findtext(f"{NS}exceptionCode"), root.findtext(f"{NS}exceptionMessage")


def test_wrong_states_unknown_ids_and_bad_requests_answer_bulk_errors(bulk, local_org):
    job = bulk.create_insert_job("Account", contentType="CSV")
    bulk.abort_job(job)
    assert bulk.job_status(job)["state"] == "Aborted"
    assert _error(_post(bulk, f"job/{job}/batch", "Name\nX\n", headers={"Content-Type": "text/csv"}))[:2] == (
        400, "InvalidJobState")
    assert _error(_post(bulk, f"job/{job}", bulk.create_close_job_doc()))[:3] == (
        400, "InvalidJobState", "Closing already Aborted Job not allowed")
    assert _error(_get(bulk, "job/750000000000999AAA"))[:2] == (400, "InvalidJob")
    assert _error(_get(bulk, f"job/{job}/batch/751000000000999AAA"))[:2] == (400, "InvalidBatch")
    assert _error(_post(bulk, "job", "<jobInfo"))[1] == "InvalidXML"
    assert _error(_post(bulk, "job", bulk.create_job_doc("Nope__c", "insert")))[1:] == (
        "InvalidJob", "Unable to find object: Nope__c")
    assert _error(_post(bulk, "job", bulk.create_job_doc("Account", "merge")))[1] == "InvalidOperation"
    assert "External ID was blank" in _error(_post(bulk, "job", bulk.create_job_doc("Account", "upsert")))[2]
    chunked = _post(bulk, "job", bulk.create_job_doc("Account", "query"), headers={"Sforce-Enable-PKChunking": "true"})
    assert _error(chunked)[1] == "UNSUPPORTED_BY_LOCAL_ORG" and "PK chunking" in _error(chunked)[2]
    assert _error(_post(bulk, "job", bulk.create_job_doc("Account", "insert", contentType="XML")))[1] == (
        "UNSUPPORTED_BY_LOCAL_ORG")
    assert _error(requests.put(f"{bulk.endpoint}/job/{job}", headers=bulk.headers()))[:2] == (405, "InvalidUrl")
    spec = _error(_post(bulk, f"job/{job}/spec", "Name,Name\n"))
    assert spec[1] == "UNSUPPORTED_BY_LOCAL_ORG" and "spec" in spec[2]
    for headers in ({"X-SFDC-Session": "00Dnope"}, {"Content-Type": "application/json", "X-SFDC-Session": ""}):
        assert _error(_get(bulk, f"job/{job}", headers=headers))[:2] == (400, "InvalidSessionId")
    bearer = requests.get(f"{bulk.endpoint}/job/{job}", headers={"Authorization": f"Bearer {local_org.access_token}"})
    assert bearer.status_code == 200 and "<state>Aborted</state>" in bearer.text


def test_a_batch_queued_behind_an_aborted_job_is_not_processed(bulk, local_org):
    registry = jobs1_of(local_org.org)
    job = registry.get(bulk.create_insert_job("Contact", contentType="CSV"))
    with local_org.org.lock:  # the worker waits for the org while the job is aborted
        first = registry.add_batch(job, "LastName\n" + "".join(f"A{i}\n" for i in range(10)))
        second = registry.add_batch(job, "LastName\nB\n")
        registry.change_state(job, "Aborted")
    registry.wait()
    states = {b["id"]: b["state"] for b in bulk.get_batch_list(job.id)}
    assert states[second.id] == "Not Processed" and states[first.id] in ("Completed", "Not Processed")
    assert bulk.job_status(job.id)["numberBatchesTotal"] == "2"


@pytest.mark.slow
def test_cci_load_extract_snowfakery_and_delete_through_bulk_api_1(local_org, tmp_path):
    """CumulusCI's data tasks, unmodified, each mapping step on `api: bulk`; extract gives back what load put in;
    delete_data with hardDelete leaves nothing in the Recycle Bin."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "cumulusci.yml").write_text('project:\n    name: BulkProbe\n    package:\n        api_version: "62.0"\n')
    for name in ("mapping.yml", "dataset.sql", "snowfakery_recipe.yml", "snowfakery_recipe.load.yml"):
        (project / name).write_text((FIXTURES / name).read_text())
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    env = cci_env(tmp_path / "home", local_org.env_exports())

    def cci(*args: str) -> str:
        result = subprocess.run([str(BIN / "cci"), "task", "run", *args, "--org", "local"], cwd=project, env=env,
                                capture_output=True, text=True, timeout=180)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        return result.stdout

    loaded = cci("load_dataset", "-o", "mapping", "mapping.yml", "-o", "sql_path", "dataset.sql")
    assert loaded.count("using bulk") == 3 and "finished with result: Success" in loaded
    sf = local_org.client()
    ada = sf.query("SELECT Account.Name FROM Contact WHERE Email = 'ada@acme.example'")["records"][0]
    assert ada["Account"]["Name"] == "Acme Bulk"
    assert stats_bulk(local_org) > 0

    extracted = cci("extract_dataset", "-o", "mapping", "mapping.yml", "-o", "sql_path", "out.sql")
    assert extracted.count("Created Bulk API query job") == 3
    out = (project / "out.sql").read_text()
    assert "INSERT INTO \"Contact\" VALUES('Contact-3','Alan','Turing','alan@globex.example','Account-2');" in out
    assert "INSERT INTO \"Lead\" VALUES('Lead-1','Noether','Erlangen Ltd','emmy@erlangen.example');" in out

    faked = cci("snowfakery", "-o", "recipe", "snowfakery_recipe.yml")
    assert "Account: 3 successes, 0 errors" in faked and "Contact: 6 successes, 0 errors" in faked
    assert "Creating insert Operation for Contact using bulk" in faked
    linked = sf.query("SELECT COUNT() FROM Contact WHERE Account.Name LIKE 'Snowfakery Bulk%'")["totalSize"]
    assert linked == 6

    deleted = cci("delete_data", "-o", "objects", "Lead", "-o", "hardDelete", "True", "-o", "api", "bulk")
    assert "Creating hardDelete Operation for Lead using bulk" in deleted
    assert sf.query_all("SELECT COUNT() FROM Lead", include_deleted=True)["totalSize"] == 0


def stats_bulk(local_org) -> int:
    return local_org.stats()["api_calls"]["by_kind"].get("bulk", 0)


def test_simple_salesforce_bulk_v1_insert_update_query_delete(sf):
    """simple-salesforce's own Bulk API 1.0 client: JSON jobs, concurrencyMode sent as 0/1, JSON batches."""
    inserted = sf.bulk.Contact.insert([{"LastName": "Ada", "Email": "ada@example.com"}, {"Email": "no@example.com"}])
    assert [r["success"] for r in inserted] == [True, False]
    assert inserted[1]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    ada = inserted[0]["id"]
    assert sf.bulk.Contact.update([{"Id": ada, "FirstName": "A"}])[0] == {
        "success": True, "created": False, "id": ada, "errors": []}
    assert sf.bulk.Contact.upsert([{"Id": ada, "FirstName": "B"}], "Id", use_serial=True)[0]["success"]
    (found,) = sf.bulk.Contact.query("SELECT Id, FirstName FROM Contact")
    assert (found["Id"], found["FirstName"]) == (ada, "B")
    assert sf.bulk.Contact.delete([{"Id": ada}])[0]["success"]
    assert [r["Id"] for r in sf.bulk.Contact.query_all("SELECT Id FROM Contact")] == [ada]


@pytest.mark.sfcli
def test_sf_force_data_bulk_upsert_and_delete_use_bulk_api_1(sf, sf_cli, tmp_path):  # noqa: F811
    """`sf force data bulk upsert/delete` (jsforce's Bulk API 1.0 client, XML jobs) against the local org."""
    (tmp_path / "accounts.csv").write_text("Name,Industry\nAcme,Energy\nGlobex,Technology\n")
    upserted = json.loads(sf_cli("force", "data", "bulk", "upsert", "--sobject", "Account", "--file", "accounts.csv",
                                 "--external-id", "Id", "--wait", "1", "--target-org", "local", "--json").stdout)
    assert upserted["status"] == 0, upserted
    assert sorted(r["Name"] for r in sf.query("SELECT Name FROM Account")["records"]) == ["Acme", "Globex"]
    ids = [r["Id"] for r in sf.query("SELECT Id FROM Account")["records"]]
    (tmp_path / "gone.csv").write_text("Id\n" + "\n".join(ids) + "\n")
    deleted = json.loads(sf_cli("force", "data", "bulk", "delete", "--sobject", "Account", "--file", "gone.csv",
                                "--wait", "1", "--target-org", "local", "--json").stdout)
    assert deleted["status"] == 0, deleted
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == 0


def test_gzip_batches_are_read_and_oversized_ones_refused(bulk):
    job = bulk.create_insert_job("Contact", contentType="CSV")
    packed = gzip.compress(b"LastName\nZip\n")
    resp = _post(bulk, f"job/{job}/batch", packed, headers={"Content-Type": "text/csv", "Content-Encoding": "gzip"})
    assert resp.status_code == 201, resp.text
    assert _done(bulk, job, ET.fromstring(resp.content).findtext(f"{NS}id"))["numberRecordsProcessed"] == "1"
    bomb = gzip.compress(b"LastName\n" + b"x" * 10_000_001)
    assert _error(_post(bulk, f"job/{job}/batch", bomb, headers={"Content-Type": "text/csv",
                                                                 "Content-Encoding": "gzip"}))[:2] == (400, "InvalidBatch")
    assert _error(_post(bulk, f"job/{job}/batch", b"junk", headers={"Content-Type": "text/csv",
                                                                    "Content-Encoding": "gzip"}))[1] == "ClientInputError"
    big = _post(bulk, f"job/{job}/batch", b"LastName\n" + b"x" * 10_000_000, headers={"Content-Type": "text/csv"})
    assert _error(big)[:3] == (400, "InvalidBatch", "Exceeded max size limit of 10000000")


JSFORCE_BULK = r"""
const jsforce = require(process.env.JSFORCE);
(async () => {
  const conn = new jsforce.Connection({instanceUrl: process.env.URL, accessToken: process.env.TOKEN, version: '62.0'});
  conn.bulk.pollInterval = 200; conn.bulk2.pollInterval = 200;
  const out = {};
  out.v1 = await conn.bulk.load('Contact', 'insert', [{LastName: 'JsOne', Email: 'one@js.example'}, {Email: 'none@js.example'}]);
  let v1q = conn.bulk.query('SELECT Id, LastName FROM Contact');
  if (v1q.then) v1q = await v1q;
  out.v1query = await v1q.toArray();
  out.v2 = await conn.bulk2.loadAndWaitForResults({object: 'Contact', operation: 'insert', input: [{LastName: 'JsTwo', Email: 'two@js.example'}, {LastName: 'JsBad', Email: 'not-an-email'}], pollTimeout: 30000});
  out.v2query = await (await conn.bulk2.query('SELECT LastName FROM Contact ORDER BY LastName')).toArray();
  console.log(JSON.stringify(out));
})().catch((e) => { console.error(e); process.exit(1); });"""


def test_jsforce_bulk_and_bulk2_load_and_query(local_org, tmp_path):
    """jsforce 3 (the sf CLI's @jsforce/jsforce-node): conn.bulk (API 1.0) and conn.bulk2 (API 2.0)."""
    env = _env(local_org, tmp_path)
    jsforce = TOOLS / "@jsforce" / "jsforce-node"
    if not jsforce.exists():
        pytest.skip("jsforce (the sf CLI's @jsforce/jsforce-node) not installed (run `make install`)")
    env.update(JSFORCE=str(jsforce), URL=local_org.instance_url, TOKEN=local_org.access_token)
    result = subprocess.run(["node", "-e", JSFORCE_BULK], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    ok, bad = out["v1"]
    assert ok["success"] and ok["id"].startswith("003") and not bad["success"]
    assert bad["errors"][0].startswith("REQUIRED_FIELD_MISSING:")
    assert out["v1query"] == [{"Id": ok["id"], "LastName": "JsOne"}]
    (good,) = out["v2"]["successfulResults"]
    (failed,) = out["v2"]["failedResults"]
    assert good["LastName"] == "JsTwo" and failed["sf__Error"].startswith("INVALID_EMAIL_ADDRESS:")
    assert [r["LastName"] for r in out["v2query"]] == ["JsOne", "JsTwo"]
