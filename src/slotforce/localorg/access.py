"""What a user may read: object and field read access from the user's profile and assigned permission sets.

SOQL's `WITH SECURITY_ENFORCED` and `WITH USER_MODE` ask this (soql/compiler.py). The rules are the
ones a new org has, with the two profiles the local org seeds:

* the System Administrator profile reads every object and field ("View All Data"; the admin user);
* any other profile (Standard User) reads the standard objects and their standard fields; custom
  objects and custom fields only through a permission set assigned to the user
  (`PermissionSetAssignment`) that grants `allowRead` (or `viewAllRecords` / `modifyAllRecords`)
  on the object and `readable` (or `editable`) on the field;
* a required custom field has no field-level security: readable with its object.

Deploying a PermissionSet (metadata/models.py) keeps its grants in the store's meta table, under
`permission_set_access:<Name>`, as `{"objects": [...], "fields": ["Object.Field", ...]}`; deploying
a Profile keeps its `objectPermissions` / `fieldPermissions` the same way under
`profile_access:<Profile Name>` (metadata `Admin` is System Administrator, `Standard` Standard User),
added to what the profile reads by the rules above (a profile deploy adds grants, it never removes
the standard objects' read access).
"""

from __future__ import annotations

import json
import sqlite3
import urllib.parse
from dataclasses import dataclass

from slotforce.localorg import store
from slotforce.localorg.schema import Field, SObject

META_PREFIX = "permission_set_access:"
PROFILE_PREFIX = "profile_access:"
# Profile metadata names of the standard profiles -> Profile.Name
PROFILE_NAMES = {"Admin": "System Administrator", "Standard": "Standard User"}
ADMIN_PROFILE = "System Administrator"


def grants_from_xml(root, text, named) -> dict:
    """The read grants of a PermissionSet's XML (`text`/`named` are metadata/components.py's readers)."""
    def flag(el, tag: str) -> bool:
        return (text(el, tag) or "").lower() == "true"

    objects = sorted({text(op, "object") or "" for op in named(root, "objectPermissions")
                      if flag(op, "allowRead") or flag(op, "viewAllRecords") or flag(op, "modifyAllRecords")})
    fields = sorted({text(fp, "field") or "" for fp in named(root, "fieldPermissions")
                     if flag(fp, "readable") or flag(fp, "editable")})
    return {"objects": [o for o in objects if o], "fields": [f for f in fields if f]}


def save_grants(conn: sqlite3.Connection, permission_set: str, grants: dict) -> None:
    store.set_meta(conn, META_PREFIX + permission_set, json.dumps(grants, sort_keys=True))


def save_profile_grants(conn: sqlite3.Connection, profile: str, grants: dict) -> None:
    name = PROFILE_NAMES.get(profile, urllib.parse.unquote(profile))
    store.set_meta(conn, PROFILE_PREFIX + name, json.dumps(grants, sort_keys=True))


@dataclass(frozen=True)
class ReadAccess:
    """One user's read access; `everything` for the System Administrator profile."""

    everything: bool
    objects: frozenset[str] = frozenset()  # lower-case object names granted by permission sets
    fields: frozenset[str] = frozenset()  # lower-case "object.field" granted by permission sets

    def object_readable(self, sobject: SObject) -> bool:
        if self.everything or not sobject.custom:
            return True
        return sobject.name.lower() in self.objects

    def field_readable(self, sobject: SObject, f: Field) -> bool:
        if self.everything:
            return True
        if not self.object_readable(sobject):
            return False
        if not f.custom or (not f.nillable and f.type != "boolean"):
            return True
        return f"{sobject.name}.{f.name}".lower() in self.fields


EVERYTHING = ReadAccess(True)


def read_access(conn: sqlite3.Connection, user_id: str | None) -> ReadAccess:
    """The read access of `user_id` now (no user: the org's own system context, everything)."""
    if not user_id:
        return EVERYTHING
    row = conn.execute('SELECT p."Name" FROM "User" u LEFT JOIN "Profile" p ON p."Id" = u."ProfileId" '
                       'WHERE u."Id" = ?', (user_id,)).fetchone()
    if row is None or row[0] == ADMIN_PROFILE:
        return EVERYTHING
    names = [r[0] for r in conn.execute(
        'SELECT ps."Name" FROM "PermissionSetAssignment" a JOIN "PermissionSet" ps ON ps."Id" = a."PermissionSetId" '
        'WHERE a."AssigneeId" = ? AND a."IsDeleted" = 0 AND ps."IsDeleted" = 0', (user_id,))]
    objects: set[str] = set()
    fields: set[str] = set()
    keys = [PROFILE_PREFIX + (row[0] or "")] + [META_PREFIX + name for name in names]
    for key in keys:
        raw = store.get_meta(conn, key)
        grants = json.loads(raw) if raw else {}
        objects.update(o.lower() for o in grants.get("objects", ()))
        for path in grants.get("fields", ()):
            obj, _, fname = path.lower().partition(".")
            # Event and Task custom fields are deployed on Activity
            for target in (("event", "task") if obj == "activity" else (obj,)):
                fields.add(f"{target}.{fname}")
    return ReadAccess(False, frozenset(objects), frozenset(fields))
