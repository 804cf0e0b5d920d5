"""Standard objects from real describes (issue 11.4): Case, Opportunity, OpportunityContactRole recorded;
Campaign, CampaignMember, Group (queues) and QueueSobject from the Object Reference; compound address
fields in describe and in records; polymorphic OwnerId (User or queue) — all through simple-salesforce."""

import importlib.util
import json
import pathlib
import re

import pytest
import yaml
from simple_salesforce.exceptions import SalesforceMalformedRequest

SPEC = importlib.util.find_spec("cumulusci")
CASSETTES = pathlib.Path(SPEC.origin).parent / "tests" / "shared_cassettes" if SPEC else None


def _recorded(name):
    cassette = yaml.safe_load((CASSETTES / f"GET_sobjects_{name}_describe.yaml").read_text())
    return json.loads(cassette["response"]["body"]["string"])


def _error(exc_info):
    return exc_info.value.content[0]


@pytest.mark.skipif(CASSETTES is None, reason="cumulusci (and its recorded describes) not installed")
@pytest.mark.parametrize("name", ["Case", "Opportunity", "OpportunityContactRole"])
def test_describe_matches_the_real_org_recording(sf, name):
    """Every recorded standard field whose references the local org has is there, with the recorded facts."""
    real = _recorded(name)
    ours = getattr(sf, name).describe()
    mine = {f["name"]: f for f in ours["fields"]}
    modeled = {s["name"] for s in sf.describe()["sobjects"]}
    for f in real["fields"]:
        if f["custom"] or (f["type"] == "reference" and not set(f["referenceTo"]) & modeled):
            continue
        assert f["name"] in mine, f["name"]
        for key in ("type", "length", "nillable", "createable", "updateable", "defaultedOnCreate",
                    "compoundFieldName", "picklistValues", "relationshipName"):
            assert mine[f["name"]][key] == f[key], (f["name"], key)
        if f["type"] == "reference":
            assert mine[f["name"]]["referenceTo"] == [t for t in f["referenceTo"] if t in modeled]
    assert ours["keyPrefix"] == real["keyPrefix"]


def test_opportunity_has_the_standard_fields_an_extract_selects(sf):
    """A CumulusCI standard-object extract selects ForecastCategoryName & co.; they are there and queryable."""
    account = sf.Account.create({"Name": "Acme"})["id"]
    sf.Opportunity.create({"Name": "Deal", "StageName": "Prospecting", "CloseDate": "2025-01-31",
                           "AccountId": account, "ForecastCategoryName": "Pipeline", "IsPrivate": False,
                           "TotalOpportunityQuantity": 3})
    rows = sf.query_all("SELECT Id, Name, StageName, CloseDate, ForecastCategoryName, IsPrivate, "
                        "TotalOpportunityQuantity, CampaignId, Account.Name FROM Opportunity")["records"]
    assert [(r["ForecastCategoryName"], r["TotalOpportunityQuantity"], r["Account"]["Name"]) for r in rows] == [
        ("Pipeline", 3.0, "Acme")]


def test_address_is_a_compound_field_in_describe(sf):
    fields = {f["name"]: f for f in sf.Account.describe()["fields"]}
    billing = fields["BillingAddress"]
    assert (billing["type"], billing["soapType"], billing["createable"], billing["updateable"]) == (
        "address", "urn:address", False, False)
    assert (billing["sortable"], billing["groupable"], billing["filterable"]) == (False, False, True)
    parts = sorted(n for n, f in fields.items() if f["compoundFieldName"] == "BillingAddress")
    assert parts == ["BillingCity", "BillingCountry", "BillingGeocodeAccuracy", "BillingLatitude",
                     "BillingLongitude", "BillingPostalCode", "BillingState", "BillingStreet"]
    assert fields["BillingStreet"]["extraTypeInfo"] == "plaintextarea"
    contact = {f["name"]: f for f in sf.Contact.describe()["fields"]}
    lead = {f["name"]: f for f in sf.Lead.describe()["fields"]}
    assert contact["MailingAddress"]["type"] == contact["OtherAddress"]["type"] == lead["Address"]["type"] == "address"
    assert lead["City"]["compoundFieldName"] == "Address" and contact["FirstName"]["compoundFieldName"] == "Name"


def test_address_reads_as_salesforce_shapes_it_and_only_its_components_are_written(sf):
    acc = sf.Account.create({"Name": "Acme", "BillingStreet": "1 Market St", "BillingCity": "San Francisco",
                             "BillingPostalCode": "94105", "BillingLatitude": 37.79, "BillingLongitude": -122.39})
    bare = sf.Account.create({"Name": "Bare"})
    expected = {"city": "San Francisco", "country": None, "geocodeAccuracy": None, "latitude": 37.79,
                "longitude": -122.39, "postalCode": "94105", "state": None, "street": "1 Market St"}
    got = sf.query("SELECT Name, BillingAddress, ShippingAddress FROM Account ORDER BY Name")["records"]
    assert [(r["Name"], r["BillingAddress"], r["ShippingAddress"]) for r in got] == [
        ("Acme", expected, None), ("Bare", None, None)]
    assert list(got[0]["BillingAddress"]) == sorted(expected)  # key order as Salesforce sends it
    assert sf.Account.get(acc["id"])["BillingAddress"] == expected
    sf.Account.update(acc["id"], {"BillingCountry": "US"})
    assert sf.Account.get(acc["id"])["BillingAddress"]["country"] == "US"
    with pytest.raises(SalesforceMalformedRequest) as e:
        sf.Account.update(bare["id"], {"BillingAddress": {"city": "Paris"}})
    assert _error(e)["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"
    with pytest.raises(SalesforceMalformedRequest) as e:
        sf.query("SELECT Id FROM Account WHERE BillingAddress = null")
    assert _error(e)["errorCode"] == "INVALID_FIELD" and "can not be filtered" in _error(e)["message"]
    lead = sf.Lead.create({"LastName": "Lee", "Company": "L", "City": "Berlin"})
    row = sf.query(f"SELECT Address FROM Lead WHERE Id = '{lead['id']}'")["records"][0]
    assert row["Address"]["city"] == "Berlin" and row["Address"]["street"] is None
    full = sf.query("SELECT FIELDS(STANDARD) FROM Contact LIMIT 1")  # compound fields expand too
    assert full["totalSize"] == 0


def _queue(sf, name, *objects):
    queue = sf.Group.create({"Name": name, "Type": "Queue"})["id"]
    for obj in objects:
        sf.QueueSobject.create({"QueueId": queue, "SobjectType": obj})
    return queue


def test_lead_and_case_are_owned_by_users_or_queues(sf, local_org):
    owner = {f["name"]: f for f in sf.Lead.describe()["fields"]}["OwnerId"]
    assert (owner["referenceTo"], owner["polymorphicForeignKey"], owner["namePointing"]) == (
        ["Group", "User"], True, True)
    case_owner = {f["name"]: f for f in sf.Case.describe()["fields"]}["OwnerId"]
    assert case_owner["referenceTo"] == ["Group", "User"]
    queue = _queue(sf, "Inbound Leads", "Lead")
    sf.Lead.create({"LastName": "Queued", "Company": "Q", "OwnerId": queue})
    sf.Lead.create({"LastName": "Mine", "Company": "M"})
    rows = sf.query("SELECT LastName, Owner.Name, Owner.Type, OwnerId FROM Lead ORDER BY LastName")["records"]
    admin = sf.query(f"SELECT Name FROM User WHERE Id = '{local_org.user_id}'")["records"][0]["Name"]
    assert [(r["LastName"], r["Owner"]["Name"], r["Owner"]["Type"]) for r in rows] == [
        ("Mine", admin, "User"), ("Queued", "Inbound Leads", "Queue")]
    assert rows[1]["OwnerId"] == queue
    typed = sf.query("SELECT TYPEOF Owner WHEN Group THEN Name, Type WHEN User THEN Username END FROM Lead "
                     "ORDER BY LastName")["records"]
    assert typed[1]["Owner"] == {"attributes": typed[1]["Owner"]["attributes"], "Name": "Inbound Leads",
                                 "Type": "Queue"}
    assert typed[1]["Owner"]["attributes"]["type"] == "Group" and "Username" in typed[0]["Owner"]
    queues = sf.query("SELECT Name, (SELECT SobjectType FROM QueueSobjects) FROM Group WHERE Type = 'Queue'")
    assert queues["records"][0]["QueueSobjects"]["records"][0]["SobjectType"] == "Lead"
    # a queue that does not list Case cannot own a case; a public group cannot own anything
    with pytest.raises(SalesforceMalformedRequest) as e:
        sf.Case.create({"Subject": "x", "OwnerId": queue})
    assert _error(e)["errorCode"] == "FIELD_INTEGRITY_EXCEPTION"
    with pytest.raises(SalesforceMalformedRequest) as e:
        sf.QueueSobject.create({"QueueId": sf.Group.create({"Name": "Everyone Else"})["id"], "SobjectType": "Lead"})
    assert _error(e)["errorCode"] == "FIELD_INTEGRITY_EXCEPTION"
    with pytest.raises(SalesforceMalformedRequest) as e:
        sf.QueueSobject.create({"QueueId": queue, "SobjectType": "Lead"})
    assert _error(e)["errorCode"] == "DUPLICATE_VALUE"
    assert sf.query(f"SELECT DeveloperName FROM Group WHERE Id = '{queue}'")["records"][0]["DeveloperName"] == (
        "Inbound_Leads")


def test_cases_number_themselves_close_and_hang_under_accounts_and_contacts(sf):
    acc = sf.Account.create({"Name": "Acme"})["id"]
    con = sf.Contact.create({"LastName": "Doe", "AccountId": acc})["id"]
    first = sf.Case.create({"Subject": "Broken", "AccountId": acc, "ContactId": con, "Origin": "Web"})["id"]
    second = sf.Case.create({"Subject": "Also broken", "AccountId": acc})["id"]
    a, b = (sf.Case.get(i) for i in (first, second))
    assert re.fullmatch(r"\d{8}", a["CaseNumber"]) and int(b["CaseNumber"]) == int(a["CaseNumber"]) + 1
    assert (a["Status"], a["IsClosed"], a["ClosedDate"]) == ("New", False, None)
    sf.Case.update(first, {"Status": "Closed"})
    closed = sf.Case.get(first)
    assert closed["IsClosed"] is True and closed["ClosedDate"]
    with pytest.raises(SalesforceMalformedRequest) as e:
        sf.Case.update(first, {"CaseNumber": "1"})
    assert _error(e)["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"
    rows = sf.query("SELECT Name, (SELECT Subject, Contact.LastName FROM Cases ORDER BY CaseNumber) FROM Account")
    cases = rows["records"][0]["Cases"]["records"]
    assert [(c["Subject"], c["Contact"] and c["Contact"]["LastName"]) for c in cases] == [
        ("Broken", "Doe"), ("Also broken", None)]
    assert sf.query(f"SELECT Owner.Type FROM Case WHERE Id = '{first}'")["records"][0]["Owner"]["Type"] == "User"


def test_campaign_members_are_leads_or_contacts_once_per_campaign(sf):
    parent = sf.Campaign.create({"Name": "2025"})["id"]
    campaign = sf.Campaign.create({"Name": "Spring webinar", "Type": "Webinar", "ParentId": parent})["id"]
    contact = sf.Contact.create({"LastName": "Doe"})["id"]
    lead = sf.Lead.create({"LastName": "Lee", "Company": "L"})["id"]
    member = sf.CampaignMember.create({"CampaignId": campaign, "ContactId": contact, "Status": "Responded"})["id"]
    sf.CampaignMember.create({"CampaignId": campaign, "LeadId": lead})
    got = sf.CampaignMember.get(member)
    assert (got["HasResponded"], got["LeadOrContactId"], bool(got["FirstRespondedDate"])) == (True, contact, True)
    with pytest.raises(SalesforceMalformedRequest) as e:
        sf.CampaignMember.create({"CampaignId": campaign, "ContactId": contact})
    assert _error(e)["errorCode"] == "DUPLICATE_VALUE"
    with pytest.raises(SalesforceMalformedRequest) as e:
        sf.CampaignMember.create({"CampaignId": campaign})
    assert _error(e)["errorCode"] == "REQUIRED_FIELD_MISSING"
    rows = sf.query("SELECT Name, Parent.Name, (SELECT Status FROM CampaignMembers ORDER BY Status) FROM Campaign "
                    "WHERE ParentId != null")["records"]
    assert rows[0]["Parent"]["Name"] == "2025"
    assert [m["Status"] for m in rows[0]["CampaignMembers"]["records"]] == ["Responded", "Sent"]
    on_contact = sf.query("SELECT (SELECT Campaign.Name FROM CampaignMembers) FROM Contact")["records"][0]
    assert on_contact["CampaignMembers"]["records"][0]["Campaign"]["Name"] == "Spring webinar"
    children = {c["relationshipName"] for c in sf.Campaign.describe()["childRelationships"]}
    assert {"CampaignMembers", "ChildCampaigns", "Opportunities"} <= children


def test_opportunity_contact_roles_and_child_relationships_as_real_describes_name_them(sf):
    contact = sf.Contact.create({"LastName": "Doe"})["id"]
    opp = sf.Opportunity.create({"Name": "Deal", "StageName": "Prospecting", "CloseDate": "2025-01-31"})["id"]
    sf.OpportunityContactRole.create({"OpportunityId": opp, "ContactId": contact, "Role": "Decision Maker",
                                      "IsPrimary": True})
    rows = sf.query("SELECT Name, (SELECT Role, IsPrimary, Contact.LastName FROM OpportunityContactRoles) "
                    "FROM Opportunity")["records"]
    assert [(r["Role"], r["IsPrimary"], r["Contact"]["LastName"]) for r in rows[0]["OpportunityContactRoles"][
        "records"]] == [("Decision Maker", True, "Doe")]
    names = {(c["childSObject"], c["field"]): c["relationshipName"]
             for c in sf.Account.describe()["childRelationships"]}
    assert names[("Case", "AccountId")] == "Cases" and names[("Opportunity", "AccountId")] == "Opportunities"
    contact_children = {(c["childSObject"], c["field"]): c["relationshipName"]
                        for c in sf.Contact.describe()["childRelationships"]}
    assert contact_children[("OpportunityContactRole", "ContactId")] == "OpportunityContactRoles"
    assert contact_children[("CampaignMember", "ContactId")] == "CampaignMembers"


def test_cumulusci_extract_dataset_reads_standard_objects(tmp_path):
    """`cci task run extract_dataset` over Account (address components), Opportunity
    (ForecastCategoryName, which failed before) and Case, with lookups, against a served org."""
    import subprocess
    import sys

    from slotforce.cci import cci_env
    from slotforce.localorg.server import LocalOrg

    with LocalOrg(state_dir=tmp_path / "org") as org:
        org.write_org_json()
        sf = org.client()
        acc = sf.Account.create({"Name": "Acme", "BillingStreet": "1 rue", "BillingCity": "Paris"})["id"]
        sf.Opportunity.create({"Name": "Deal", "StageName": "Prospecting", "CloseDate": "2025-01-31",
                               "AccountId": acc, "ForecastCategoryName": "Pipeline"})
        sf.Case.create({"Subject": "Broken", "AccountId": acc})
        project = tmp_path / "project"
        project.mkdir()
        (project / "cumulusci.yml").write_text('project:\n    name: Probe\n    package:\n        api_version: "62.0"\n')
        (project / "mapping.yml").write_text(
            "Insert Account:\n  sf_object: Account\n  fields: [Name, BillingStreet, BillingCity]\n"
            "Insert Opportunity:\n  sf_object: Opportunity\n  fields: [Name, StageName, CloseDate, ForecastCategoryName]\n"
            "  lookups:\n    AccountId:\n      table: Account\n"
            "Insert Case:\n  sf_object: Case\n  fields: [Subject, Status]\n  lookups:\n    AccountId:\n      table: Account\n")
        subprocess.run(["git", "init", "-q"], cwd=project, check=True)
        env = cci_env(tmp_path / "home", org.env_exports())
        done = subprocess.run([str(pathlib.Path(sys.executable).parent / "cci"), "task", "run", "extract_dataset",
                               "--org", "local", "-o", "mapping", "mapping.yml", "-o", "sql_path", "out.sql"],
                              cwd=project, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    sql = (project / "out.sql").read_text()
    assert "INSERT INTO \"Account\" VALUES('Account-1','Acme','1 rue','Paris');" in sql
    assert "'Deal','Prospecting','2025-01-31','Pipeline','Account-1'" in sql
    assert "INSERT INTO \"Case\" VALUES('Case-1','Broken','New','Account-1');" in sql


def test_columns_and_bulk_queries_know_compound_fields_and_polymorphic_owners(sf, local_org):
    """`columns=true` (sf data query): BillingAddress is an Address column, Lead's Owner.Username a User
    field; a Bulk 2.0 query job refuses compound fields as Salesforce does."""
    base = f"{local_org.instance_url}/services/data/v62.0"
    auth = {"Authorization": f"Bearer {local_org.access_token}"}
    http = local_org.session()
    r = http.get(f"{base}/query", params={"q": "SELECT BillingAddress, Owner.Name FROM Account", "columns": "true"},
                 headers=auth)
    cols = r.json()["columnMetadata"]
    assert (cols[0]["columnName"], cols[0]["apexType"]) == ("BillingAddress", "Address")
    r = http.get(f"{base}/query", params={"q": "SELECT Owner.Username, Owner.Name FROM Lead", "columns": "true"},
                 headers=auth)
    assert r.status_code == 200, r.text
    assert [j["columnName"] for j in r.json()["columnMetadata"][0]["joinColumns"]] == ["Username"]
    job = http.post(f"{base}/jobs/query", json={"operation": "query", "query": "SELECT Id, BillingAddress FROM Account"},
                    headers=auth)
    assert job.status_code == 400 and job.json()[0]["errorCode"] == "FUNCTIONALITY_NOT_ENABLED"
    ok = http.post(f"{base}/jobs/query", json={"operation": "query", "query": "SELECT Id, BillingCity FROM Account"},
                   headers=auth)
    assert ok.status_code == 200


def test_an_opportunity_derives_probability_forecast_and_fiscal_period_from_stage_and_close_date(sf):
    opp = sf.Opportunity.create({"Name": "Deal", "StageName": "Value Proposition", "CloseDate": "2025-05-31",
                                 "Amount": 1000})["id"]
    got = sf.Opportunity.get(opp)
    assert (got["Probability"], got["ForecastCategoryName"], got["ForecastCategory"], got["ExpectedRevenue"]) == (
        50.0, "Pipeline", "Pipeline", 500.0)
    assert (got["FiscalYear"], got["FiscalQuarter"], got["Fiscal"], got["LastStageChangeDate"]) == (
        2025, 2, "2025 2", None)
    sf.Opportunity.update(opp, {"StageName": "Closed Won"})
    won = sf.Opportunity.get(opp)
    assert (won["Probability"], won["ForecastCategoryName"], won["IsWon"], won["IsClosed"]) == (
        100.0, "Closed", True, True)
    assert won["LastStageChangeDate"]
    sf.Opportunity.update(opp, {"StageName": "Negotiation/Review", "Probability": 95,
                                "ForecastCategoryName": "Commit"})
    kept = sf.Opportunity.get(opp)
    assert (kept["Probability"], kept["ForecastCategory"], kept["ExpectedRevenue"]) == (95.0, "Forecast", 950.0)


def test_campaign_statistics_follow_members_and_opportunities(sf):
    campaign = sf.Campaign.create({"Name": "Fair"})["id"]
    stats = ("NumberOfLeads", "NumberOfContacts", "NumberOfResponses", "NumberOfOpportunities",
             "NumberOfWonOpportunities", "AmountAllOpportunities", "AmountWonOpportunities")

    def numbers():
        got = sf.Campaign.get(campaign)
        return tuple(got[k] for k in stats)

    assert numbers() == (0, 0, 0, 0, 0, 0, 0)
    lead = sf.Lead.create({"LastName": "Lee", "Company": "L"})["id"]
    contact = sf.Contact.create({"LastName": "Doe"})["id"]
    sf.CampaignMember.create({"CampaignId": campaign, "LeadId": lead})
    member = sf.CampaignMember.create({"CampaignId": campaign, "ContactId": contact})["id"]
    sf.CampaignMember.update(member, {"Status": "Responded"})
    won = sf.Opportunity.create({"Name": "W", "StageName": "Closed Won", "CloseDate": "2025-01-31", "Amount": 300,
                                 "CampaignId": campaign})["id"]
    sf.Opportunity.create({"Name": "O", "StageName": "Prospecting", "CloseDate": "2025-01-31", "Amount": 200,
                           "CampaignId": campaign})
    assert numbers() == (1, 1, 1, 2, 1, 500.0, 300.0)
    sf.Lead.delete(lead)  # its membership goes with it (cascade)
    sf.Opportunity.update(won, {"CampaignId": None})
    assert numbers() == (0, 1, 1, 1, 0, 200.0, 0.0)


def test_queue_members_are_users_or_groups_once(sf, local_org):
    queue = _queue(sf, "Support", "Case")
    sf.GroupMember.create({"GroupId": queue, "UserOrGroupId": local_org.user_id})
    with pytest.raises(SalesforceMalformedRequest) as e:
        sf.GroupMember.create({"GroupId": queue, "UserOrGroupId": local_org.user_id})
    assert _error(e)["errorCode"] == "DUPLICATE_VALUE"
    rows = sf.query("SELECT Name, (SELECT UserOrGroupId FROM GroupMembers) FROM Group WHERE Type = 'Queue'")
    assert rows["records"][0]["GroupMembers"]["records"][0]["UserOrGroupId"] == local_org.user_id
    case = sf.Case.create({"Subject": "Queued", "OwnerId": queue})["id"]
    assert sf.query(f"SELECT Owner.Name FROM Case WHERE Id = '{case}'")["records"][0]["Owner"]["Name"] == "Support"


@pytest.mark.skipif(CASSETTES is None, reason="cumulusci (and its recorded describes) not installed")
def test_global_describe_flags_are_the_recorded_ones(sf):
    cassette = yaml.safe_load((CASSETTES / "GET_sobjects_Global_describe.yaml").read_text())
    real = {s["name"]: s for s in json.loads(cassette["response"]["body"]["string"])["sobjects"]}
    ours = {s["name"]: s for s in sf.describe()["sobjects"]}
    for name in ("Account", "Case", "Campaign", "CampaignMember", "Opportunity", "OpportunityContactRole", "User"):
        for key in ("mergeable", "feedEnabled", "searchable", "undeletable", "mruEnabled", "keyPrefix", "label",
                    "createable", "deletable"):
            assert ours[name][key] == real[name][key], (name, key)
    assert ours["Case"]["urls"]["describe"] == "/services/data/v62.0/sobjects/Case/describe"
