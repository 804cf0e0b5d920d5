"""The org-wide globals a flow reads: `$Api` server URLs, `$Setup` hierarchy custom settings, and the
running user's `$User`, `$Profile` and the org's `$Organization` (their fields, read once per transaction,
charging no SOQL: Salesforce serves these globals without a query).

`$Setup.Setting__c.Field__c` is the running user's value of a hierarchy custom setting: the user's
own record, else their profile's, else the org default — field by field, the lowest level with a
value winning (Apex `getInstance()`, which flows and formulas share). Custom settings live in the
application cache in Salesforce, so reading them charges no SOQL; here they are read once per
transaction and setting. `$Api.Session_ID` is not served: a flow here runs inside a save, with no
API session of its own to hand out.
"""

from __future__ import annotations

import re
from typing import Any

from .access import Query
from .data import record_in

# $Api.Partner_Server_URL_260 -> .../services/Soap/u/26.0/<org id>; Enterprise -> /Soap/c/.
# $User.X is a field of the running user; $Profile.X of their profile; $Organization.X of the org.
RECORD_GLOBALS = {"$user": "User", "$profile": "Profile", "$organization": "Organization"}
API_URL = re.compile(r"(Enterprise|Partner)_Server_URL_(\d{2,3})", re.I)


def api_path_ok(name: str) -> bool:
    return API_URL.fullmatch(name) is not None


class OrgGlobals:
    """The globals of one transaction, over its data access (`access.query`, `access.user_id`, ...)."""

    def __init__(self, access) -> None:
        self.access = access
        self._settings: dict[str, dict] = {}
        self._owners: list[str] | None = None
        self._records: dict[str, dict] = {}

    def api(self, name: str) -> str:
        m = API_URL.fullmatch(name)
        if m is None:
            raise KeyError(name)
        digits = m.group(2)
        version = f"{int(digits[:-1])}.{digits[-1]}"
        kind = "c" if m.group(1).lower() == "enterprise" else "u"
        return f"{self.access.instance_url}/services/Soap/{kind}/{version}/{self.access.org_id[:15]}"

    def record(self, head: str, field_name: str) -> Any:
        """A field of the running user ($User), their profile ($Profile) or the org ($Organization)."""
        key = head.lower()
        rec = self._records.get(key)
        if rec is None:
            obj = self.access.schema.get(RECORD_GLOBALS[key])
            record_id = {"$user": lambda: self.access.user_id, "$organization": lambda: self.access.org_id,
                         "$profile": lambda: self.record("$User", "ProfileId")}[key]()
            rows = self.access.query(Query(obj.name, [f.name for f in obj.fields.values()],
                                           ("cond", "Id", "=", record_id))) if record_id else []
            rec = self._records[key] = record_in(self.access.schema, obj.name, rows[0]) if rows else {}
        f = self.access.schema.get(RECORD_GLOBALS[key]).field(field_name)
        return rec.get(f.name) if f is not None else None

    def setup(self, setting: str, field_name: str) -> Any:
        merged = self._settings.get(setting.lower())
        if merged is None:
            merged = self._settings[setting.lower()] = self._read(setting)
        return merged.get(field_name.lower())

    def _owner_chain(self) -> list[str]:
        """[user id, profile id, org id]: the levels of the hierarchy, lowest first."""
        if self._owners is None:
            user = self.access.user_id
            rows = self.access.query(Query("User", ["Id", "ProfileId"], ("cond", "Id", "=", user)))
            profile = rows[0].get("ProfileId") if rows else None
            self._owners = [x for x in (user, profile, self.access.org_id) if x]
        return self._owners

    def _read(self, setting: str) -> dict:
        obj = self.access.schema.get(setting)
        chain = self._owner_chain()
        fields = [f.name for f in obj.fields.values() if f.type not in ("id",)]
        rows = self.access.query(Query(obj.name, fields, ("cond", "SetupOwnerId", "IN", chain)))
        by_owner = {r["SetupOwnerId"][:15]: record_in(self.access.schema, obj.name, r) for r in rows}
        # With no record at any level, a checkbox reads its default (a new setting object's value).
        merged: dict = {f.name.lower(): bool(f.default_value) for f in obj.fields.values() if f.type == "boolean"}
        for owner in reversed(chain):  # org default first, each lower level overriding what it sets
            row = by_owner.get(owner[:15])
            for k, v in (row or {}).items():
                if k != "attributes" and v is not None:
                    merged[k.lower()] = v
        return merged
