"""Fetch and write requests: within Composite limits, references that resolve, idempotent keys."""

import re

from slotforce.sync.booking import Action
from slotforce.sync.engine import split_waves
from slotforce.sync.fetch import MAX_QUERIES, build_fetch, snapshot_from
from slotforce.sync.plan import plan_batch, plan_change
from slotforce.sync.requests import (
    MAX_COLLECTIONS_OR_QUERIES, MAX_SUBREQUESTS, check_limits, fetch_call, people_calls, write_call, write_parts,
)

from .factories import HOST, account, booking, contact, describes, lead, settings, snapshot

SETTINGS = settings(create_event_on="contact_under_account", create_contact_under_account=True,
                    create_lead_if_no_account=True, fuzzy_domain_matching=True, no_show_field="No_Show__c",
                    write_to_record=[{"field": "Meeting_Type__c", "type": "text", "value": "{company}", "when": "field_empty"}],
                    write_to_event=[{"field": "Meeting_Type__c", "type": "text", "value": "Intro"}],
                    on_cancel={"mode": "keep", "write_to_event": [{"field": "Canceled__c", "type": "checkbox", "value": True}]},
                    change_record_owner={"enabled": True, "only_from_owners": ["Integration User"]})


def mixed(n=200):
    changes = []
    for i in range(n):
        kind = i % 4
        action = ["Created", "Created", "Canceled", "No_Show"][kind]
        changes.append(booking(booking_uid=f"bk-{i}", action=action, attendee={"email": f"p{i}@co{i % 37}.com", "name": f"P {i}"},
                               guests=[{"email": f"g{i}@gmail.com"}], answers={"company": f"Co {i}"},
                               organizer={"email": f"host{i % 5}@corp.com"}, occurred_at=f"2024-05-01T10:{i % 60:02d}:00Z"))
    return changes


def test_fetch_for_200_mixed_bookings_fits_one_composite():
    changes = mixed()
    plan = build_fetch(changes, SETTINGS, describes())
    assert set(plan.queries) == {"contacts", "leads", "users", "accounts", "domains"}
    assert len(plan.queries) <= MAX_QUERIES
    call = fetch_call("62.0", plan.queries)
    assert check_limits(call) == [] and call.queries == 5
    assert "MIN(Email) lo" in plan.queries["domains"]  # several domains: aggregate carries a domain hint
    assert "gmail.com" not in plan.queries["accounts"]  # free domains never searched


def test_fetch_reads_current_values_for_field_empty_mappings_only():
    plan = build_fetch([booking()], SETTINGS, describes())
    assert "Meeting_Type__c" in plan.queries["contacts"] and "Meeting_Type__c" in plan.queries["leads"]
    plain = build_fetch([booking()], settings(), describes())
    assert "Meeting_Type__c" not in plain.queries["contacts"]
    assert "accounts" not in plain.queries  # contact mode never matches accounts


def test_snapshot_from_query_answers():
    plan = build_fetch([booking()], SETTINGS, describes())
    snap = snapshot_from(plan, {
        "contacts": {"records": [{"Id": "003A", "Email": "Pat@Acme.com", "OwnerId": "005B", "Owner": {"Email": "X@corp.com", "Name": "Integration User"},
                                  "AccountId": None, "Account": None, "Meeting_Type__c": "kept"}]},
        "leads": {"records": []}, "users": {"records": [{"Id": HOST.id, "Email": "host@corp.com", "Username": "host@corp.com", "IsActive": True}]},
        "accounts": {"records": [{"Id": "001A", "Website": "acme.com", "Owner": None, "ChildAccounts": None,
                                  "Opportunities": {"totalSize": 2, "done": True, "records": []}, "Contacts": None}]},
        "domains": {"records": [{"AccountId": "001A", "n": 4}]},
    })
    c = snap.contacts["pat@acme.com"][0]
    assert (c.owner_email, c.owner_name, c.values) == ("x@corp.com", "Integration User", {"Meeting_Type__c": "kept"})
    assert snap.accounts["001A"].opportunities == 2 and snap.accounts["001A"].contacts == 0
    assert snap.domain_counts["acme.com"][0].count == 4
    assert snap.user("HOST@corp.com").id == HOST.id


def test_write_call_for_one_new_person_references_its_id():
    snap = snapshot(accounts=[account("001A", "acme.com")], users=[HOST])
    plan = plan_change(booking(guests=[]), SETTINGS, snap, describes())
    layout = write_call("62.0", write_parts([plan]))
    body = layout.call.body()
    subs = body["compositeRequest"]
    refs = [s["referenceId"] for s in subs]
    assert refs == ["p0", "action0", "eventWrites", "readBack"]
    assert subs[0]["url"].endswith("/sobjects/Contact") and subs[0]["body"]["AccountId"] == "001A"
    assert subs[1]["body"]["Who_Id__c"] == "@{p0.id}"
    assert subs[1]["url"].endswith("/sobjects/Booking_Action__c/Action_Key__c/calcom%3Abk-1%3ACreated%3A0")
    assert subs[1]["body"]["What_Id__c"] == "001A" and subs[1]["body"]["Owner_Id__c"] == HOST.id
    # every @{ref.x} points to an earlier subrequest
    for i, s in enumerate(subs):
        for ref in re.findall(r"@\{(\w+)\.", str(s)):
            assert ref in refs[:i]


def test_write_call_for_existing_people_uses_collections():
    people = [contact("003A", "pat@acme.com", account_id="001A", owner_id="005X", owner_name="Integration User")]
    snap = snapshot(people, users=[HOST])
    plans = plan_batch([booking(), booking(booking_uid="bk-2", action="Canceled"),
                        booking(booking_uid="bk-3", action="No_Show")], SETTINGS, snap, describes())
    layout = write_call("62.0", write_parts(plans))
    subs = {s["referenceId"]: s for s in layout.call.body()["compositeRequest"]}
    assert list(subs) == ["actions", "whoUpdates", "eventWrites", "readBack"]
    actions = subs["actions"]["body"]["records"]
    assert [a["Action__c"] for a in actions] == ["Created", "Canceled", "No_Show"]
    assert actions[1]["Cancel_Mode__c"] == "Keep"
    # later changes are found by Booking_Uid__c; without on_cancel.write_to_record nobody is looked up
    assert [a.get("Who_Id__c") for a in actions] == ["003A", None, None]
    update = subs["whoUpdates"]["body"]["records"][0]
    # {company} has no answer in this booking: the mapping is dropped, the owner still changes
    assert update == {"attributes": {"type": "Contact"}, "Id": "003A", "OwnerId": HOST.id}
    assert plans[0].dropped[0].field == "Meeting_Type__c"
    events = subs["eventWrites"]["body"]["records"]
    assert events[1] == {"attributes": {"type": "Event"}, "Booking_Uid__c": "bk-2", "Canceled__c": True}
    assert events[2] == {"attributes": {"type": "Event"}, "Booking_Uid__c": "bk-3", "No_Show__c": True}


def test_owner_change_only_from_listed_owners():
    snap = snapshot([contact("003A", "pat@acme.com", account_id="001A", owner_id="005X", owner_name="Someone Else")], users=[HOST])
    plan = plan_change(booking(), SETTINGS, snap, describes())
    assert all("OwnerId" not in u.fields for u in plan.record_updates)
    assert plan.trace.steps("record_owner_kept")


def test_200_mixed_bookings_write_in_few_calls_within_limits():
    changes = mixed()
    snap = snapshot([contact(f"003{i:03d}", f"p{i}@co{i % 37}.com", account_id="001A") for i in range(0, 200, 2)],
                    users=[HOST])
    plans = plan_batch(changes, SETTINGS, snap, describes())
    parts = write_parts(plans)
    calls = [c for c, _ in people_calls("62.0", parts.people)] if len(parts.people) > 10 else []
    created = {n.key: f"00Q{i:015d}" for i, n in enumerate(parts.people)}
    calls.append(write_call("62.0", write_parts(plans, created), created).call)
    assert len(calls) <= 2
    for call in calls:
        assert check_limits(call) == []
        assert len(call.subrequests) <= MAX_SUBREQUESTS and call.queries <= MAX_COLLECTIONS_OR_QUERIES


def test_unknown_event_type_uses_default_and_says_so():
    plan = plan_change(booking(event_type_slug="nope"), SETTINGS, snapshot(users=[HOST]), describes())
    assert plan.event_type == "default" and not plan.configured
    assert plan.trace.steps("unknown_event_type_default_applied")
    assert "default settings" in str(plan)


def test_missing_attendee_email_skips_with_reason():
    plan = plan_change(booking(attendee={"name": "Anon"}), SETTINGS, snapshot(users=[HOST]), describes())
    assert plan.skipped == "missing_attendee_email"
    assert write_parts([plan]).actions == []


def test_booking_action_fields_are_truncated_and_bad_urls_dropped():
    plan = plan_change(booking(title="T" * 300, meeting_url="https://x.test/" + "a" * 300, location="L" * 300,
                               event_type_name="N" * 150), settings(), snapshot(users=[HOST]), describes())
    f = plan.action_fields
    assert len(f["Subject__c"]) == 255 and len(f["Location__c"]) == 255 and len(f["Meeting_Type__c"]) == 100
    assert "Meeting_Url__c" not in f and plan.dropped[0].field == "Meeting_Url__c"


def test_same_booking_twice_in_a_batch_goes_in_order_in_two_waves():
    created = booking()
    canceled = booking(action="Canceled")
    rescheduled = booking(booking_uid="bk-9", previous_booking_uid="bk-1", action="Rescheduled")
    other = booking(booking_uid="bk-2")
    waves = split_waves([created, canceled, other, rescheduled])
    assert [[c.action_key for c in w] for w in waves] == [
        [created.action_key, other.action_key], [canceled.action_key], [rescheduled.action_key]]


def test_later_changes_look_up_but_never_create():
    plan = plan_change(booking(action="Rescheduled"), SETTINGS, snapshot(users=[HOST]), describes())
    assert plan.new_records == [] and plan.action_fields["Action__c"] == Action.RESCHEDULED.value
    writes_back = settings(on_cancel={"write_to_record": [{"field": "Meeting_Status__c", "type": "picklist", "value": "Canceled"}]})
    snap = snapshot([lead("00QA", "pat@acme.com")], users=[HOST])
    plan = plan_change(booking(action="Canceled"), writes_back, snap, describes())
    assert plan.action_fields["Who_Id__c"] == "00QA"
    assert plan.record_updates[0].fields == {"Meeting_Status__c": "Canceled"}
    plan = plan_change(booking(action="Canceled"), settings(), snap, describes())
    assert "Who_Id__c" not in plan.action_fields and plan.trace.steps("who_not_looked_up")
    assert build_fetch([booking(action="No_Show")], settings(), describes()).queries == {}


def test_owner_falls_back_to_the_configured_user():
    from slotforce.sync.snapshot import UserRecord

    fallback = UserRecord(id="005000000000009AAA", email="ops@corp.com", username="integration@corp.localorg")
    s = settings(owner_fallback_user="Integration@corp.localorg")
    plan = plan_change(booking(organizer={"email": "contractor@elsewhere.com"}), s, snapshot(users=[HOST, fallback]), describes())
    assert plan.owner == fallback and plan.action_fields["Owner_Id__c"] == fallback.id
    assert plan.new_records[0].fields["OwnerId"] == fallback.id
    assert [s.step for s in plan.trace][:3] == ["settings_applied", "organizer_user_not_found", "owner_fallback_user"]
    fetch = build_fetch([booking(organizer={"email": "contractor@elsewhere.com"})], s, describes())
    assert "Username IN ('integration@corp.localorg')" in fetch.queries["users"]
