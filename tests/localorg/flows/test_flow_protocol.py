"""The runtime against the bare OrgAccess protocol (an in-memory org): bulkification and the SOQL it asks."""

from __future__ import annotations

import datetime as dt

from flowkit import flow, record_start, split_name

from slotforce.localorg.flows import FlowRegistry, FlowRuntime, Limits, Query, parse_flow, validate_flow
from slotforce.localorg.flows.access import LikePattern
from slotforce.localorg.schema import Field, Schema, SObject


def tiny_schema() -> Schema:
    contact = SObject("Contact", "Contact", "Contacts", "003")
    booking = SObject("Booking__c", "Booking", "Bookings", "a00", custom=True)
    for obj, fields in ((contact, [("Id", "id"), ("LastName", "string"), ("Email", "email"), ("Title", "string")]),
                        (booking, [("Id", "id"), ("Email__c", "email"), ("Start__c", "datetime")])):
        for name, ftype in fields:
            obj.add_field(Field(name, ftype, createable=name != "Id", updateable=name != "Id"))
    return Schema([contact, booking])


class MemoryOrg:
    """OrgAccess in memory: equality/IN filters only, which is all these flows ask."""

    def __init__(self) -> None:
        self.schema = tiny_schema()
        self.limits = Limits()
        self.rows: dict[str, list[dict]] = {"Contact": [], "Booking__c": []}
        self.soql: list[str] = []

    def _match(self, rec: dict, node) -> bool:
        kind = node[0]
        if kind == "cond":
            _, fld, op, value = node
            if op == "=":
                return rec.get(fld) == value
            if op == "IN":
                return rec.get(fld) in value
            raise AssertionError(op)
        if kind == "and":
            return all(self._match(rec, n) for n in node[1])
        return any(self._match(rec, n) for n in node[1])

    def query(self, q: Query) -> list[dict]:
        self.soql.append(q.to_soql())
        return [{f: r.get(f) for f in q.fields} for r in self.rows[q.sobject] if q.where is None or self._match(r, q.where)]

    def insert(self, sobject, records):
        ids = []
        for r in records:
            rid = f"003{len(self.rows[sobject]):012d}AAA"
            self.rows[sobject].append(dict(r, Id=rid))
            ids.append(rid)
        return ids

    def update(self, sobject, records):
        by_id = {r["Id"]: r for r in self.rows[sobject]}
        for r in records:
            by_id[r["Id"]].update(r)

    def delete(self, sobject, ids):
        self.rows[sobject] = [r for r in self.rows[sobject] if r["Id"] not in ids]


MATCH_OR_CREATE = flow("Match_Or_Create", """
    <recordLookups>
        <name>Find</name>
        <connector><targetReference>Found</targetReference></connector>
        <filters><field>Email</field><operator>EqualTo</operator><value><elementReference>$Record.Email__c</elementReference></value></filters>
        <object>Contact</object>
        <getFirstRecordOnly>true</getFirstRecordOnly>
        <storeOutputAutomatically>true</storeOutputAutomatically>
    </recordLookups>
    <decisions>
        <name>Found</name>
        <defaultConnector><targetReference>Create</targetReference></defaultConnector>
        <rules>
            <name>Yes</name>
            <conditionLogic>and</conditionLogic>
            <conditions><leftValueReference>Find</leftValueReference><operator>IsNull</operator><rightValue><booleanValue>false</booleanValue></rightValue></conditions>
            <connector><targetReference>Retitle</targetReference></connector>
            <label>Yes</label>
        </rules>
    </decisions>
    <recordCreates>
        <name>Create</name>
        <inputAssignments><field>LastName</field><value><stringValue>From {!$Record.Email__c}</stringValue></value></inputAssignments>
        <inputAssignments><field>Email</field><value><elementReference>$Record.Email__c</elementReference></value></inputAssignments>
        <object>Contact</object>
    </recordCreates>
    <recordUpdates>
        <name>Retitle</name>
        <inputAssignments><field>Title</field><value><stringValue>Booked</stringValue></value></inputAssignments>
        <inputReference>Find</inputReference>
    </recordUpdates>""", start=record_start("Booking__c", "Find"))


def test_two_hundred_interviews_share_one_query_and_one_dml_per_element():
    org = MemoryOrg()
    org.rows["Contact"] = [{"Id": f"003{i:012d}AAA", "LastName": f"C{i}", "Email": f"p{i}@x.com"} for i in range(100)]
    name, xml = split_name(MATCH_OR_CREATE)
    f = parse_flow(xml.encode(), name)
    validate_flow(f, org.schema, [f])
    registry = FlowRegistry()
    registry.deploy(f)
    runtime = FlowRuntime(registry, clock=lambda: dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc))
    bookings = [{"Id": f"a00{i:012d}AAA", "Email__c": f"p{i}@x.com"} for i in range(200)]
    runtime.after_save(org, "Booking__c", "create", bookings, None)
    # 1 SOQL for Find (200 distinct filter values asked once each), 1 DML for Create, 1 for Retitle
    assert (org.limits.soql, org.limits.dml, org.limits.dml_rows) == (1, 2, 200)
    assert len(org.soql) == 200
    assert org.soql[0] == "SELECT Id, LastName, Email, Title FROM Contact WHERE Email = 'p0@x.com' LIMIT 1"
    assert len(org.rows["Contact"]) == 200
    assert sum(1 for c in org.rows["Contact"] if c.get("Title") == "Booked") == 100


def test_query_to_soql_quotes_escapes_and_formats():
    q = Query("Event", ["Id"], ("and", [("cond", "Subject", "LIKE", LikePattern("50% o'clock_", before=False, after=True)),
                                        ("cond", "StartDateTime", ">=", dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)),
                                        ("or", [("cond", "WhoId", "IN", ["003A", "00QB"]), ("not", ("cond", "IsPrivate", "=", True))])]),
              order_by=("StartDateTime", "DESC"), limit=5)
    assert q.to_soql() == ("SELECT Id FROM Event WHERE (Subject LIKE '50\\% o\\'clock\\_%' AND StartDateTime >= "
                           "2026-01-02T03:04:05Z AND (WhoId IN ('003A', '00QB') OR (NOT IsPrivate = true))) "
                           "ORDER BY StartDateTime DESC LIMIT 5")


def test_the_adapter_builds_the_same_tree_the_soql_parser_reads_from_the_text():
    import dataclasses

    from slotforce.localorg.flows.adapter import soql_tree
    from slotforce.localorg.soql import parse

    q = Query("Event", ["Id", "Subject"], ("and", [
        ("cond", "Subject", "LIKE", LikePattern("50% o'clock_\\x", before=True, after=True)),
        ("cond", "StartDateTime", ">=", dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)),
        ("cond", "ActivityDate", "=", dt.date(2026, 1, 2)), ("cond", "DurationInMinutes", ">", 5),
        ("or", [("cond", "WhoId", "IN", ["003A", "00QB"]), ("not", ("cond", "IsPrivate", "=", True))]),
        ("cond", "WhatId", "=", None), ("cond", "Subject", "!=", "it's")]), order_by=("StartDateTime", "DESC"), limit=5)

    def plain(x):  # positions differ; like_pattern matters only for LIKE
        if dataclasses.is_dataclass(x):
            values = {f.name: plain(getattr(x, f.name)) for f in dataclasses.fields(x)
                      if f.name not in ("pos", "sobject_pos", "like_pattern")}
            if getattr(x, "like_pattern", None) is not None and "%" in str(getattr(x, "value", "")):
                values["like_pattern"] = x.like_pattern
            return (type(x).__name__, values)
        if isinstance(x, tuple):
            return tuple(plain(i) for i in x)
        return x

    assert plain(soql_tree(q)) == plain(parse(q.to_soql()))
