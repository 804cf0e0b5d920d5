"""Fixtures for the SOQL tests: the standard objects in an in-memory store, and a small data set.

Rows are inserted straight into the tables (per schema.py's storage convention) so these tests
need nothing of the REST layer; values are given in their stored form.
"""

from __future__ import annotations

import datetime as dt

import pytest

from slotforce.localorg import store
from slotforce.localorg.schema import Schema
from slotforce.localorg.soql import execute_query
from slotforce.localorg.standard import standard_objects

TODAY = dt.date(2024, 5, 15)  # a Wednesday


class Org:
    """A connection, its schema, and helpers to add rows and run SOQL."""

    def __init__(self) -> None:
        self.schema = Schema(standard_objects())
        self.conn = store.connect()
        for sobject in self.schema:
            store.create_table(self.conn, sobject)

    def insert(self, sobject_name: str, **values) -> str:
        sobject = self.schema.get(sobject_name)
        record_id = store.allocate_ids(self.conn, sobject.key_prefix)[0]
        values = {"Id": record_id, "IsDeleted": 0, **values}
        columns = ", ".join(f'"{sobject.field(k).column if sobject.field(k) else k}"' for k in values)
        marks = ", ".join("?" for _ in values)
        self.conn.execute(f'INSERT INTO "{sobject.table}" ({columns}) VALUES ({marks})', list(values.values()))
        return record_id

    def query(self, soql: str, **kw):
        kw.setdefault("today", TODAY)
        return execute_query(self.conn, self.schema, soql, **kw)

    def records(self, soql: str, **kw) -> list[dict]:
        return self.query(soql, **kw).records


@pytest.fixture
def org() -> Org:
    return Org()


@pytest.fixture
def crm(org: Org) -> Org:
    return load_crm(org)


def load_crm(org: Org) -> Org:
    """Two users, three accounts (one a child of another), contacts, a lead, and events."""
    ids = {}
    ids["ann"] = org.insert("User", Username="ann@example.com", Email="ann@example.com",
                            FirstName="Ann", LastName="Admin", Name="Ann Admin", IsActive=1, Alias="ann")
    ids["bob"] = org.insert("User", Username="bob@example.com", Email="Bob@Example.com",
                            FirstName="Bob", LastName="Builder", Name="Bob Builder", IsActive=0, Alias="bob")
    ids["acme"] = org.insert("Account", Name="Acme", OwnerId=ids["ann"], NumberOfEmployees=50,
                             AnnualRevenue=1000.5, Industry="Energy", Website="acme.com")
    ids["globex"] = org.insert("Account", Name="Globex", OwnerId=ids["bob"], NumberOfEmployees=10,
                               Industry="Energy", ParentId=ids["acme"])
    ids["initech"] = org.insert("Account", Name="Initech", OwnerId=ids["ann"], Industry="Software")
    ids["jane"] = org.insert("Contact", FirstName="Jane", LastName="Doe", Name="Jane Doe",
                             Email="jane@acme.com", AccountId=ids["acme"], OwnerId=ids["bob"],
                             Birthdate="1990-05-16")
    ids["john"] = org.insert("Contact", FirstName="John", LastName="Smith", Name="John Smith",
                             Email="JOHN@acme.com", AccountId=ids["acme"], OwnerId=ids["ann"])
    ids["zed"] = org.insert("Contact", LastName="Zed", Name="Zed", Email=None, AccountId=ids["globex"])
    ids["orphan"] = org.insert("Contact", LastName="Orphan", Name="Orphan", Email="o%_@x.com")
    ids["gone"] = org.insert("Contact", LastName="Gone", Name="Gone", Email="gone@acme.com",
                             AccountId=ids["acme"], IsDeleted=1)
    ids["lead"] = org.insert("Lead", FirstName="Lee", LastName="Lead", Name="Lee Lead", Company="LeadCo",
                             Email="lee@leadco.com", Status="Open - Not Contacted")
    ids["ev1"] = org.insert("Event", Subject="Intro", WhoId=ids["jane"], WhatId=ids["acme"],
                            OwnerId=ids["ann"], StartDateTime="2024-05-15T10:00:00.000+0000",
                            EndDateTime="2024-05-15T10:30:00.000+0000", ActivityDate="2024-05-15",
                            DurationInMinutes=30)
    ids["ev2"] = org.insert("Event", Subject="Demo", WhoId=ids["lead"], OwnerId=ids["bob"],
                            StartDateTime="2024-05-20T23:30:00.000+0000",
                            EndDateTime="2024-05-21T00:30:00.000+0000", ActivityDate="2024-05-20",
                            DurationInMinutes=60)
    ids["ev3"] = org.insert("Event", Subject="Follow-up", WhoId=ids["jane"], OwnerId=ids["ann"],
                            StartDateTime="2024-04-01T09:00:00.000+0000",
                            EndDateTime="2024-04-01T09:30:00.000+0000", ActivityDate="2024-04-01",
                            DurationInMinutes=30)
    org.ids = ids
    return org
