"""Names slotforce.yml uses that must exist in the org: record types to exclude, the owner fallback
user, the owners a record may be taken from. `slotforce check-config` reports the ones it cannot find."""

from __future__ import annotations

from typing import Any

from slotforce.sync import Settings, soql_in_list


def missing_names(sf: Any, settings: Settings) -> list[tuple[str, str]]:
    """(key path, what is missing) for every such name the org does not have; [] when all are there."""
    record_types: dict[str, str] = {}
    fallbacks: dict[str, str] = {}
    owners: dict[str, str] = {}
    for slug, ets in settings.event_types.items():
        for i, name in enumerate(ets.exclude_record_types):
            record_types.setdefault(name.strip().lower(), f"event_types.{slug}.exclude_record_types[{i}]")
        if ets.owner_fallback_user:
            fallbacks.setdefault(ets.owner_fallback_user.strip().lower(), f"event_types.{slug}.owner_fallback_user")
        for i, name in enumerate(ets.change_record_owner.only_from_owners):
            owners.setdefault(name.strip().lower(), f"event_types.{slug}.change_record_owner.only_from_owners[{i}]")
    problems = []
    if record_types:
        found = {r["Name"].lower() for r in _rows(sf, "SELECT Name FROM RecordType WHERE SobjectType IN "
                                                      "('Lead', 'Contact', 'Account') AND Name IN "
                                                      + soql_in_list(list(record_types)))}
        problems += [(path, f"no Lead, Contact or Account record type is named {name!r}")
                     for name, path in record_types.items() if name not in found]
    if fallbacks:
        users = _rows(sf, "SELECT Username, Email, IsActive FROM User WHERE Username IN " + soql_in_list(list(fallbacks))
                      + " OR Email IN " + soql_in_list(list(fallbacks)))
        active = {v.lower() for u in users if u["IsActive"] for v in (u["Username"], u["Email"]) if v}
        known = {v.lower() for u in users for v in (u["Username"], u["Email"]) if v}
        problems += [(path, f"no active User has the username or email {name!r}" +
                      (" (the User is inactive)" if name in known else ""))
                     for name, path in fallbacks.items() if name not in active]
    if owners:
        found = {u["Name"].lower() for u in _rows(sf, "SELECT Name FROM User WHERE Name IN " + soql_in_list(list(owners)))}
        problems += [(path, f"no User is named {name!r}") for name, path in owners.items() if name not in found]
    return problems


def _rows(sf: Any, soql: str) -> list[dict]:
    return sf.query_all(soql)["records"]
