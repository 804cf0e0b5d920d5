"""The local org's state and behaviour, without HTTP: schema, records, transactions, users, budget.

`Org` owns one SQLite connection and the Schema. Every API request runs in one `Transaction`
(`with org.transaction() as ctx:`), which is BEGIN ... COMMIT, or ROLLBACK when anything raises —
so all-or-none requests and failing automation undo everything they did.

Automation hook (used by the Flow runtime): `org.triggers` (after save) and
`org.before_save_triggers` are lists of callables

    on_save(ctx, sobject, event, new_records, old_records) -> None

called once per batch of saved records of one object inside the saving transaction. `event` is
"insert", "update" or "delete"; `new_records`/`old_records` are parallel lists of full records
(API-shaped dicts: bool/int/float/str/None, canonical field names; old is None on insert; on
delete new == old). Before-save triggers may edit `new_records` in place (the edits are
validated and stored); after-save triggers may query and save through the context
(`ctx.query`, `ctx.insert`, `ctx.update`, `ctx.upsert`, `ctx.delete`), which fires triggers
again (recursion is capped at depth 16). Raising a `SalesforceError` fails the save of that
batch (Salesforce then retries record by record to pin the error on the right record; each retry
starts from the governor counters the batch started with, and a breached limit fails the whole
batch without a retry).

The Flow runtime registers those hooks itself (flows.adapter.install) and is then `org.flows`; the
Metadata API (metadata.attach) is `org.metadata`. Both are declared here, typed without importing them.

Governor counters live on the context: `ctx.soql`, `ctx.dml`, `ctx.dml_rows` count what
automation does through the context (as `Limits.getQueries()` would: the API request's own
save is not counted); going over 100 / 150 / 10,000 raises LIMIT_EXCEEDED
("Too many SOQL queries: 101" ...), which fails the save.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import hmac
import secrets
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from slotforce.localorg import emails, errors, events, records, store
from slotforce.localorg.clock import OrgClock
from slotforce.localorg.cursors import Cursors
from slotforce.localorg.records import SaveResult
from slotforce.localorg.schema import ChildRelationship, Field, Schema, SObject
from slotforce.localorg.soql import execute_query, stream_query
from slotforce.localorg.soql.dates import org_time_zone
from slotforce.localorg.standard import field_def, setup_owner_field, standard_objects, system_fields
from slotforce.localorg.values import format_datetime_seconds

if TYPE_CHECKING:  # the parts that plug into an Org; they import models, not the other way round
    from slotforce.localorg.flows.adapter import OrgFlows
    from slotforce.localorg.metadata.models import MetadataService

SOQL_LIMIT = 100
DML_LIMIT = 150
DML_ROWS_LIMIT = 10_000
DEFAULT_DAILY_API_REQUESTS = 15_000
PASSWORD_META = "password:"  # + user id: that user's password
ADMIN_USERNAME = "admin@slotforce.localorg"
# Objects whose rows are org configuration (deployed, not entered): `reset` keeps them.
CONFIGURATION = ("RecordType", "PermissionSet", "PermissionSetAssignment")

Trigger = Callable[["Transaction", SObject, str, list, list], None]


def check_password(password: object) -> str:
    """A new password under a new org's default policy: 8 characters or more, letters and numbers
    (INVALID_NEW_PASSWORD otherwise; wording [memory])."""
    if not isinstance(password, str) or len(password) < 8:
        raise errors.InvalidNewPassword("Your password must be at least 8 characters long.")
    if not (any(c.isalpha() for c in password) and any(c.isdigit() for c in password)):
        raise errors.InvalidNewPassword("Your password must include letters and numbers.")
    return password


class Transaction:
    """One Salesforce transaction: the connection inside BEGIN, who runs it, governor counters."""

    def __init__(self, org: Org, user_id: str) -> None:
        self.org = org
        self.conn = org.conn
        self.user_id = user_id
        self.soql = 0
        self.dml = 0
        self.dml_rows = 0
        self.depth = 0
        self._now: str | None = None

    def now(self) -> str:
        """The transaction's timestamp (one value for the whole transaction, as in Salesforce)."""
        if self._now is None:
            self._now = format_datetime_seconds(self.org.clock())
        return self._now

    # --- governor limits ---------------------------------------------------------------------

    def count_soql(self) -> None:
        self.soql += 1
        if self.soql > SOQL_LIMIT:
            raise errors.LimitExceeded(f"Too many SOQL queries: {self.soql}")

    def count_dml(self, rows: int) -> None:
        self.dml += 1
        self.dml_rows += rows
        if self.dml > DML_LIMIT:
            raise errors.LimitExceeded(f"Too many DML statements: {self.dml}")
        if self.dml_rows > DML_ROWS_LIMIT:
            raise errors.LimitExceeded(f"Too many DML rows: {self.dml_rows}")

    def counters(self) -> tuple[int, int, int]:
        """(soql, dml, dml_rows) now: a retried save attempt starts again from such a snapshot."""
        return self.soql, self.dml, self.dml_rows

    def restore_counters(self, counters: tuple[int, int, int]) -> None:
        self.soql, self.dml, self.dml_rows = counters

    # --- what automation calls ----------------------------------------------------------------

    def set_password(self, user_id: str, password: object) -> None:
        """Set a live user's password (REST sobjects/User/{id}/password, setPassword())."""
        records.get(self, self.org.sobject("User"), user_id)  # NOT_FOUND for no such user
        store.set_meta(self.conn, PASSWORD_META + store.to_18(user_id), check_password(password))

    def query(self, soql: str, *, include_deleted: bool = False):
        """Run SOQL inside this transaction (counts one query): a soql.QueryResult."""
        self.count_soql()
        return self.org.execute_query(soql, include_deleted=include_deleted)

    def _raise_first(self, results: list[SaveResult]) -> list[SaveResult]:
        for r in results:
            if not r.success and r.errors and r.errors[0].error_code != "ALL_OR_NONE_OPERATION_ROLLED_BACK":
                raise r.errors[0]
        return results

    def insert(self, sobject: str, rows: list[dict]) -> list[str]:
        """Insert records (all or none, like Apex DML); their ids in order."""
        self.count_dml(len(rows))
        results = records.save(self, "insert", self.org.sobject(sobject), rows, all_or_none=True)
        return [r.id for r in self._raise_first(results)]

    def update(self, sobject: str, rows: list[dict]) -> None:
        self.count_dml(len(rows))
        self._raise_first(records.save(self, "update", self.org.sobject(sobject), rows, all_or_none=True))

    def upsert(self, sobject: str, external_id_field: str, rows: list[dict]) -> list[SaveResult]:
        self.count_dml(len(rows))
        return self._raise_first(records.save(self, "upsert", self.org.sobject(sobject), rows,
                                              all_or_none=True, ext_field=external_id_field))

    def delete(self, sobject: str, ids: list[str]) -> None:
        self.count_dml(len(ids))
        self._raise_first(records.delete(self, self.org.sobject(sobject), ids, all_or_none=True))


class Org:
    """A Salesforce org in one SQLite file (or in memory): schema, records, users, API budget."""

    # Extension points: None until the part that owns them plugs in.
    flows: OrgFlows | None  # the flow runtime's save hooks (flows.adapter.install)
    metadata: MetadataService | None  # the Metadata API and its deployed flows (metadata.attach)

    def __init__(self, path: str = ":memory:", *, clock: Callable[[], dt.datetime] | None = None) -> None:
        self.path = path
        self.conn = store.connect(path)
        self.lock = threading.RLock()
        self.clock = clock if isinstance(clock, OrgClock) else OrgClock(clock)  # POST /__localorg__/clock moves it
        self.triggers: list[Trigger] = []
        self.before_save_triggers: list[Trigger] = []
        self.schema = Schema()
        self.daily_api_max = DEFAULT_DAILY_API_REQUESTS
        self.api_used = 0
        self.api_calls_by_kind: dict[str, int] = {}
        self.last_transaction = {"soql": 0, "dml": 0, "dml_rows": 0}
        self.cursors = Cursors()  # open query results (nextRecordsUrl)
        self.flows = None
        self.metadata = None
        self.oauth = None  # OAuth (oauth.py) once served: connected apps and sessions
        loaded = store.load_sobjects(self.conn)
        if loaded:
            with store.transaction(self.conn):
                for s in loaded:
                    self.schema.add(s)
                    store.create_indexes(self.conn, s)  # those added since the org was made (email domains)
            self.api_used = int(store.get_meta(self.conn, "api_used") or 0)
            self.daily_api_max = int(store.get_meta(self.conn, "daily_api_max") or DEFAULT_DAILY_API_REQUESTS)
        else:
            self._create()
        self.org_id = store.get_meta(self.conn, "org_id")
        self.instance_url = "https://127.0.0.1"  # the server's URL once served (LocalOrg sets it): $Api URLs
        self.user_id = store.get_meta(self.conn, "user_id")
        self.username = store.get_meta(self.conn, "username")
        self.access_token = store.get_meta(self.conn, "access_token")
        if self.password is None:  # an org created before users had passwords
            self.set_password(self.user_id, secrets.token_urlsafe(12))

    # --- passwords (the OAuth password grant, partner SOAP login) -------------------------------------

    @property
    def password(self) -> str | None:
        """The admin user's password (org.json shows it, as it shows the access token)."""
        with self.lock:
            return store.get_meta(self.conn, PASSWORD_META + self.user_id)

    def set_password(self, user_id: str, password: str) -> None:
        """Give a user a password (Salesforce's setPassword); only users with one can log in with it."""
        with self.lock, store.transaction(self.conn):
            store.set_meta(self.conn, PASSWORD_META + user_id, password)

    def password_matches(self, user_id: str, password: str | None) -> bool:
        with self.lock:
            stored = store.get_meta(self.conn, PASSWORD_META + user_id)
        return stored is not None and password is not None and hmac.compare_digest(stored, password)

    # --- creation and seed data ----------------------------------------------------------------

    def _create(self) -> None:
        with store.transaction(self.conn):
            for s in standard_objects():
                self.schema.add(s)
                store.create_table(self.conn, s)
                store.save_sobject(self.conn, s)
            self._seed()
            token = f"{store.get_meta(self.conn, 'org_id')[:15]}!{secrets.token_urlsafe(32)}"
            store.set_meta(self.conn, "access_token", token)

    def _seed(self) -> None:
        """Organization, the two standard profiles, the admin (session) user and an inactive user."""
        now = format_datetime_seconds(self.clock())
        org_id = store.make_id("00D", 1)
        admin_id = store.make_id("005", 1)
        conn = self.conn
        # Seed ids are fixed (numbers 1 and 2); later records of these objects continue after the
        # highest number ever handed out, so a reset never reuses an id a client may still hold.
        for prefix, used in (("00D", 1), ("00e", 2), ("005", 2)):
            conn.execute("INSERT INTO _sequence(prefix, next) VALUES (?, ?) "
                         "ON CONFLICT(prefix) DO UPDATE SET next = MAX(next, excluded.next)", (prefix, used + 1))

        def raw_insert(table: str, values: dict) -> None:
            base = {"CreatedDate": now, "LastModifiedDate": now, "SystemModstamp": now,
                    "CreatedById": admin_id, "LastModifiedById": admin_id, "IsDeleted": 0}
            row = {**base, **values}
            conn.execute(f"INSERT INTO {store.quote(table)} ({', '.join(map(store.quote, row))}) "
                         f"VALUES ({', '.join('?' * len(row))})", list(row.values()))

        raw_insert("Organization", {"Id": org_id, "Name": "slotforce local org",
                                    "OrganizationType": "Developer Edition", "IsSandbox": 0,
                                    "InstanceName": "LOCAL", "NamespacePrefix": None,
                                    "TrialExpirationDate": None, "Country": "US", "LanguageLocaleKey": "en_US",
                                    "TimeZoneSidKey": "GMT", "DefaultLocaleSidKey": "en_US"})
        admin_profile, std_profile = store.make_id("00e", 1), store.make_id("00e", 2)
        raw_insert("Profile", {"Id": admin_profile, "Name": "System Administrator", "UserType": "Standard"})
        raw_insert("Profile", {"Id": std_profile, "Name": "Standard User", "UserType": "Standard"})
        admin, inactive = admin_id, store.make_id("005", 2)
        common = {"TimeZoneSidKey": "GMT", "LocaleSidKey": "en_US", "EmailEncodingKey": "UTF-8",
                  "LanguageLocaleKey": "en_US", "UserType": "Standard"}
        raw_insert("User", {"Id": admin, "Username": ADMIN_USERNAME, "FirstName": "Local", "LastName": "Admin",
                            "Name": "Local Admin", "Email": "admin@slotforce.example", "Alias": "ladmin",
                            "CommunityNickname": "admin", "IsActive": 1, "ProfileId": admin_profile, **common})
        raw_insert("User", {"Id": inactive, "Username": "former.employee@slotforce.localorg",
                            "FirstName": "Former", "LastName": "Employee", "Name": "Former Employee",
                            "Email": "former.employee@slotforce.example", "Alias": "former",
                            "CommunityNickname": "former", "IsActive": 0, "ProfileId": std_profile, **common})
        store.set_meta(conn, "org_id", org_id)
        store.set_meta(conn, "user_id", admin)
        store.set_meta(conn, "username", ADMIN_USERNAME)

    # --- schema -------------------------------------------------------------------------------

    def sobject(self, name: str) -> SObject:
        """The sObject named `name` (any case), or INVALID_TYPE."""
        s = self.schema.get(name) if isinstance(name, str) else None
        if s is None:
            raise errors.InvalidType(
                f"sObject type '{name}' is not supported. If you are attempting to use a custom object, be sure "
                "to append the '__c' after the entity name. Please reference your WSDL or the describe call for "
                "the appropriate names.")
        return s

    def next_custom_key_prefix(self) -> str:
        """Key prefixes of custom objects: a00, a01, ... a0z, a10, ... (as Salesforce hands them out)."""
        used = {s.key_prefix for s in self.schema}
        for first in store.BASE62[10:]:
            if not first.islower():
                continue
            for a in store.BASE62:
                for b in store.BASE62:
                    prefix = f"{first}{a}{b}"
                    if prefix not in used:
                        return prefix
        raise errors.SalesforceError("no key prefix left for a custom object")

    def add_custom_object(self, sobject: SObject) -> SObject:
        """Add (or extend) a custom object: table, key prefix, system fields. Idempotent by name.

        Fields the caller gives are kept; Id, Name (if missing), IsDeleted, the audit fields and
        OwnerId are added. Returns the object as stored in the schema.
        """
        with self.lock, store.transaction(self.conn):
            existing = self.schema.get(sobject.name)
            if existing is not None:
                for f in sobject.fields.values():
                    if existing.field(f.name) is None:
                        self._add_field(existing, f)
                for attr in ("label", "label_plural"):
                    if getattr(sobject, attr):
                        setattr(existing, attr, getattr(sobject, attr))
                store.save_sobject(self.conn, existing)
                return existing
            if not sobject.key_prefix or self.schema.by_prefix(sobject.key_prefix + "0" * 15) is not None:
                sobject.key_prefix = self.next_custom_key_prefix()
            sobject.custom = True
            given = list(sobject.fields.values())
            sobject.fields = {}
            for f in system_fields(owned=sobject.custom_setting is None and sobject.platform_event is None):
                sobject.add_field(f)
            if sobject.custom_setting == "Hierarchy":
                sobject.add_field(setup_owner_field())
            if not any(f.name == "Name" for f in given):
                sobject.add_field(field_def("Name", "string", f"{sobject.label} Name", length=80, name_field=True,
                                     defaulted_on_create=True))
            for f in given:
                sobject.add_field(_normalized(f))
            self.schema.add(sobject)
            store.create_table(self.conn, sobject)
            for f in sobject.fields.values():
                self._link_child(sobject, f)
            store.save_sobject(self.conn, sobject)
            return sobject

    def add_field(self, sobject: str | SObject, f: Field, *, child_relationship_name: str | None = None) -> None:
        """Add a field (ALTER TABLE) to an object; "Activity" means both Event and Task.

        A reference field also becomes a child relationship of each target object, named
        `child_relationship_name` (give the `__r` form for custom lookups).
        """
        name = sobject if isinstance(sobject, str) else sobject.name
        targets = ["Event", "Task"] if name.lower() == "activity" else [name]
        with self.lock, store.transaction(self.conn):
            for target in targets:
                s = self.sobject(target)
                self._add_field(s, f, child_relationship_name)
                store.save_sobject(self.conn, s)
                for parent in f.reference_to:
                    p = self.schema.get(parent)
                    if p is not None:
                        store.save_sobject(self.conn, p)

    def _add_field(self, s: SObject, f: Field, child_relationship_name: str | None = None) -> None:
        f = _normalized(f)
        existing = s.field(f.name)
        s.add_field(f)
        if existing is None:
            store.add_column(self.conn, s, f)
            if f.type == "boolean":
                self.conn.execute(f"UPDATE {store.quote(s.table)} SET {store.quote(f.column)} = ?",
                                  (1 if f.default_value else 0,))
        elif f.external_id or f.unique:
            store.add_column(self.conn, s, f)  # (re)creates the index
        self._link_child(s, f, child_relationship_name)

    def _link_child(self, child: SObject, f: Field, name: str | None = None) -> None:
        if f.type != "reference":
            return
        for target in f.reference_to:
            parent = self.schema.get(target)
            if parent is None:
                continue
            parent.child_relationships = [c for c in parent.child_relationships
                                          if not (c.child_sobject == child.name and c.field == f.name)]
            parent.child_relationships.append(
                ChildRelationship(child.name, f.name, name, cascade_delete=f.cascade_delete))

    # --- transactions ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def transaction(self, user_id: str | None = None) -> Iterator[Transaction]:
        """One Salesforce transaction: committed when the block ends, rolled back when it raises."""
        with self.lock:
            ctx = Transaction(self, user_id or self.user_id)
            try:
                with store.transaction(self.conn):
                    yield ctx
            finally:
                self.last_transaction = {"soql": ctx.soql, "dml": ctx.dml, "dml_rows": ctx.dml_rows}

    def execute_query(self, soql: str, *, include_deleted: bool = False, api_version: str = "62.0",
                      user_id: str | None = None):
        """SOQL through the soql package (another part of the local org), as `user_id` (default: the admin)."""
        # Date literals (TODAY, LAST_N_DAYS:n) follow the org's clock, which tests may set.
        today = self.clock().astimezone(org_time_zone()).date()
        return execute_query(self.conn, self.schema, soql, include_deleted=include_deleted,
                             api_version=api_version, today=today, user_id=user_id or self.user_id)

    # --- API budget and call statistics -----------------------------------------------------------

    def stream_query(self, soql: str, *, include_deleted: bool = False, api_version: str = "62.0",
                     user_id: str | None = None):
        """execute_query's records one by one, never all in memory (hold `lock` while iterating)."""
        today = self.clock().astimezone(org_time_zone()).date()
        return stream_query(self.conn, self.schema, soql, include_deleted=include_deleted, api_version=api_version,
                            today=today, user_id=user_id or self.user_id)

    def charge_api_call(self, kind: str) -> None:
        """Count one billed API request, or REQUEST_LIMIT_EXCEEDED (403) when the day's budget is spent."""
        with self.lock:
            if self.api_used >= self.daily_api_max:
                raise errors.RequestLimitExceeded("TotalRequests Limit exceeded.")
            self.api_used += 1
            self.api_calls_by_kind[kind] = self.api_calls_by_kind.get(kind, 0) + 1
            if self.api_used % 50 == 0:
                store.set_meta(self.conn, "api_used", str(self.api_used))

    def set_api_budget(self, daily_max: int | None = None, used: int | None = None) -> None:
        with self.lock:
            if daily_max is not None:
                self.daily_api_max = int(daily_max)
                store.set_meta(self.conn, "daily_api_max", str(self.daily_api_max))
            if used is not None:
                self.api_used = int(used)
                store.set_meta(self.conn, "api_used", str(self.api_used))

    def stats(self) -> dict:
        with self.lock:
            return {"api_calls": {"total": sum(self.api_calls_by_kind.values()),
                                  "by_kind": dict(sorted(self.api_calls_by_kind.items()))},
                    "api_usage": {"used": self.api_used, "max": self.daily_api_max},
                    "last_transaction": dict(self.last_transaction)}

    def reset_stats(self) -> None:
        with self.lock:
            self.api_calls_by_kind = {}
            self.last_transaction = {"soql": 0, "dml": 0, "dml_rows": 0}

    # --- control ----------------------------------------------------------------------------------

    def reset(self) -> None:
        """Delete the data, keep the configuration; zero counters; forget open query cursors.

        Data: every record except the seed (organization, profiles, the two users), which is
        restored. Configuration, kept: the schema, record types and permission sets (they come
        from Metadata deploys) and permission set assignments of the seed users.
        """
        self.cursors.clear()  # their records are gone
        with self.lock, store.transaction(self.conn):
            for s in self.schema:
                if s.name not in CONFIGURATION:
                    self.conn.execute(f"DELETE FROM {store.quote(s.table)}")
            self._seed()
            self.conn.execute('DELETE FROM "PermissionSetAssignment" WHERE AssigneeId NOT IN (SELECT Id FROM "User")')
            emails.clear(self.conn)
            events.clear(self.conn)
        self.set_api_budget(used=0)
        self.reset_stats()

    def convert_lead(self, lead_id: str, *, account_id: str | None = None, contact_id: str | None = None,
                     converted_status: str | None = None) -> dict:
        """Mark a Lead converted, as convertLead() would; creates the Account/Contact when not given.

        Salesforce has no REST call for this (it is SOAP convertLead / Apex Database.convertLead),
        so the local org offers it only here and at POST /__localorg__/leads/{id}/convert.
        """
        with self.transaction() as ctx:
            lead_s = self.sobject("Lead")
            lead = records.get(ctx, lead_s, lead_id)
            if lead["IsConverted"]:
                raise errors.InvalidStatus("This lead was already converted")
            if account_id is None:
                account_id = ctx.insert("Account", [{"Name": lead["Company"] or lead["Name"],
                                                     "OwnerId": lead["OwnerId"]}])[0]
            if contact_id is None:
                contact_id = ctx.insert("Contact", [{
                    "FirstName": lead["FirstName"], "LastName": lead["LastName"], "Email": lead["Email"],
                    "Phone": lead.get("Phone"), "AccountId": account_id, "OwnerId": lead["OwnerId"]}])[0]
            today = self.clock().date().isoformat()
            self.conn.execute(
                'UPDATE "Lead" SET IsConverted = 1, ConvertedDate = ?, ConvertedAccountId = ?, '
                'ConvertedContactId = ?, Status = COALESCE(?, Status), LastModifiedDate = ?, SystemModstamp = ? '
                'WHERE Id = ?', (today, account_id, contact_id, converted_status, ctx.now(), ctx.now(), lead["Id"]))
            return {"leadId": lead["Id"], "accountId": account_id, "contactId": contact_id,
                    "opportunityId": None, "success": True}

    def close(self) -> None:
        with self.lock:
            store.set_meta(self.conn, "api_used", str(self.api_used))
            self.conn.close()


def _normalized(f: Field) -> Field:
    """A copy of a deployed field with what Salesforce derives: custom flag, `__r` name, checkbox default."""
    f = copy.deepcopy(f)
    if f.name.endswith("__c"):
        f.custom = True
    if f.type == "reference" and not f.relationship_name and f.name.endswith("__c"):
        f.relationship_name = f.name[:-3] + "__r"
    if f.type == "boolean":
        if f.default_value is None:
            f.default_value = False
        f.defaulted_on_create = True
        f.nillable = False
    return f


def record_with_attributes(sobject: SObject, record: dict, version: str,
                           fields: list[str] | None = None) -> dict[str, Any]:
    """A record as the REST API returns it: `attributes` first, then fields in describe order."""
    out: dict[str, Any] = {"attributes": records.attributes(sobject, record["Id"], version)}
    if fields:
        for name in fields:
            f = sobject.field(name)
            if f is None:
                raise errors.InvalidField(f"No such column '{name}' on entity '{sobject.name}'. If you are "
                                          "attempting to use a custom field, be sure to append the '__c' after "
                                          "the custom field name. Please reference your WSDL or the describe "
                                          "call for the appropriate names.")
            out[f.name] = record.get(f.name)
    else:
        out.update(record)
    return out


__all__ = ["Org", "Transaction", "record_with_attributes"]
