"""Bad input never breaks the org: every malformed request gets a Salesforce error (4xx), data unchanged."""

import random

BAD_VALUES = [None, "", "x" * 300, 1.5, 1e308, True, [], {}, {"a": 1}, "2024-02-30", "banana",
              "'; DELETE FROM Contact; --", "\u0000", "é" * 90]
BAD_BODIES = [b"", b"null", b"[]", b"{", b'{"a":', b"\xff\xfe", b'"str"', b"1"]


def test_random_bad_field_values_answer_4xx_and_save_nothing(local_org):
    session, auth = local_org.session(), {"Authorization": f"Bearer {local_org.access_token}"}
    base = f"{local_org.instance_url}/services/data/v62.0/sobjects"
    fields = [f["name"] for f in session.get(f"{base}/Contact/describe", headers=auth).json()["fields"]
              if f["updateable"] and f["type"] not in ("string", "textarea", "phone", "url", "picklist", "combobox")]
    rng = random.Random(7)
    for _ in range(120):
        body = {"LastName": "Valid", rng.choice(fields): rng.choice(BAD_VALUES[2:])}
        r = session.post(f"{base}/Contact", json=body, headers=auth)
        assert r.status_code in (201, 400), (body, r.text)
        if r.status_code == 400:
            assert r.json()[0]["errorCode"]
            created = 0
        else:
            created = 1
            session.delete(f"{base}/Contact/{r.json()['id']}", headers=auth)
        assert created or session.get(f"{local_org.instance_url}/services/data/v62.0/query",
                                      params={"q": "SELECT COUNT() FROM Contact"},
                                      headers=auth).json()["totalSize"] == 0
    for raw in BAD_BODIES:
        r = session.post(f"{base}/Contact", data=raw, headers={**auth, "Content-Type": "application/json"})
        assert r.status_code == 400 and r.json()[0]["errorCode"] == "JSON_PARSER_ERROR", raw


def test_junk_composite_requests_answer_4xx(local_org):
    session, auth = local_org.session(), {"Authorization": f"Bearer {local_org.access_token}"}
    base = f"{local_org.instance_url}/services/data/v62.0"
    junk = [None, 1, "x", [], {}, [1], [{"attributes": {}}], [{"attributes": {"type": "Nope"}}]]
    for path in ("composite/sobjects", "composite/sobjects/Account", "composite"):
        for value in junk:
            for key in ("records", "compositeRequest"):
                r = session.post(f"{base}/{path}", json={key: value}, headers=auth)
                assert 400 <= r.status_code < 500 or (r.status_code == 200 and isinstance(r.json(), (list, dict))), \
                    (path, key, value, r.text)
    r = session.post(f"{base}/composite", headers=auth, json={"compositeRequest": [
        {"method": "GET", "url": "/services/data/v62.0/sobjects/Account/@{missing.id}", "referenceId": "a"}]})
    assert r.json()["compositeResponse"][0]["body"][0]["errorCode"] == "PROCESSING_HALTED"


def test_junk_bulk_api_1_requests_answer_bulk_errors(local_org):
    """Every Bulk API 1.0 resource, junk bodies and content types: a 4xx with the Bulk error body, never a 500."""
    session, auth = local_org.session(), {"X-SFDC-Session": local_org.access_token}
    base = f"{local_org.instance_url}/services/async/62.0"
    job = session.post(f"{base}/job", headers={**auth, "Content-Type": "application/json"},
                       json={"operation": "insert", "object": "Contact", "contentType": "CSV"}).json()["id"]
    paths = ["job", f"job/{job}", f"job/{job}/batch", f"job/{job}/batch/751000000000999AAA",
             f"job/{job}/batch/751000000000999AAA/result", f"job/{job}/batch/751000000000999AAA/result/752x",
             "job/750000000000999AAA/batch", "job/nope", "nothing"]
    bodies = [*BAD_BODIES, b"<jobInfo/>", b"<jobInfo><state>Open</state></jobInfo>", b'{"state": 1}',
              b"<x:jobInfo xmlns:x='y'><x:operation>insert</x:operation></x:jobInfo>"]
    for path in paths:
        for ctype in ("application/xml", "application/json", "text/csv"):
            for raw in bodies:
                for method in ("POST", "GET"):
                    r = session.request(method, f"{base}/{path}", data=raw, headers={**auth, "Content-Type": ctype})
                    if r.status_code < 400:
                        continue  # e.g. GET of the job, a CSV batch that will fail on its own
                    assert r.status_code in (400, 405), (method, path, ctype, raw, r.status_code, r.text)
                    assert "exceptionCode" in r.text, (method, path, raw, r.text)
