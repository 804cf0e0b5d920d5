"""A Geolocation (Location) custom field deployed: a compound location field over writable Latitude and
Longitude components, in describe and in query results as Salesforce shapes them (issue 11.4)."""

from __future__ import annotations

from mdkit import HEADER, make_zip, package_xml

from slotforce.localorg import records
from slotforce.localorg.describe import sobject_describe
from slotforce.localorg.errors import InvalidFieldForInsertUpdate
from slotforce.localorg.metadata import attach
from slotforce.localorg.models import Org

OBJECT = HEADER + """<CustomObject xmlns="http://soap.sforce.com/2006/04/metadata">
    <fields>
        <fullName>Site__c</fullName>
        <label>Site</label>
        <type>Location</type>
        <scale>4</scale>
        <displayLocationInDecimal>true</displayLocationInDecimal>
    </fields>
</CustomObject>"""


def _deploy(org):
    files = {"package.xml": package_xml({"CustomField": ["Account.Site__c"]}), "objects/Account.object": OBJECT}
    result = attach(org).deploy(make_zip(files), {})
    assert not result.failures, [(c.full_name, c.problem) for c in result.failures]


def test_a_location_field_is_a_compound_over_latitude_and_longitude():
    org = Org()
    _deploy(org)
    fields = {f["name"]: f for f in sobject_describe(org.sobject("Account"), "62.0")["fields"]}
    site = fields["Site__c"]
    assert (site["type"], site["soapType"], site["createable"], site["custom"]) == ("location", "urn:location",
                                                                                  False, True)
    lat, lon = fields["Site__Latitude__s"], fields["Site__Longitude__s"]
    assert (lat["type"], lat["scale"], lat["compoundFieldName"], lat["createable"]) == ("double", 4, "Site__c", True)
    assert lon["compoundFieldName"] == "Site__c"
    names = list(fields)
    assert names.index("Site__Latitude__s") < names.index("Site__Longitude__s") < names.index("Site__c")
    with org.transaction() as ctx:
        account = org.sobject("Account")
        placed, bare = (r.id for r in records.save(ctx, "insert", account, [
            {"Name": "Placed", "Site__Latitude__s": 48.8566, "Site__Longitude__s": 2.35222},
            {"Name": "Bare"}], all_or_none=True))
        bad = records.save(ctx, "insert", account, [{"Name": "Bad", "Site__c": {"latitude": 1}}],
                           all_or_none=False)[0]
    assert isinstance(bad.errors[0], InvalidFieldForInsertUpdate)
    rows = org.execute_query("SELECT Name, Site__c, Site__Latitude__s FROM Account ORDER BY Name").records
    assert [(r["Name"], r["Site__c"]) for r in rows] == [("Bare", None),
                                                        ("Placed", {"latitude": 48.8566, "longitude": 2.3522})]
    assert rows[1]["Site__Latitude__s"] == 48.8566 and placed and bare
