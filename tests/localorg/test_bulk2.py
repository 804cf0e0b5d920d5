"""Bulk API 2.0 ingest jobs against the local org: raw REST, simple-salesforce's bulk2, and the sf CLI."""

import csv
import io
import json
import time

import pytest
from slotforce.localorg.flows import parse_flow

from tests.localorg.flows.flowkit import flow, record_start, split_name
from tests.localorg.test_first_hour_clients import sf_cli  # noqa: F401 (a fixture)

V = "v62.0"


def _api(sf, method, path, **kw):
    return sf.session.request(method, f"{sf.base_url.split('/services/')[0]}/services/data/{V}/{path}",
                              headers={**sf.headers, **kw.pop("headers", {})}, **kw)


def _run(sf, body, data: str) -> dict:
    job = _api(sf, "POST", "jobs/ingest", data=json.dumps(body)).json()
    assert job["state"] == "Open" and job["id"].startswith("750")
    put = _api(sf, "PUT", f"jobs/ingest/{job['id']}/batches", data=data.encode(), headers={"Content-Type": "text/csv"})
    assert put.status_code == 201, put.text
    closed = _api(sf, "PATCH", f"jobs/ingest/{job['id']}", data=json.dumps({"state": "UploadComplete"}))
    assert closed.json()["state"] == "UploadComplete"
    return _finished(sf, "ingest", job["id"])


def _finished(sf, family: str, job_id: str) -> dict:
    """Poll jobs/{family}/{id} until the job is done."""
    for _ in range(200):
        info = _api(sf, "GET", f"jobs/{family}/{job_id}").json()
        if info["state"] in ("JobComplete", "Failed", "Aborted"):
            return info
        time.sleep(0.05)
    raise AssertionError(info)


def _rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def test_an_ingest_job_inserts_and_reports_successes_and_failures(sf):
    info = _run(sf, {"object": "Contact", "operation": "insert", "lineEnding": "LF"},
                "LastName,Email\nAda,ada@example.com\n,nobody@example.com\nGrace,\n")
    assert info["state"] == "JobComplete"
    assert (info["numberRecordsProcessed"], info["numberRecordsFailed"]) == (3, 1)
    ok = _api(sf, "GET", f"jobs/ingest/{info['id']}/successfulResults")
    assert ok.headers["Content-Type"].startswith("text/csv")
    assert ok.text.splitlines()[0] == '"sf__Id","sf__Created","LastName","Email"'
    good = _rows(ok.text)
    assert [r["LastName"] for r in good] == ["Ada", "Grace"] and all(r["sf__Created"] == "true" for r in good)
    assert good[0]["sf__Id"].startswith("003")
    (bad,) = _rows(_api(sf, "GET", f"jobs/ingest/{info['id']}/failedResults").text)
    assert bad["sf__Error"].startswith("REQUIRED_FIELD_MISSING:") and bad["Email"] == "nobody@example.com"
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 2
    listed = _api(sf, "GET", "jobs/ingest").json()
    assert info["id"] in [j["id"] for j in listed["records"]] and listed["done"] is True
    assert _api(sf, "DELETE", f"jobs/ingest/{info['id']}").status_code == 204
    assert _api(sf, "GET", f"jobs/ingest/{info['id']}").status_code == 404


def test_a_bad_header_fails_the_job_with_salesforces_message(sf):
    info = _run(sf, {"object": "Contact", "operation": "insert"}, "LastName,Nope__c\nAda,x\n")
    assert info["state"] == "Failed"
    assert info["errorMessage"] == "InvalidBatch : Field name not found : Nope__c"
    ragged = _run(sf, {"object": "Contact", "operation": "insert"}, 'LastName,Email\nAda,a@x.example\n"Multi\nline"\n')
    assert ragged["state"] == "Failed" and ragged["numberRecordsProcessed"] == 0
    assert ragged["errorMessage"] == "ClientInputError : Wrong number of columns on line 4: 1 (the header has 2)"
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 0  # checked before any row is saved


def test_wrong_state_and_unknown_jobs_answer_like_salesforce(sf):
    job = _api(sf, "POST", "jobs/ingest", data=json.dumps({"object": "Account", "operation": "insert"})).json()
    early = _api(sf, "GET", f"jobs/ingest/{job['id']}/successfulResults")
    assert early.status_code == 400 and early.json()[0]["errorCode"] == "INVALIDJOBSTATE"
    aborted = _api(sf, "PATCH", f"jobs/ingest/{job['id']}", data=json.dumps({"state": "Aborted"})).json()
    assert aborted["state"] == "Aborted"
    again = _api(sf, "PATCH", f"jobs/ingest/{job['id']}", data=json.dumps({"state": "UploadComplete"}))
    assert again.status_code == 400 and again.json()[0]["errorCode"] == "INVALIDJOBSTATE"
    missing = _api(sf, "GET", "jobs/ingest/7500000000000ZZAAA")
    assert missing.status_code == 404 and missing.json()[0]["errorCode"] == "NOT_FOUND"
    bad = _api(sf, "POST", "jobs/ingest", data=json.dumps({"object": "Account", "operation": "merge"}))
    assert bad.status_code == 400 and bad.json()[0]["errorCode"] == "INVALID_API_INPUT"


def test_hard_delete_bypasses_the_recycle_bin(sf):
    kept, purged = sf.Account.create({"Name": "Kept"})["id"], sf.Account.create({"Name": "Purged"})["id"]
    soft = _run(sf, {"object": "Account", "operation": "delete"}, f"Id\n{kept}\n")
    hard = _run(sf, {"object": "Account", "operation": "hardDelete"}, f"Id\n{purged}\n")
    assert (soft["state"], hard["state"], hard["operation"], hard["numberRecordsFailed"]) == (
        "JobComplete", "JobComplete", "hardDelete", 0)
    assert [r["Id"] for r in sf.query_all("SELECT Id FROM Account", include_deleted=True)["records"]] == [kept]


def test_simple_salesforce_bulk2_insert_upsert_delete(sf, tmp_path):
    rows = [{"LastName": f"Bulk {i}", "Email": f"b{i}@example.com"} for i in range(450)]
    (result,) = sf.bulk2.Contact.insert(records=rows, wait=0.1)
    assert (result["numberRecordsProcessed"], result["numberRecordsFailed"]) == (450, 0)
    got = sf.query_all("SELECT Id, LastName FROM Contact")["records"]
    assert len(got) == 450
    changes = [{"Id": r["Id"], "LastName": r["LastName"] + "!"} for r in got[:3]]
    (up,) = sf.bulk2.Contact.upsert(records=changes, external_id_field="Id", wait=0.1)
    assert up["numberRecordsFailed"] == 0
    assert sf.query("SELECT COUNT() FROM Contact WHERE LastName LIKE '%!'")["totalSize"] == 3
    (gone,) = sf.bulk2.Contact.delete(records=[{"Id": r["Id"]} for r in got[:10]], wait=0.1)
    assert gone["numberRecordsProcessed"] == 10
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 440
    failed = sf.bulk2.Contact.get_failed_records(result["job_id"])
    assert failed.splitlines()[0].startswith('"sf__Id","sf__Error"')


SET_TITLE = flow("Bulk_Sets_Title", """
    <assignments>
        <name>Title</name>
        <assignmentItems><assignToReference>$Record.Title</assignToReference><operator>Assign</operator><value><stringValue>From a flow</stringValue></value></assignmentItems>
    </assignments>""", start=record_start("Contact", "Title", trigger="RecordBeforeSave"))


@pytest.fixture
def title_flow(local_org):
    registry = local_org.org.metadata.registry
    snap = registry.snapshot()
    name, source = split_name(SET_TITLE)
    registry.deploy(parse_flow(source.encode(), name))
    yield
    registry.restore(snap)


def test_a_flow_runs_on_a_bulk_save_in_chunks_of_200(sf, title_flow, triggers, local_org):
    sizes = []

    def count(ctx, sobject, event, new, old):
        if sobject.name == "Contact":
            sizes.append(len(new))

    local_org.org.triggers.append(count)
    triggers.append(count)
    info = _run(sf, {"object": "Contact", "operation": "insert"},
                "LastName\n" + "".join(f"C{i}\n" for i in range(450)))
    assert info["numberRecordsProcessed"] == 450
    assert sizes == [200, 200, 50]
    titles = {r["Title"] for r in sf.query_all("SELECT Title FROM Contact")["records"]}
    assert titles == {"From a flow"}


@pytest.mark.sfcli
def test_sf_data_import_and_delete_bulk(sf, sf_cli, tmp_path):  # noqa: F811
    (tmp_path / "contacts.csv").write_text("LastName,Email\nAda,ada@example.com\n,bad@example.com\n")
    imported = sf_cli("data", "import", "bulk", "--sobject", "Contact", "--file", "contacts.csv", "--wait", "1",
                      "--target-org", "local", "--json", check=False)
    out = json.loads(imported.stdout)
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 1, out
    assert out["name"] == "FailedRecordDetailsError" and "failed to process 1 records" in out["message"], out
    results = json.loads(sf_cli("data", "bulk", "results", "--job-id", out["data"]["jobId"], "--target-org", "local",
                                "--json").stdout)["result"]
    assert (results["successfulRecords"], results["failedRecords"]) == (1, 1)
    (failed,) = _rows((tmp_path / results["failedFilePath"]).read_text())
    assert failed["Email"] == "bad@example.com" and failed["sf__Error"].startswith("REQUIRED_FIELD_MISSING")
    sf_cli("data", "export", "bulk", "--query", "SELECT Id, LastName FROM Contact", "--output-file", "out.csv",
           "--wait", "1", "--target-org", "local", "--json")
    assert [r["LastName"] for r in _rows((tmp_path / "out.csv").read_text())] == ["Ada"]
    ids = [r["Id"] for r in sf.query("SELECT Id FROM Contact")["records"]]
    (tmp_path / "gone.csv").write_text("Id\n" + "\n".join(ids) + "\n")
    deleted = sf_cli("data", "delete", "bulk", "--sobject", "Contact", "--file", "gone.csv", "--wait", "1",
                     "--hard-delete", "--target-org", "local", "--json")
    assert json.loads(deleted.stdout)["status"] == 0
    assert sf.query_all("SELECT COUNT() FROM Contact", include_deleted=True)["totalSize"] == 0  # not in the bin


def _query_job(sf, body) -> dict:
    job = _api(sf, "POST", "jobs/query", data=json.dumps({"operation": "query", **body})).json()
    assert job["state"] == "UploadComplete", job
    return _finished(sf, "query", job["id"])


def test_a_query_job_pages_its_csv_with_sforce_locator(sf):
    account = sf.Account.create({"Name": "Acme"})["id"]
    for i in range(5):
        sf.Contact.create({"LastName": f"Q{i}", "AccountId": account if i % 2 else None})
    info = _query_job(sf, {"query": "SELECT LastName, Account.Name, IsDeleted FROM Contact ORDER BY LastName"})
    assert (info["state"], info["numberRecordsProcessed"], info["jobType"]) == ("JobComplete", 5, "V2Query")
    first = _api(sf, "GET", f"jobs/query/{info['id']}/results", params={"maxRecords": 3})
    assert first.headers["Sforce-NumberOfRecords"] == "3" and first.headers["Sforce-Locator"] == "3"
    assert first.text.splitlines()[:3] == ['"LastName","Account.Name","IsDeleted"', '"Q0","","false"',
                                           '"Q1","Acme","false"']
    rest = _api(sf, "GET", f"jobs/query/{info['id']}/results", params={"maxRecords": 3, "locator": "3"})
    assert rest.headers["Sforce-Locator"] == "null" and [r["LastName"] for r in _rows(rest.text)] == ["Q3", "Q4"]
    bad = _api(sf, "POST", "jobs/query", data=json.dumps({"operation": "query", "query": "SELECT Nope FROM Contact"}))
    assert bad.status_code == 400 and bad.json()[0]["errorCode"] == "INVALID_FIELD"
    assert _api(sf, "DELETE", f"jobs/query/{info['id']}").status_code == 204
    assert _api(sf, "GET", f"jobs/query/{info['id']}").status_code == 404


def test_simple_salesforce_bulk2_query(sf):
    sf.bulk2.Contact.insert(records=[{"LastName": f"S{i}"} for i in range(30)], wait=0.1)
    pages = list(sf.bulk2.Contact.query("SELECT Id, LastName FROM Contact", max_records=10))
    assert len(pages) == 3 and sum(len(_rows(p)) for p in pages) == 30


def test_query_results_stream_from_a_file_and_quote_as_csv_does(sf):
    """Rows are written as CSV lines to a file (memory stays bounded); quotes, delimiters and newlines survive."""
    names = ['Quote "q"', "Comma, here", "Line\nbreak", "Plain"]
    for name in names:
        sf.Contact.create({"LastName": name})
    info = _query_job(sf, {"query": "SELECT LastName FROM Contact ORDER BY LastName"})
    pages, locator = [], None
    while locator != "null":
        resp = _api(sf, "GET", f"jobs/query/{info['id']}/results",
                    params={"maxRecords": 3, **({"locator": locator} if locator else {})})
        pages.append([r["LastName"] for r in _rows(resp.text)])
        locator = resp.headers["Sforce-Locator"]
    assert pages == [sorted(names)[:3], sorted(names)[3:]]
    assert _api(sf, "GET", f"jobs/query/{info['id']}/results", params={"locator": "5"}).status_code == 400


def test_relationship_columns_name_the_parent_by_an_external_id(sf, local_org):
    """`Account.Id` (or any external id of the parent) in the header links each row, as Data Loader does."""
    acme = sf.Account.create({"Name": "Acme"})["id"]
    info = _run(sf, {"object": "Contact", "operation": "insert"},
                f"LastName,Account.Id\nAda,{acme}\nBob,001000000000999AAA\nCy,\n")
    assert (info["state"], info["numberRecordsProcessed"], info["numberRecordsFailed"]) == ("JobComplete", 3, 1)
    (bad,) = _rows(_api(sf, "GET", f"jobs/ingest/{info['id']}/failedResults").text)
    assert bad["LastName"] == "Bob" and bad["sf__Error"].startswith("INVALID_FIELD:Foreign key external ID: 001")
    linked = {r["LastName"]: r["AccountId"] for r in sf.query("SELECT LastName, AccountId FROM Contact")["records"]}
    assert linked == {"Ada": acme, "Cy": None}
    wrong = _run(sf, {"object": "Contact", "operation": "insert"}, "LastName,Account.Industry\nAda,Energy\n")
    assert wrong["errorMessage"] == "InvalidBatch : Field name not found : Account.Industry"
