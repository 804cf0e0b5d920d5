"""Every Salesforce endpoint family answers as Salesforce does, or refuses naming what is unsupported.

The sample list walks the families (REST data, Tooling, Bulk 1.0/2.0, SOAP partner/enterprise/Apex/
Tooling/Metadata, Apex REST, identity, OAuth, Connect, UI API) and every refusal in the REST route
table: nothing answers a plain-text 404, a NOT_FOUND for a real endpoint, or a 500 of a crash.
"""

import re

import pytest

from slotforce.localorg.rest import refusals, urls

V = "/services/data/v62.0"
ENVELOPE = ('<?xml version="1.0"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
            "<soapenv:Body><x/></soapenv:Body></soapenv:Envelope>")

# (method, path): refused in the family's own shape
REFUSED_REST = [
    ("GET", f"{V}/sobjects/Account/describe/layouts"),
    ("GET", f"{V}/sobjects/Account/listviews"),
    ("GET", f"{V}/sobjects/Account/quickActions"),
    ("POST", f"{V}/composite/sobjects/Account/retrieveSomething"),
    ("GET", f"{V}/search?q=FIND+%7Bx%7D"),
    ("GET", f"{V}/parameterizedSearch?q=x"),
    ("POST", f"{V}/tooling/executeAnonymous"),
    ("GET", f"{V}/tooling/executeAnonymous?anonymousBody=x"),
    ("POST", f"{V}/tooling/runTestsAsynchronous"),
    ("GET", f"{V}/tooling/sobjects"),
    ("GET", f"{V}/metadata/retrieveRequest"),
    ("GET", f"{V}/connect/organization"),
    ("GET", f"{V}/chatter/users/me"),
    ("GET", f"{V}/ui-api/object-info/Account"),
    ("POST", f"{V}/actions/standard/emailSimple"),
    ("GET", f"{V}/appMenu"),
    ("GET", f"{V}/query?explain=SELECT+Id+FROM+Account"),
    ("GET", f"{V}/sobjects/Account/001000000000001AAA/Contacts"),
]


@pytest.fixture
def anonymous(local_org):
    s = local_org.session()
    yield s
    s.close()


@pytest.fixture
def http(local_org):
    s = local_org.session()
    s.headers["Authorization"] = f"Bearer {local_org.access_token}"
    yield s
    s.close()


def _unsupported_json(resp) -> str:
    body = resp.json()
    entry = body[0] if isinstance(body, list) else body
    assert entry.get("errorCode", entry.get("error")) == "UNSUPPORTED_BY_LOCAL_ORG", body
    return entry.get("message", entry.get("error_description"))


@pytest.mark.parametrize(("method", "path"), REFUSED_REST)
def test_rest_resources_the_org_does_not_serve_are_refused_by_name(local_org, http, method, path):
    resp = http.request(method, local_org.instance_url + path, json={})
    assert resp.status_code == 400 and resp.headers["content-type"].startswith("application/json")
    assert "not supported by the local org" in _unsupported_json(resp)


def test_every_refusal_in_the_route_table_is_walked():
    """Each refused entry of rest/urls.py is reached by a sample above, or by a served client test."""
    served_elsewhere = {"limits/recordCount", "composite/tree", "composite/batch", "composite/graph", "recent",
                        "updated", "deleted"}
    samples = [p.split(V + "/", 1)[1].split("?")[0] for _, p in REFUSED_REST]
    for r in (*urls.ROUTES, *urls.REFUSED):
        if not r.handler.__name__.startswith("refused"):
            continue
        hit = any(r.pattern.match(s) for s in samples)
        assert hit or any(k in r.pattern.pattern for k in served_elsewhere), r.pattern.pattern


def test_relationship_traversal_by_id_is_refused_not_taken_for_an_external_id(local_org, http, sf):
    account = sf.Account.create({"Name": "Traversed"})["id"]
    resp = http.get(f"{local_org.instance_url}{V}/sobjects/Account/{account}/Contacts")
    assert resp.status_code == 400 and "Relationship traversal" in _unsupported_json(resp)


@pytest.mark.parametrize(("segment", "namespace"), [
    ("c/62.0", "urn:fault.enterprise.soap.sforce.com"), ("s/62.0", "http://soap.sforce.com/2006/08/apex"),
    ("T/62.0", "urn:fault.tooling.soap.sforce.com"), ("class/MyService", "http://soap.sforce.com/2006/08/apex")])
def test_soap_apis_answer_a_soap_fault_naming_the_api(local_org, anonymous, segment, namespace):
    resp = anonymous.post(f"{local_org.instance_url}/services/Soap/{segment}", data=ENVELOPE,
                         headers={"Content-Type": "text/xml", "SOAPAction": '""'})
    assert resp.status_code == 500 and resp.headers["content-type"].startswith("text/xml")  # SOAP 1.1 faults
    assert "<faultcode>sf:UNSUPPORTED_BY_LOCAL_ORG</faultcode>" in resp.text and namespace in resp.text
    assert "<sf:exceptionCode>UNSUPPORTED_BY_LOCAL_ORG</sf:exceptionCode>" in resp.text


def test_metadata_calls_other_than_deploy_are_refused_by_name(local_org, anonymous):
    body = ('<?xml version="1.0"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
            'xmlns:m="http://soap.sforce.com/2006/04/metadata"><soapenv:Header><m:SessionHeader><m:sessionId>'
            f"{local_org.access_token}</m:sessionId></m:SessionHeader></soapenv:Header><soapenv:Body>"
            "<m:listMetadata/></soapenv:Body></soapenv:Envelope>")
    resp = anonymous.post(f"{local_org.instance_url}/services/Soap/m/62.0", data=body,
                         headers={"Content-Type": "text/xml", "SOAPAction": "listMetadata"})
    assert "sf:UNSUPPORTED_BY_LOCAL_ORG" in resp.text and "listMetadata" in resp.text


@pytest.mark.parametrize("json_body", [False, True])
def test_bulk_api_1_answers_its_own_error_shape(local_org, anonymous, json_body):
    url = f"{local_org.instance_url}/services/async/62.0/job"
    ctype = "application/json" if json_body else "application/xml; charset=UTF-8"
    refused = anonymous.post(url, data="{}", headers={"Content-Type": ctype})
    assert refused.status_code == 400 and "InvalidSessionId" in refused.text
    resp = anonymous.post(url, data="{}",
                         headers={"Content-Type": ctype, "X-SFDC-Session": local_org.access_token})
    assert resp.status_code == 400
    if json_body:
        assert resp.json()["exceptionCode"] == "InvalidJob"  # Bulk API 1.0 is served: a jobInfo needs an operation
    else:
        assert re.search(r"<exceptionCode>InvalidXML</exceptionCode>", resp.text)


def test_apex_rest_and_other_oauth_endpoints_are_refused_in_their_shapes(local_org, http, anonymous):
    apex = http.get(f"{local_org.instance_url}/services/apexrest/MyService/v1")
    assert apex.status_code == 400 and "runs no Apex" in _unsupported_json(apex)
    # revoke is served (the OAuth work): an unknown token is refused in the OAuth error shape
    revoke = anonymous.post(f"{local_org.instance_url}/services/oauth2/revoke", data={"token": "x"})
    assert revoke.status_code == 400 and revoke.json()["error"] == "invalid_token"


def test_double_slashes_are_one_slash_as_salesforce_reads_them(local_org, http):
    """sf stores an instance URL with a trailing slash and asks for //services/data/...."""
    resp = http.get(f"{local_org.instance_url}//services/data//v62.0//limits")
    assert resp.status_code == 200 and "DailyApiRequests" in resp.json()
    assert http.get(f"{local_org.instance_url}//services/data").status_code == 200


def test_no_path_answers_plain_text(local_org, http):
    for path in ("/services/nothing/here", "/nowhere", "/services/data/v62.0/nothing"):
        resp = http.get(local_org.instance_url + path)
        assert resp.status_code == 404 and resp.json()[0]["errorCode"] == "NOT_FOUND", path


def test_the_refusal_wording_names_the_feature():
    assert refusals.unsupported("X").message == "X is not supported by the local org"
