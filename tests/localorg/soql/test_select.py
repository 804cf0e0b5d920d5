"""SELECT lists: field keys in describe spelling, parent paths, polymorphic parents, child subqueries."""


def by_name(records, key="Name"):
    return {r[key]: r for r in records}


def test_keys_use_describe_spelling_and_attributes_come_first(crm):
    rec = crm.records("select id, lastname, EMAIL from contact where lastname = 'doe'")[0]
    assert list(rec) == ["attributes", "Id", "LastName", "Email"]
    assert rec["attributes"] == {"type": "Contact",
                                 "url": f"/services/data/v62.0/sobjects/Contact/{crm.ids['jane']}"}


def test_api_version_goes_into_the_url(crm):
    rec = crm.records("SELECT Id FROM Account WHERE Name = 'Acme'", api_version="58.0")[0]
    assert rec["attributes"]["url"].startswith("/services/data/v58.0/sobjects/Account/")


def test_only_selected_fields_are_returned(crm):
    rec = crm.records("SELECT Name FROM Account WHERE Name = 'Acme'")[0]
    assert set(rec) == {"attributes", "Name"}


def test_values_have_json_types(crm):
    rec = crm.records("SELECT NumberOfEmployees, AnnualRevenue, CreatedDate FROM Account "
                      "WHERE Name = 'Acme'")[0]
    assert rec["NumberOfEmployees"] == 50 and isinstance(rec["NumberOfEmployees"], int)
    assert rec["AnnualRevenue"] == 1000.5
    user = crm.records("SELECT IsActive FROM User WHERE Alias = 'bob'")[0]
    assert user["IsActive"] is False
    event = crm.records("SELECT StartDateTime, ActivityDate, Location FROM Event WHERE Subject = 'Intro'")[0]
    assert event["StartDateTime"] == "2024-05-15T10:00:00.000+0000"
    assert event["ActivityDate"] == "2024-05-15"
    assert event["Location"] is None


def test_parent_path_two_levels_deep(crm):
    recs = crm.records("SELECT Name, Account.Name, Account.Owner.Email FROM Contact "
                       "WHERE LastName = 'Doe'")
    assert recs[0]["Account"]["Name"] == "Acme"
    assert recs[0]["Account"]["attributes"]["type"] == "Account"
    assert recs[0]["Account"]["Owner"] == {
        "attributes": {"type": "User", "url": f"/services/data/v62.0/sobjects/User/{crm.ids['ann']}"},
        "Email": "ann@example.com"}


def test_empty_lookup_gives_null_parent(crm):
    rec = crm.records("SELECT Name, Account.Name, Account.Owner.Email FROM Contact WHERE LastName = 'Orphan'")[0]
    assert rec["Account"] is None


def test_parent_of_parent_on_the_same_object(crm):
    rec = crm.records("SELECT Parent.Name, Parent.Owner.Name FROM Account WHERE Name = 'Globex'")[0]
    assert rec["Parent"]["Name"] == "Acme"
    assert rec["Parent"]["Owner"]["Name"] == "Ann Admin"


def test_object_name_prefix_is_allowed(crm):
    rec = crm.records("SELECT Contact.LastName FROM Contact WHERE Contact.LastName = 'Doe'")[0]
    assert rec["LastName"] == "Doe"


def test_polymorphic_who_points_at_lead_and_contact(crm):
    recs = by_name(crm.records("SELECT Subject, Who.Name, Who.Type, Who.Email FROM Event"), "Subject")
    assert recs["Intro"]["Who"]["attributes"]["type"] == "Contact"
    assert recs["Intro"]["Who"]["Name"] == "Jane Doe"
    assert recs["Intro"]["Who"]["Type"] == "Contact"
    assert recs["Demo"]["Who"]["attributes"] == {
        "type": "Lead", "url": f"/services/data/v62.0/sobjects/Lead/{crm.ids['lead']}"}
    assert recs["Demo"]["Who"]["Name"] == "Lee Lead"
    assert recs["Demo"]["Who"]["Email"] == "lee@leadco.com"


def test_polymorphic_what_is_null_when_empty(crm):
    recs = by_name(crm.records("SELECT Subject, What.Name FROM Event"), "Subject")
    assert recs["Intro"]["What"]["Name"] == "Acme"
    assert recs["Demo"]["What"] is None


def test_filter_on_polymorphic_field(crm):
    recs = crm.records("SELECT Subject FROM Event WHERE Who.Name = 'lee lead'")
    assert [r["Subject"] for r in recs] == ["Demo"]
    recs = crm.records("SELECT Subject FROM Event WHERE Who.Type = 'Contact' ORDER BY Subject")
    assert [r["Subject"] for r in recs] == ["Follow-up", "Intro"]


def test_child_subquery_shape(crm):
    recs = by_name(crm.records("SELECT Name, (SELECT LastName FROM Contacts ORDER BY LastName) FROM Account"))
    contacts = recs["Acme"]["Contacts"]
    assert contacts["totalSize"] == 2 and contacts["done"] is True
    assert [c["LastName"] for c in contacts["records"]] == ["Doe", "Smith"]  # deleted "Gone" left out
    assert contacts["records"][0]["attributes"]["type"] == "Contact"
    assert recs["Initech"]["Contacts"] is None


def test_child_subquery_with_its_own_where_order_and_limit(crm):
    recs = by_name(crm.records(
        "SELECT Name, (SELECT Email FROM Contacts WHERE Email LIKE '%acme.com' ORDER BY Email DESC LIMIT 1) "
        "FROM Account WHERE Industry = 'Energy'"))
    assert recs["Acme"]["Contacts"]["records"][0]["Email"] == "JOHN@acme.com"
    assert recs["Acme"]["Contacts"]["totalSize"] == 1
    assert recs["Globex"]["Contacts"] is None


def test_child_subquery_over_a_polymorphic_lookup(crm):
    recs = by_name(crm.records("SELECT LastName, (SELECT Subject FROM Events ORDER BY Subject) FROM Contact"),
                   "LastName")
    assert [e["Subject"] for e in recs["Doe"]["Events"]["records"]] == ["Follow-up", "Intro"]
    assert recs["Smith"]["Events"] is None


def test_child_subquery_with_parent_path_inside(crm):
    rec = crm.records("SELECT Name, (SELECT LastName, Owner.Alias FROM Contacts ORDER BY LastName) "
                      "FROM Account WHERE Name = 'Acme'")[0]
    assert [c["Owner"]["Alias"] for c in rec["Contacts"]["records"]] == ["bob", "ann"]


def test_child_subquery_key_uses_the_relationship_spelling(crm):
    rec = crm.records("SELECT Name, (select id from CONTACTS) FROM Account WHERE Name = 'Acme'")[0]
    assert "Contacts" in rec


def test_child_subqueries_over_many_parents(org):
    account_ids = [org.insert("Account", Name=f"A{i:04d}") for i in range(1200)]
    for account_id in account_ids[::3]:
        org.insert("Contact", LastName="C", Name="C", AccountId=account_id)
    recs = org.records("SELECT Id, (SELECT Id FROM Contacts) FROM Account")
    with_children = [r for r in recs if r["Contacts"]]
    assert len(recs) == 1200 and len(with_children) == 400


def test_deleted_rows_only_with_include_deleted(crm):
    assert "Gone" not in [r["LastName"] for r in crm.records("SELECT LastName FROM Contact")]
    recs = crm.records("SELECT LastName, IsDeleted FROM Contact WHERE IsDeleted = true", include_deleted=True)
    assert recs == [{"attributes": recs[0]["attributes"], "LastName": "Gone", "IsDeleted": True}]


def test_total_size_is_the_number_of_records(crm):
    assert crm.query("SELECT Id FROM Contact").total_size == 4


def test_object_alias(crm):
    recs = crm.records("SELECT c.LastName, c.Account.Name FROM Contact c WHERE c.Email = 'jane@acme.com' "
                       "ORDER BY c.LastName")
    assert recs[0]["LastName"] == "Doe" and recs[0]["Account"]["Name"] == "Acme"


def test_child_subquery_may_name_its_relationship_as_prefix(crm):
    rec = crm.records("SELECT Name, (SELECT Contacts.LastName FROM Contacts ORDER BY LastName LIMIT 1) "
                      "FROM Account WHERE Name = 'Acme'")[0]
    assert rec["Contacts"]["records"][0]["LastName"] == "Doe"


def test_fields_function_expands_in_describe_order(crm):
    rec = crm.records("SELECT FIELDS(STANDARD) FROM Account WHERE Name = 'Acme'")[0]
    names = [f.name for f in crm.schema.get("Account").fields.values()]
    assert list(rec)[1:] == names
    assert rec["Name"] == "Acme" and rec["NumberOfEmployees"] == 50
    assert list(crm.records("SELECT Name, FIELDS(CUSTOM) FROM Account LIMIT 1")[0]) == ["attributes", "Name"]


def test_fields_all_needs_a_limit_of_200(crm):
    from slotforce.localorg.errors import MalformedQuery
    import pytest
    with pytest.raises(MalformedQuery) as e:
        crm.query("SELECT FIELDS(ALL) FROM Account")
    assert "LIMIT of at most 200" in e.value.message
    assert len(crm.records("SELECT FIELDS(ALL) FROM Account LIMIT 200")) == 3
