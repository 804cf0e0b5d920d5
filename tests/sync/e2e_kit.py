"""Shared helpers for the behaviour-by-behaviour end-to-end tests (tests/sync/test_e2e_behaviours*.py).

The engine helpers (`engine`, `warm`, `calls`, `q`) come from test_e2e_engine so there is one
way to build a warm engine; what is added here is org data those stories need: other Users
(account owners, hosts), record types, Accounts with children, and a hand-made Event where the
org has no Flows.
"""

from __future__ import annotations

import time
from typing import Any

from .test_e2e_engine import ADMIN, calls, engine, q, warm

__all__ = ["ADMIN", "calls", "engine", "q", "warm", "user", "record_type", "account", "event_for", "wait_a_second",
           "by_email"]


def user(sf, name: str, *, active: bool = True) -> str:
    """A Standard User `{name}@slotforce.example` named "{Name} User" (Users are deleted by the org reset)."""
    profile = q(sf, "SELECT Id FROM Profile WHERE Name = 'Standard User'")[0]["Id"]
    return sf.User.create({
        "FirstName": name.capitalize(), "LastName": "User", "Email": f"{name}@slotforce.example",
        "Username": f"{name}@slotforce.localorg", "Alias": name[:8], "TimeZoneSidKey": "America/Los_Angeles",
        "LocaleSidKey": "en_US", "EmailEncodingKey": "UTF-8", "LanguageLocaleKey": "en_US", "ProfileId": profile,
        "IsActive": active})["id"]


def record_type(sf, sobject: str, name: str) -> str:
    """The RecordType `name` of `sobject`, created over REST if missing (record types outlive the org reset)."""
    found = q(sf, f"SELECT Id FROM RecordType WHERE SobjectType = '{sobject}' AND Name = '{name}'")
    if found:
        return found[0]["Id"]
    developer = "".join(ch if ch.isalnum() else "_" for ch in name)
    return sf.RecordType.create({"Name": name, "DeveloperName": developer, "SobjectType": sobject})["id"]


def account(sf, name: str, website: str | None = None, **fields: Any) -> str:
    body = {"Name": name, **({"Website": website} if website else {}), **fields}
    return sf.Account.create(body)["id"]


def event_for(sf, uid: str = "bk-1", who: str | None = None, **fields: Any) -> str:
    """The Event the Booking_Action_Created Flow would have made (for the org without Flows)."""
    body = {"Subject": "Intro", "StartDateTime": "2024-05-01T10:00:00Z", "EndDateTime": "2024-05-01T10:30:00Z",
            "Booking_Uid__c": uid, **({"WhoId": who} if who else {}), **fields}
    return sf.Event.create(body)["id"]


def wait_a_second() -> None:
    """CreatedDate has one-second precision: records that must differ in it are a second apart."""
    time.sleep(1.05)


def by_email(sf, sobject: str, fields: str) -> dict[str, dict]:
    return {r["Email"]: r for r in q(sf, f"SELECT Email, {fields} FROM {sobject}")}
