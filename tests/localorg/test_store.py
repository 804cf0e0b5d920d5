"""Storage: ids with Salesforce's case-safe suffix, DDL by the schema.py convention, transactions."""

import sqlite3

import pytest

from slotforce.localorg import store
from slotforce.localorg.schema import Field, SObject


def _contact() -> SObject:
    s = SObject("Contact", "Contact", "Contacts", "003")
    s.add_field(Field("Id", "id"))
    s.add_field(Field("Email", "email", length=80))
    s.add_field(Field("Key__c", "string", length=255, external_id=True, unique=True))
    return s


def test_suffix_matches_the_documented_example():
    """15 -> 18 char conversion (Salesforce KB 'What is the 18 character id'): 001A0000006Vm9r -> ...IAC."""
    assert store.to_18("001A0000006Vm9r") == "001A0000006Vm9rIAC"


def test_eighteen_char_ids_are_case_insensitive():
    """An 18-char id names the same record in any case: the suffix restores the case."""
    assert store.to_18("001a0000006vm9riac") == "001A0000006Vm9rIAC"
    with pytest.raises(ValueError):
        store.to_18("001A0000006Vm9rZZZ")
    with pytest.raises(ValueError):
        store.to_18("not-an-id")


def test_allocated_ids_are_unique_prefixed_and_given_back_on_rollback():
    conn = store.connect()
    first = store.allocate_ids(conn, "003", 3)
    assert [i[:3] for i in first] == ["003"] * 3 and len(set(first)) == 3
    assert all(store.to_18(i[:15]) == i for i in first)
    with pytest.raises(RuntimeError):
        with store.transaction(conn):
            store.allocate_ids(conn, "003", 5)
            raise RuntimeError("boom")
    assert store.allocate_ids(conn, "003")[0] == store.make_id("003", 4)


def test_create_table_follows_the_storage_convention():
    conn = store.connect()
    s = _contact()
    store.create_table(conn, s)
    cols = {row[1]: row for row in conn.execute('PRAGMA table_info("Contact")')}
    assert set(cols) == {"Id", "Email", "Key__c", "IsDeleted"}
    conn.execute("INSERT INTO Contact(Id, Email, Key__c) VALUES ('003000000000001AAA', 'A@x.org', 'k1')")
    # text compares case-insensitively
    assert conn.execute("SELECT COUNT(*) FROM Contact WHERE Email = 'a@X.ORG'").fetchone()[0] == 1
    # external id + unique: a second live row with the same key is refused
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute("INSERT INTO Contact(Id, Key__c) VALUES ('003000000000002AAA', 'K1')")
    store.add_column(conn, s, Field("Phone__c", "phone"))
    assert "Phone__c" in {row[1] for row in conn.execute('PRAGMA table_info("Contact")')}


def test_schema_round_trips_through_the_schema_table():
    conn = store.connect()
    store.save_sobject(conn, _contact())
    (loaded,) = store.load_sobjects(conn)
    assert loaded.field("key__c").external_id and loaded.key_prefix == "003"


def test_case_sensitive_unique_field_allows_values_differing_only_in_case():
    """External ID "Unique, case sensitive": 'Key-A' and 'key-a' are two values; equal values still collide."""
    s = SObject("Thing__c", "Thing", "Things", "a00")
    s.add_field(Field("Id", "id"))
    s.add_field(Field("IsDeleted", "boolean"))
    s.add_field(Field("Key__c", "string", length=255, external_id=True, unique=True, case_sensitive=True))
    conn = sqlite3.connect(":memory:")
    store.create_table(conn, s)
    conn.execute('INSERT INTO "Thing__c" ("Id", "IsDeleted", "Key__c") VALUES (?, 0, ?)', ("a00000000000001AAA", "Key-A"))
    conn.execute('INSERT INTO "Thing__c" ("Id", "IsDeleted", "Key__c") VALUES (?, 0, ?)', ("a00000000000002AAA", "key-a"))
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute('INSERT INTO "Thing__c" ("Id", "IsDeleted", "Key__c") VALUES (?, 0, ?)', ("a00000000000003AAA", "Key-A"))
