"""Every error code the SOQL layer answers, with Salesforce's message naming the culprit."""

import pytest

from slotforce.localorg.errors import (
    InvalidField, InvalidQueryFilterOperator, InvalidType, MalformedQuery, NotImplementedByLocalOrg,
)


def error_of(org, soql, cls):
    with pytest.raises(cls) as e:
        org.query(soql)
    assert e.value.status == 400
    return e.value


def test_unknown_object_is_invalid_type(org):
    err = error_of(org, "SELECT Id FROM Foo__c", InvalidType)
    assert err.error_code == "INVALID_TYPE"
    assert err.message == (
        "\nSELECT Id FROM Foo__c\n               ^\nERROR at Row:1:Column:16\n"
        "sObject type 'Foo__c' is not supported. If you are attempting to use a custom object, be sure "
        "to append the '__c' after the entity name. Please reference your WSDL or the describe call for "
        "the appropriate names.")
    assert err.to_json() == {"message": err.message, "errorCode": "INVALID_TYPE"}


def test_unknown_field_is_invalid_field(org):
    err = error_of(org, "SELECT Id, Foo FROM Contact", InvalidField)
    assert err.error_code == "INVALID_FIELD"
    assert "ERROR at Row:1:Column:12\nNo such column 'Foo' on entity 'Contact'. If you are attempting " \
           "to use a custom field, be sure to append the '__c'" in err.message


def test_unknown_field_on_parent_names_the_parent(org):
    err = error_of(org, "SELECT Account.Foo FROM Contact", InvalidField)
    assert "No such column 'Foo' on entity 'Account'" in err.message


def test_unknown_relationship_is_invalid_field(org):
    err = error_of(org, "SELECT Acount.Name FROM Contact", InvalidField)
    assert "Didn't understand relationship 'Acount' in field path" in err.message


def test_unknown_child_relationship_is_invalid_type(org):
    err = error_of(org, "SELECT Id, (SELECT Id FROM Contactz) FROM Account", InvalidType)
    assert "Didn't understand relationship 'Contactz' in FROM part of query call" in err.message


def test_polymorphic_parent_offers_only_name_fields(org):
    err = error_of(org, "SELECT Who.Birthdate FROM Event", InvalidField)
    assert "No such column 'Birthdate' on entity 'Name'" in err.message
    err = error_of(org, "SELECT Who.Account.Name FROM Event", InvalidField)
    assert "Didn't understand relationship 'Account'" in err.message


def test_long_text_cannot_be_filtered(org):
    err = error_of(org, "SELECT Id FROM Contact WHERE Description = 'x'", InvalidField)
    assert "field 'Description' can not be filtered in a query call" in err.message


@pytest.mark.parametrize("where, message", [
    ("Birthdate = '2024-01-01'", "field 'Birthdate' must be of type date and should not be enclosed in quotes"),
    ("CreatedDate = 2024-01-01", "field 'CreatedDate' must be of type dateTime and should not be enclosed"),
    ("Birthdate = 2024-01-01T00:00:00Z", "field 'Birthdate' must be of type date and should not be"),
    ("LastName = 5", "field 'LastName' must be of type string and should be enclosed in quotes"),
    ("IsDeleted = 'true'", "field 'IsDeleted' must be of type boolean and should not be"),
    ("AccountId = 5", "field 'AccountId' must be of type id and should be enclosed in quotes"),
])
def test_value_of_the_wrong_type_is_invalid_field(org, where, message):
    err = error_of(org, f"SELECT Id FROM Contact WHERE {where}", InvalidField)
    assert message in err.message


def test_number_field_with_text_is_invalid_field(org):
    err = error_of(org, "SELECT Id FROM Account WHERE NumberOfEmployees = '5'", InvalidField)
    assert "must be of type integer and should not be enclosed in quotes" in err.message


def test_like_on_a_non_text_field_is_invalid_operator(org):
    err = error_of(org, "SELECT Id FROM Account WHERE NumberOfEmployees LIKE '5%'", InvalidQueryFilterOperator)
    assert err.error_code == "INVALID_QUERY_FILTER_OPERATOR"
    err = error_of(org, "SELECT Id FROM Account WHERE Id LIKE '001%'", InvalidQueryFilterOperator)
    assert "NumberOfEmployees" not in err.message and "'Id'" in err.message


def test_includes_on_a_single_picklist_is_invalid_operator(org):
    error_of(org, "SELECT Id FROM Account WHERE Industry INCLUDES ('Energy')", InvalidQueryFilterOperator)


def test_offset_in_child_subquery_is_malformed(org):
    err = error_of(org, "SELECT Id, (SELECT Id FROM Contacts OFFSET 1) FROM Account", MalformedQuery)
    assert "OFFSET" in err.message


@pytest.mark.parametrize("soql, words", [
    ("SELECT TYPEOF What WHEN Account THEN Owner.Name END FROM Event", "TYPEOF"),
    ("SELECT Id FROM Account USING SCOPE team", "USING SCOPE"),
    ("SELECT Id FROM Account WHERE DISTANCE(Location__c, GEOLOCATION(1, 2), 'mi') < 20", "DISTANCE"),
    ("SELECT Id FROM Account WHERE FISCAL_YEAR(CreatedDate) = 2024", "FISCAL_YEAR"),
    ("SELECT Id FROM Account WHERE convertTimezone(CreatedDate) > 2024-01-01T00:00:00Z", "convertTimezone"),
    ("SELECT Id FROM Account WHERE CreatedDate = THIS_FISCAL_QUARTER", "THIS_FISCAL_QUARTER"),
])
def test_valid_soql_the_org_does_not_implement_is_refused_by_name(org, soql, words):
    err = error_of(org, soql, NotImplementedByLocalOrg)
    assert words in err.message and "not supported by the local org" in err.message
    assert err.error_code == "UNSUPPORTED_BY_LOCAL_ORG"


def test_more_than_five_parent_levels_is_malformed(org):
    error_of(org, "SELECT Parent.Parent.Parent.Parent.Parent.Parent.Name FROM Account", MalformedQuery)
    org.query("SELECT Parent.Parent.Parent.Parent.Parent.Name FROM Account")
