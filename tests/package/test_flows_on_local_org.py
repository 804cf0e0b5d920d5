"""The generated Flows, run by the local org's Flow runtime: a booking's life as a user would tell it.

Objects and fields come from our own SFDX source; flows are parsed, validated and deployed the way
the local org deploys them (end-to-end over SOAP is the local org's own test).
"""

from pathlib import Path

import pytest
from lxml import etree

pytest.importorskip("slotforce.localorg.flows")

from slotforce.localorg import records  # noqa: E402
from slotforce.localorg.flows import FlowRegistry, parse_flow, validate_flow  # noqa: E402
from slotforce.localorg.flows.adapter import install  # noqa: E402
from slotforce.localorg.metadata.components import field_from_xml  # noqa: E402
from slotforce.localorg.models import Org  # noqa: E402
from slotforce.localorg.schema import SObject  # noqa: E402
from slotforce.package import render  # noqa: E402
from slotforce.package.definition import slotforce_package  # noqa: E402

NS = "{http://soap.sforce.com/2006/04/metadata}"
class LocalOrg:
    def __init__(self) -> None:
        self.org = Org()
        files = render(slotforce_package())
        for path, xml in files.items():
            parts = path.split("/")
            if parts[2] == "objects" and path.endswith(".object-meta.xml"):
                root = etree.fromstring(xml.encode())
                self.org.add_custom_object(SObject(parts[3], root.findtext(NS + "label"),
                                                   root.findtext(NS + "pluralLabel"), "", custom=True))
        for path, xml in files.items():
            parts = path.split("/")
            if parts[2] == "objects" and "/fields/" in path:
                change = field_from_xml(parts[3], etree.fromstring(xml.encode()),
                                        standard_object=not parts[3].endswith("__c"))
                self.org.add_field(parts[3], change.field)
        registry = FlowRegistry()
        install(self.org, registry)
        flows = [parse_flow(xml.encode(), Path(p).name.split(".")[0]) for p, xml in files.items() if "/flows/" in p]
        known = {f.name.lower(): f for f in flows}
        for f in flows:
            validate_flow(f, self.org.schema, known)
        for f in flows:
            registry.deploy(f)

    def insert(self, sobject: str, rows: list[dict]) -> list[str]:
        with self.org.transaction() as ctx:
            results = records.save(ctx, "insert", self.org.sobject(sobject), rows, all_or_none=True)
        assert all(r.success for r in results), results
        return [r.id for r in results]

    def update(self, sobject: str, rows: list[dict]) -> None:
        with self.org.transaction() as ctx:
            results = records.save(ctx, "update", self.org.sobject(sobject), rows, all_or_none=True)
        assert all(r.success for r in results), results

    def query(self, soql: str) -> list[dict]:
        return self.org.execute_query(soql).records

    def action(self, action: str, uid: str | None, **fields) -> dict:
        (ba_id,) = self.insert("Booking_Action__c", [{"Action__c": action, "Booking_Uid__c": uid, **fields}])
        return self.query(f"SELECT Status__c, Error__c, Event_Id__c FROM Booking_Action__c WHERE Id = '{ba_id}'")[0]


@pytest.fixture(scope="module")
def org():
    return LocalOrg()


START, END = "2026-12-01T10:00:00.000+0000", "2026-12-01T10:30:00.000+0000"


def test_a_booking_from_creation_to_cancellation(org):
    guest, who = org.insert("Contact", [{"LastName": "Guest", "Email": "guest@example.com"},
                                        {"LastName": "Who", "Email": "who@example.com"}])
    (lead,) = org.insert("Lead", [{"LastName": "Lee", "Company": "Acme", "Email": "lead@example.com"}])
    host = org.query("SELECT Id FROM User WHERE Email = 'admin@slotforce.example'")[0]["Id"]

    created = org.action("Created", "uid-1", Subject__c="Intro", Start__c=START, End__c=END, Who_Id__c=who,
                         Meeting_Type__c="Discovery", Guest_Emails__c="guest@example.com\nlead@example.com\n\nnobody@x.io",
                         Co_Host_Emails__c="ADMIN@slotforce.example")
    # the Who is a Contact, so the guest Lead cannot be one of the Event's people: invited, and noted
    assert created["Status__c"] == "Processed"
    assert created["Error__c"].endswith("Not related: lead@example.com"), created["Error__c"]
    event = org.query("SELECT Id, Subject, WhoId, Meeting_Status__c FROM Event WHERE Booking_Uid__c = 'uid-1'")[0]
    assert (event["Id"], event["Subject"], event["WhoId"], event["Meeting_Status__c"]) == (
        created["Event_Id__c"], "Intro", who, "Scheduled")
    relations = {r["RelationId"]: (r["IsInvitee"], r["IsParent"]) for r in org.query(
        f"SELECT RelationId, IsInvitee, IsParent FROM EventRelation WHERE EventId = '{event['Id']}'")}
    assert relations == {guest: (True, True), lead: (True, False), host: (True, False)}
    person = org.query(f"SELECT Meeting_Status__c, Meeting_Type__c FROM Contact WHERE Id = '{who}'")[0]
    assert (person["Meeting_Status__c"], person["Meeting_Type__c"]) == ("Scheduled", "Discovery")

    moved = org.action("Rescheduled", "uid-2", Previous_Booking_Uid__c="uid-1",
                       Start__c="2026-12-02T09:00:00.000+0000", End__c="2026-12-02T09:30:00.000+0000")
    assert moved["Status__c"] == "Processed" and moved["Event_Id__c"] == event["Id"]
    after = org.query(f"SELECT Booking_Uid__c, StartDateTime, Meeting_Status__c FROM Event WHERE Id = '{event['Id']}'")[0]
    assert (after["Booking_Uid__c"], after["Meeting_Status__c"]) == ("uid-2", "Rescheduled")
    assert after["StartDateTime"].startswith("2026-12-02T09:00")

    assert org.action("No_Show", "uid-2")["Status__c"] == "Processed"
    assert org.query(f"SELECT No_Show__c, Meeting_Status__c FROM Contact WHERE Id = '{who}'")[0]["No_Show__c"] is True
    assert org.action("Canceled", "uid-2", Cancel_Mode__c="Keep")["Status__c"] == "Processed"
    assert org.query(f"SELECT Canceled__c FROM Event WHERE Id = '{event['Id']}'")[0]["Canceled__c"] is True
    assert org.action("Canceled", "uid-2", Cancel_Mode__c="Delete")["Status__c"] == "Processed"
    assert org.query(f"SELECT Id FROM Event WHERE Id = '{event['Id']}'") == []
    assert org.query(f"SELECT Meeting_Status__c FROM Contact WHERE Id = '{who}'")[0]["Meeting_Status__c"] == "Canceled"

    missing = org.action("Completed", "never-booked")
    assert missing["Status__c"] == "Failed" and "never-booked" in missing["Error__c"]
    assert org.action("Completed", None)["Status__c"] == "Skipped"


def relations(org, event_id: str) -> dict[str, bool]:
    """RelationId -> IsParent of the Event's relations (all of them are invitees)."""
    rows = org.query(f"SELECT RelationId, IsInvitee, IsParent FROM EventRelation WHERE EventId = '{event_id}'")
    assert all(r["IsInvitee"] for r in rows)
    return {r["RelationId"]: r["IsParent"] for r in rows}


def test_sixty_guest_contacts_relate_fifty_and_name_the_ten_left_out(org):
    emails = [f"crowd{i}@sixty.example" for i in range(60)]
    contacts = dict(zip(org.insert("Contact", [{"LastName": f"Crowd {i}", "Email": e} for i, e in enumerate(emails)]),
                        emails))
    action = org.action("Created", "sixty", Subject__c="Town hall", Start__c=START, End__c=END,
                        Guest_Emails__c="\n".join(emails))
    assert action["Status__c"] == "Processed"
    related = relations(org, action["Event_Id__c"])
    assert set(related) == set(contacts)  # everyone is invited
    left_out = sorted(contacts[c] for c, parent in related.items() if not parent)
    assert len(left_out) == 10  # oldest Contacts first; these 60 were created together, so any ten
    note = action["Error__c"]
    assert "up to 50 contacts or one lead" in note
    assert sorted(note.split("Not related: ")[1].split(", ")) == left_out


def test_the_who_contact_counts_among_the_fifty(org):
    (who,) = org.insert("Contact", [{"LastName": "Host side", "Email": "who@fifty.example"}])
    emails = [f"g{i}@fifty.example" for i in range(50)]
    org.insert("Contact", [{"LastName": f"G{i}", "Email": e} for i, e in enumerate(emails)])
    action = org.action("Created", "fifty", Start__c=START, End__c=END, Who_Id__c=who,
                        Guest_Emails__c="\n".join(emails))
    assert action["Status__c"] == "Processed"
    related = relations(org, action["Event_Id__c"])
    assert len(related) == 50 and sum(related.values()) == 49
    (left_out,) = [c for c, parent in related.items() if not parent]
    email = org.query(f"SELECT Email FROM Contact WHERE Id = '{left_out}'")[0]["Email"]
    assert action["Error__c"].endswith(f"Not related: {email}")


def test_two_guest_leads_relate_one(org):
    leads = org.insert("Lead", [{"LastName": "One", "Company": "X", "Email": "one@leads.example"},
                                {"LastName": "Two", "Company": "X", "Email": "two@leads.example"}])
    action = org.action("Created", "two-leads", Start__c=START, End__c=END,
                        Guest_Emails__c="one@leads.example\ntwo@leads.example")
    assert action["Status__c"] == "Processed"
    assert relations(org, action["Event_Id__c"]) == {leads[0]: True, leads[1]: False}
    assert action["Error__c"].endswith("Not related: two@leads.example")


def test_guests_of_a_lead_s_event_are_invited_only(org):
    (lead,) = org.insert("Lead", [{"LastName": "Who", "Company": "X", "Email": "who@lead-event.example"}])
    (guest,) = org.insert("Contact", [{"LastName": "Guest", "Email": "guest@lead-event.example"}])
    action = org.action("Created", "lead-event", Start__c=START, End__c=END, Who_Id__c=lead,
                        Guest_Emails__c="guest@lead-event.example")
    assert relations(org, action["Event_Id__c"]) == {guest: False}
    assert action["Error__c"].endswith("Not related: guest@lead-event.example")


def test_emails_match_whatever_their_case_and_a_contact_is_not_invited_again_as_a_lead(org):
    # Salesforce stores emails as typed; the guest list may be typed differently again.
    (contact,) = org.insert("Contact", [{"LastName": "Mixed", "Email": "Mixed.Case@Cases.example"}])
    (lead, other) = org.insert("Lead", [
        {"LastName": "Mixed", "Company": "X", "Email": "mixed.case@cases.example"},
        {"LastName": "Other", "Company": "X", "Email": "Other@Cases.example"}])
    action = org.action("Created", "cases", Start__c=START, End__c=END,
                        Guest_Emails__c="MIXED.case@cases.example\nother@CASES.example")
    assert action["Status__c"] == "Processed"
    # the Contact is one of the Event's people; the other guest's Lead is only invited (a Contact is there)
    assert relations(org, action["Event_Id__c"]) == {contact: True, other: False}
    assert lead not in relations(org, action["Event_Id__c"])
    assert action["Error__c"].endswith("Not related: Other@Cases.example")


def test_a_booking_within_the_limit_has_no_note(org):
    (who,) = org.insert("Contact", [{"LastName": "Who", "Email": "who@quiet.example"}])
    (guest,) = org.insert("Contact", [{"LastName": "Guest", "Email": "guest@quiet.example"}])
    action = org.action("Created", "quiet", Start__c=START, End__c=END, Who_Id__c=who,
                        Guest_Emails__c="guest@quiet.example")
    assert (action["Status__c"], action["Error__c"]) == ("Processed", None)
    assert relations(org, action["Event_Id__c"]) == {guest: True}
    # booked again (same uid): the guest is related already and is not counted or related twice
    again = org.action("Created", "quiet", Start__c=START, End__c=END, Who_Id__c=who,
                       Guest_Emails__c="guest@quiet.example")
    assert (again["Status__c"], again["Error__c"]) == ("Processed", None)
    assert relations(org, action["Event_Id__c"]) == {guest: True}


def test_two_hundred_bookings_in_one_request_stay_within_limits(org):
    (who,) = org.insert("Contact", [{"LastName": "Bulk", "Email": "bulk@example.com"}])
    rows = [{"Action__c": "Created", "Booking_Uid__c": f"bulk-{i}", "Subject__c": "S", "Start__c": START,
             "End__c": END, "Who_Id__c": who, "Guest_Emails__c": "guest@example.com"} for i in range(200)]
    org.insert("Booking_Action__c", rows)
    assert org.org.last_transaction["soql"] <= 20 and org.org.last_transaction["dml"] <= 10
    statuses = {r["Status__c"] for r in org.query(
        "SELECT Status__c FROM Booking_Action__c WHERE Booking_Uid__c LIKE 'bulk-%'")}
    assert statuses == {"Processed"}


def test_profile_links_map_to_active_users(org):
    org.insert("Scheduling_Link__c", [
        {"Name": "Admin", "Link_Key__c": "l1", "Url__c": "https://cal.example/admin", "Kind__c": "Profile",
         "Owner_Email__c": "ADMIN@slotforce.example", "Active__c": True},
        {"Name": "Former", "Link_Key__c": "l2", "Url__c": "https://cal.example/former", "Kind__c": "Profile",
         "Owner_Email__c": "former.employee@slotforce.example"},
        {"Name": "Team", "Link_Key__c": "l3", "Url__c": "https://cal.example/team", "Kind__c": "Event_Type",
         "Owner_Email__c": "admin@slotforce.example"},
    ])
    links = {r["Link_Key__c"]: r["Status__c"] for r in org.query("SELECT Link_Key__c, Status__c FROM Scheduling_Link__c")}
    assert links == {"l1": "Mapped", "l2": "Unmatched", "l3": "Pending"}
    users = {r["Email"]: r["Scheduling_Link__c"] for r in org.query("SELECT Email, Scheduling_Link__c FROM User")}
    assert users["admin@slotforce.example"] == "https://cal.example/admin"
    assert users["former.employee@slotforce.example"] is None


def a_user(org, name: str) -> str:
    profile = org.query("SELECT ProfileId FROM User LIMIT 1")[0]["ProfileId"]
    (user,) = org.insert("User", [{"LastName": name, "Email": f"{name}@links.example", "Alias": name[:8],
                                   "Username": f"{name}@links.example.local", "TimeZoneSidKey": "GMT",
                                   "LocaleSidKey": "en_US", "EmailEncodingKey": "UTF-8",
                                   "LanguageLocaleKey": "en_US", "ProfileId": profile}])
    return user


def link_and_user(org, key: str, user: str) -> tuple[str, str | None, str | None]:
    """(link Status__c, link User__c, the User's Scheduling_Link__c)."""
    link = org.query(f"SELECT Status__c, User__c FROM Scheduling_Link__c WHERE Link_Key__c = '{key}'")[0]
    on_user = org.query(f"SELECT Scheduling_Link__c FROM User WHERE Id = '{user}'")[0]["Scheduling_Link__c"]
    return link["Status__c"], link["User__c"], on_user


def test_a_retired_link_comes_off_its_user_and_back_on_when_active_again(org):
    user = a_user(org, "retiree")
    (link_id,) = org.insert("Scheduling_Link__c", [{"Link_Key__c": "ret", "Url__c": "https://cal.example/ret",
                                                    "Kind__c": "Profile", "Owner_Email__c": "Retiree@links.example",
                                                    "Active__c": True}])
    assert link_and_user(org, "ret", user) == ("Mapped", user, "https://cal.example/ret")
    org.update("Scheduling_Link__c", [{"Id": link_id, "Active__c": False}])
    assert link_and_user(org, "ret", user) == ("Unmatched", None, None)
    org.update("Scheduling_Link__c", [{"Id": link_id, "Active__c": True}])
    assert link_and_user(org, "ret", user) == ("Mapped", user, "https://cal.example/ret")


def test_a_retired_link_leaves_a_newer_link_on_the_user(org):
    user = a_user(org, "mover")
    (old,) = org.insert("Scheduling_Link__c", [{"Link_Key__c": "old", "Url__c": "https://cal.example/old",
                                                "Kind__c": "Profile", "Owner_Email__c": "mover@links.example",
                                                "Active__c": True}])
    org.insert("Scheduling_Link__c", [{"Link_Key__c": "new", "Url__c": "https://cal.example/new",
                                       "Kind__c": "Profile", "Owner_Email__c": "mover@links.example",
                                       "Active__c": True}])
    org.update("Scheduling_Link__c", [{"Id": old, "Active__c": False}])
    assert link_and_user(org, "old", user) == ("Unmatched", None, "https://cal.example/new")


def test_a_link_retired_and_renamed_in_one_save_takes_the_old_url_off(org):
    user = a_user(org, "renamer")
    (link_id,) = org.insert("Scheduling_Link__c", [{"Link_Key__c": "ren", "Url__c": "https://cal.example/ren",
                                                    "Kind__c": "Profile", "Owner_Email__c": "renamer@links.example",
                                                    "Active__c": True}])
    org.update("Scheduling_Link__c", [{"Id": link_id, "Active__c": False, "Url__c": "https://cal.example/gone"}])
    assert link_and_user(org, "ren", user) == ("Unmatched", None, None)


def test_a_link_created_retired_is_never_put_on_a_user(org):
    user = a_user(org, "never")
    org.insert("Scheduling_Link__c", [{"Link_Key__c": "nev", "Url__c": "https://cal.example/nev",
                                       "Kind__c": "Profile", "Owner_Email__c": "never@links.example",
                                       "Active__c": False}])
    assert link_and_user(org, "nev", user) == ("Unmatched", None, None)


def test_retiring_and_adding_links_of_one_user_in_one_batch_leaves_the_new_one(org):
    user = a_user(org, "swap")
    org.insert("Scheduling_Link__c", [{"Link_Key__c": "swap-old", "Url__c": "https://cal.example/swap-old",
                                       "Kind__c": "Profile", "Owner_Email__c": "swap@links.example",
                                       "Active__c": True}])
    with org.org.transaction() as ctx:  # what link sync's one Collections upsert does
        results = records.save(ctx, "upsert", org.org.sobject("Scheduling_Link__c"), [
            {"Link_Key__c": "swap-old", "Active__c": False},
            {"Link_Key__c": "swap-new", "Url__c": "https://cal.example/swap-new", "Kind__c": "Profile",
             "Owner_Email__c": "swap@links.example", "Active__c": True}], all_or_none=True, ext_field="Link_Key__c")
    assert all(r.success for r in results), results
    assert link_and_user(org, "swap-old", user) == ("Unmatched", None, "https://cal.example/swap-new")
    assert link_and_user(org, "swap-new", user) == ("Mapped", user, "https://cal.example/swap-new")
