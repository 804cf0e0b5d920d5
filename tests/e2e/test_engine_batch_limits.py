"""The sync engine against the deployed package: a batch must fit the Flows' per-transaction limits.

A Created Booking Action costs the Flows about 3 DML rows plus one EventRelation per invitee, all
in the transaction of the engine's write call. 200 bookings with 49 guests each need 10,400 rows:
one call of 200 breaks Salesforce's 10,000-row limit, while every booking alone fits easily. The
engine sizes its write calls by that estimate (slotforce/sync/limits.py): 153 + 47 bookings.
"""

from __future__ import annotations

from collections import Counter

import pytest

from slotforce.sync.booking import BookingChange
from slotforce.sync.engine import SyncEngine
from slotforce.sync.settings import parse_settings

pytestmark = [pytest.mark.sfcli, pytest.mark.slow]

GUESTS = 49


def crowded_changes(run: str, count: int = 200) -> list[BookingChange]:
    guests = [{"email": f"guest{i}.{run}@example.com", "name": f"Guest {i}"} for i in range(GUESTS)]
    return [BookingChange.model_validate({
        "source": "api", "action": "Created", "booking_uid": f"{run}-{n}", "event_type_slug": "webinar",
        "title": f"Webinar seat {n}", "start": "2026-12-01T10:00:00Z", "end": "2026-12-01T11:00:00Z",
        "organizer": {"email": "admin@slotforce.example", "name": "Local Admin"},
        "attendee": {"email": f"attendee{n}.{run}@bigco.example", "name": f"Attendee {n}"},
        "guests": guests, "occurred_at": "2026-11-20T10:00:00Z"}) for n in range(count)]


def test_the_engine_syncs_200_bookings_with_49_guests_each(deployed_org):
    sf = deployed_org.client()
    run = "crowd"
    sf.restful("composite/sobjects", method="POST", json={"allOrNone": True, "records": [
        {"attributes": {"type": "Contact"}, "LastName": f"Guest {i}", "Email": f"guest{i}.{run}@example.com"}
        for i in range(GUESTS)]})
    engine = SyncEngine(parse_settings({"event_types": {"default": {"create_event_on": "lead"}}}), sf)

    before = deployed_org.stats()["api_calls"]["total"]

    outcomes = engine.sync(crowded_changes(run))

    # describe (a cold engine), fetch, one people call for the 200 new Leads, two write calls
    assert deployed_org.stats()["api_calls"]["total"] - before == 5

    assert Counter(o.status for o in outcomes) == {"processed": 200}, Counter(
        (o.status, o.error_code, (o.error or "")[-40:]) for o in outcomes)
    assert sf.query(f"SELECT COUNT() FROM Event WHERE Booking_Uid__c LIKE '{run}-%'")["totalSize"] == 200
