"""Local org behaviours the end-to-end suites ran into, pinned where they differ from Salesforce.

Salesforce: "Regular dateTime fields are full timestamps with a precision of one second"
(SOAP API data types, dateTime: CreatedDate, LastModifiedDate, SystemModstamp, ActivityDateTime...).
Any milliseconds sent are dropped, and audit fields always read `.000+0000`. A Flow that copies
CreatedDate into a custom DateTime (Booking_Action_Created -> Meeting_Created_At__c) must therefore
give back the same value (the Robot suite compares them whole).
"""

from __future__ import annotations

import pytest

from slotforce.localorg import LocalOrg


@pytest.fixture(scope="module")
def sf():
    with LocalOrg() as org:
        client = org.client()
        yield client
        client.session.close()


def test_datetime_values_are_kept_to_the_second(sf):
    who = sf.Contact.create({"LastName": "Precise", "Email": "precise@example.com"})["id"]
    event = sf.Event.create({"Subject": "Exactly", "WhoId": who, "StartDateTime": "2026-12-01T10:00:00.123Z",
                             "EndDateTime": "2026-12-01T10:30:00.987Z"})["id"]
    saved = sf.Event.get(event)
    assert (saved["StartDateTime"], saved["EndDateTime"]) == ("2026-12-01T10:00:00.000+0000",
                                                             "2026-12-01T10:30:00.000+0000")
    assert saved["CreatedDate"].endswith(".000+0000"), saved["CreatedDate"]
    assert saved["SystemModstamp"].endswith(".000+0000"), saved["SystemModstamp"]
