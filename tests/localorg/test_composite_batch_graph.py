"""Composite batch and graph as Salesforce answers them (through simple-salesforce's session)."""


def _post(sf, path, body):
    return sf.session.post(f"{sf.base_url}{path}", json=body, headers=sf.headers)


def test_batch_runs_each_subrequest_on_its_own_and_halts_on_request(sf):
    body = {"batchRequests": [
        {"method": "POST", "url": "v62.0/sobjects/Account", "richInput": {"Name": "Batch A"}},
        {"method": "POST", "url": "v62.0/sobjects/Contact", "richInput": {}},
        {"method": "GET", "url": "v62.0/query?q=SELECT+Name+FROM+Account"}]}
    resp = _post(sf, "composite/batch", body).json()
    assert resp["hasErrors"] is True
    assert [r["statusCode"] for r in resp["results"]] == [201, 400, 200]
    assert resp["results"][1]["result"][0]["errorCode"] == "REQUIRED_FIELD_MISSING"
    assert resp["results"][2]["result"]["records"][0]["Name"] == "Batch A"  # the first one was kept
    halted = _post(sf, "composite/batch", {**body, "haltOnError": True}).json()
    assert [r["statusCode"] for r in halted["results"]] == [201, 400, 412]
    assert halted["results"][2]["result"][0]["errorCode"] == "BATCH_PROCESSING_HALTED"


def test_graph_is_all_or_none_per_graph(sf):
    ok = {"graphId": "good", "compositeRequest": [
        {"method": "POST", "url": "/services/data/v62.0/sobjects/Account", "referenceId": "acc", "body": {"Name": "G"}},
        {"method": "POST", "url": "/services/data/v62.0/sobjects/Contact", "referenceId": "con",
         "body": {"LastName": "Node", "AccountId": "@{acc.id}"}}]}
    bad = {"graphId": "bad", "compositeRequest": [
        {"method": "POST", "url": "/services/data/v62.0/sobjects/Account", "referenceId": "a2", "body": {"Name": "Gone"}},
        {"method": "POST", "url": "/services/data/v62.0/sobjects/Contact", "referenceId": "c2", "body": {}}]}
    resp = _post(sf, "composite/graph", {"graphs": [ok, bad]}).json()
    assert [(g["graphId"], g["isSuccessful"]) for g in resp["graphs"]] == [("good", True), ("bad", False)]
    assert sf.query("SELECT COUNT() FROM Contact WHERE Account.Name = 'G'")["totalSize"] == 1
    assert sf.query("SELECT COUNT() FROM Account WHERE Name = 'Gone'")["totalSize"] == 0


def test_malformed_batch_and_graph_are_400s(sf):
    assert _post(sf, "composite/batch", {"batchRequests": "x"}).status_code == 400
    assert _post(sf, "composite/graph", {"graphs": [{"compositeRequest": []}]}).status_code == 400
