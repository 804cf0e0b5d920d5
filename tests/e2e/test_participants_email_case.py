"""A guest is invited once, whatever the case of their email, even when a Lead shares it.

Event_Participants matches Contacts by email first (SOQL: case-insensitive), then looks for Leads
among "the guest emails no Contact matched", computed with a collection RemoveAll of the matched
Contacts' emails. Flow compares text case-sensitively there, and Salesforce stores emails as typed
(`Dup.Case@Example.com` on the Contact, `dup.case@example.com` from the engine), so the Flow
lower-cases both lists; otherwise the same person would be invited a second time, as the Lead.
"""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.sfcli, pytest.mark.slow]


def invitees(sf, action_id: str) -> list[str]:
    action = sf.Booking_Action__c.get(action_id)
    assert action["Status__c"] == "Processed", action["Error__c"]
    rows = sf.query(f"SELECT RelationId FROM EventRelation WHERE EventId = '{action['Event_Id__c']}'")["records"]
    return sorted(r["RelationId"] for r in rows)


def book(sf, uid: str, guest_emails: str) -> str:
    return sf.Booking_Action__c.create({"Action__c": "Created", "Booking_Uid__c": uid, "Subject__c": "Case test",
                                        "Start__c": "2026-12-01T10:00:00Z", "End__c": "2026-12-01T10:30:00Z",
                                        "Guest_Emails__c": guest_emails})["id"]


def test_a_guest_with_the_same_case_everywhere_is_invited_once_as_the_contact(deployed_org):
    sf = deployed_org.client()
    contact = sf.Contact.create({"LastName": "Same", "Email": "same.case@example.com"})["id"]
    sf.Lead.create({"LastName": "Same", "Company": "Acme", "Email": "same.case@example.com"})
    assert invitees(sf, book(sf, "case-same", "same.case@example.com")) == [contact]


def test_a_contact_email_stored_in_mixed_case_does_not_invite_the_lead_too(deployed_org):
    sf = deployed_org.client()
    contact = sf.Contact.create({"LastName": "Mixed", "Email": "Mixed.Case@Example.com"})["id"]
    sf.Lead.create({"LastName": "Mixed", "Company": "Acme", "Email": "mixed.case@example.com"})
    assert invitees(sf, book(sf, "case-mixed", "mixed.case@example.com")) == [contact]
