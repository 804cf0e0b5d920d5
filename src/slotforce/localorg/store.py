"""SQLite storage of the local org: tables from the Schema, record ids, transactions.

Tables follow the storage convention in `schema.py` (one table per sObject, one column per
field, text compared case-insensitively, soft delete through `IsDeleted`). `create_table` and
`add_column` are the only places that turn a Schema into DDL; the SOQL compiler reads what they
make. Besides the sObject tables the file holds `_schema` (each SObject as JSON, so custom
objects and fields deployed at run time survive a restart) and `_sequence` (the next record
number per key prefix, inside the same transaction as the insert so a rollback gives the number
back).

Ids are Salesforce's: 3-character key prefix + 12 characters = the case-sensitive 15-character
id, plus a 3-character suffix that encodes the case of the first 15 (`to_18`).
"""

from __future__ import annotations

import contextlib
import functools
import dataclasses
import json
import re
import sqlite3
from collections.abc import Iterator

from slotforce.localorg.errors import InvalidField, StorageLimitExceeded
from slotforce.localorg.schema import ChildRelationship, Field, PicklistValue, SObject

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SUFFIX_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_ID_RE = re.compile(r"^[0-9A-Za-z]{15}(?:[0-9A-Za-z]{3})?$")

# Columns indexed whenever they exist: what CumulusCI, the engine and the Flows filter on.
_INDEXED_NAMES = {"email", "name", "username", "booking_uid__c", "lastname"}


# ---------------------------------------------------------------------------------------------
# Ids


_UPPER_BITS = {c: ord("1") if "A" <= chr(c) <= "Z" else ord("0") for c in range(128)}


def id_suffix(id15: str) -> str:
    """The 3-character case-safe suffix of a 15-character id (one character per 5-char block: bit i set
    when the block's character i is upper case). Bulk loads make an id per record: done in C, not a loop."""
    bits = id15.translate(_UPPER_BITS)
    return (_SUFFIX_ALPHABET[int(bits[4::-1], 2)] + _SUFFIX_ALPHABET[int(bits[9:4:-1], 2)]
            + _SUFFIX_ALPHABET[int(bits[14:9:-1], 2)])


def to_18(record_id: str) -> str:
    """The 18-character form of a 15- or 18-character id; 18-character ids get their case fixed.

    Salesforce treats an 18-character id case-insensitively: the suffix says which of the first
    15 characters are upper case. So `001abc...AAA` and `001ABC...AAA` name different records
    only when their suffixes differ, and we restore the canonical case from the suffix.
    Raises ValueError when `record_id` is not shaped like an id.
    """
    if not isinstance(record_id, str) or not _ID_RE.match(record_id):
        raise ValueError(f"not a Salesforce id: {record_id!r}")
    if len(record_id) == 15:
        return record_id + id_suffix(record_id)
    head, suffix = record_id[:15], record_id[15:].upper()
    chars = list(head)
    for block, s in enumerate(suffix):
        if s not in _SUFFIX_ALPHABET:
            raise ValueError(f"not a Salesforce id: {record_id!r}")
        bits = _SUFFIX_ALPHABET.index(s)
        for i in range(5):
            pos = block * 5 + i
            ch = chars[pos]
            if ch.isalpha():
                chars[pos] = ch.upper() if bits & (1 << i) else ch.lower()
    fixed = "".join(chars)
    if id_suffix(fixed) != suffix:  # digits where the suffix says letters: not a real id
        raise ValueError(f"not a Salesforce id: {record_id!r}")
    return fixed + suffix


def make_id(key_prefix: str, number: int) -> str:
    """The 18-character id of record `number` of an object with `key_prefix`.

    Layout: prefix + '0' * 3 (where Salesforce puts the pod) + 9 base-62 digits. Number 0 is
    never issued, so `012000000000000AAA` (the Master record type) cannot collide.
    """
    digits = []
    n = number
    while n:
        n, r = divmod(n, 62)
        digits.append(BASE62[r])
    body = "".join(reversed(digits)).rjust(9, "0")
    if len(body) > 9:
        raise StorageLimitExceeded(f"ran out of ids for key prefix {key_prefix}")
    return to_18(f"{key_prefix}000{body}")


def allocate_ids(conn: sqlite3.Connection, key_prefix: str, count: int = 1) -> list[str]:
    """`count` new ids for `key_prefix`, taken inside the caller's transaction."""
    row = conn.execute(
        "INSERT INTO _sequence(prefix, next) VALUES (?, ?) "
        "ON CONFLICT(prefix) DO UPDATE SET next = next + ? RETURNING next",
        (key_prefix, 1 + count, count),
    ).fetchone()
    last = row[0] - 1
    return [make_id(key_prefix, n) for n in range(last - count + 1, last + 1)]


# ---------------------------------------------------------------------------------------------
# Connection and DDL


def connect(path: str = ":memory:") -> sqlite3.Connection:
    """An autocommit connection (we issue BEGIN/SAVEPOINT ourselves) with the bookkeeping tables."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    if path != ":memory:":
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=OFF")
    conn.execute("CREATE TABLE IF NOT EXISTS _schema (name TEXT PRIMARY KEY COLLATE NOCASE, definition TEXT NOT NULL)")
    conn.execute("CREATE TABLE IF NOT EXISTS _sequence (prefix TEXT PRIMARY KEY, next INTEGER NOT NULL)")
    conn.execute("CREATE TABLE IF NOT EXISTS _meta (key TEXT PRIMARY KEY, value TEXT)")
    return conn


@functools.lru_cache(maxsize=4096)  # called for every column of every write: a regex each time showed in profiles
def quote(name: str) -> str:
    """A SQL identifier for an sObject or field API name (letters, digits, underscores only)."""
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name):
        raise InvalidField(f"invalid API name: {name!r}")
    return f'"{name}"'


def column_ddl(f: Field) -> str:
    ddl = f"{quote(f.column)} {f.storage}"
    if f.storage == "TEXT":
        ddl += " COLLATE NOCASE"
    if f.name == "Id":
        ddl += " PRIMARY KEY"
    return ddl


def _wants_index(f: Field) -> bool:
    # references too: the SOQL compiler joins on them (Account.Name, child subqueries).
    return (f.external_id or f.unique or (f.type == "reference" and f.name != "Id")
            or f.name.lower() in _INDEXED_NAMES)


def _index_ddl(sobject: SObject, f: Field) -> str:
    unique = "UNIQUE " if f.unique and f.storage == "TEXT" else ""
    name = quote(f"ix_{sobject.table}_{f.column}")
    # A unique index ignores NULLs, which is what Salesforce does for empty unique fields; it is
    # also partial on IsDeleted = 0 so a deleted record in the recycle bin keeps its value
    # without blocking a new one (Salesforce frees unique values on delete).
    where = " WHERE IsDeleted = 0" if unique else ""
    # A case-sensitive unique field ("Key-A" and "key-a" both allowed) needs an exact index;
    # the column's own NOCASE collation would make the two collide.
    collate = " COLLATE BINARY" if f.case_sensitive and f.storage == "TEXT" else ""
    return (f"CREATE {unique}INDEX IF NOT EXISTS {name} ON {quote(sobject.table)} "
            f"({quote(f.column)}{collate}){where}")


def email_domain_sql(column_sql: str) -> str:
    """An email's domain part from its '@' ('@example.com'): the expression the domain index holds,
    so `Email LIKE '%@example.com'` is an index search (the SOQL compiler writes the same text)."""
    return f"substr({column_sql}, instr({column_sql}, '@'))"


def _domain_index_ddl(sobject: SObject, f: Field) -> str:
    name = quote(f"ix_{sobject.table}_{f.column}_domain")
    return (f"CREATE INDEX IF NOT EXISTS {name} ON {quote(sobject.table)} "
            f"({email_domain_sql(quote(f.column))} COLLATE NOCASE)")


def create_indexes(conn: sqlite3.Connection, sobject: SObject, fields: list[Field] | None = None) -> None:
    """The indexes of `sobject`'s fields (or of `fields`), if missing: lookups, unique and external
    ids, and the domain index of every email field."""
    for f in sobject.stored_fields() if fields is None else fields:
        if _wants_index(f):
            conn.execute(_index_ddl(sobject, f))
        if f.type == "email":
            conn.execute(_domain_index_ddl(sobject, f))


def create_table(conn: sqlite3.Connection, sobject: SObject) -> None:
    """Create the table of `sobject` (if missing) following the storage convention in schema.py.

    Adds any column the table lacks, so calling it again after fields were added is safe.
    Does not record the object in `_schema`; `save_sobject` does.
    """
    fields = sobject.stored_fields()
    if not any(f.name == "Id" for f in fields):
        raise ValueError(f"{sobject.name} has no Id field")
    columns = [column_ddl(f) for f in fields]
    if "isdeleted" not in sobject.fields:
        columns.append('"IsDeleted" INTEGER NOT NULL DEFAULT 0')
    conn.execute(f"CREATE TABLE IF NOT EXISTS {quote(sobject.table)} ({', '.join(columns)})")
    existing = {row[1].lower() for row in conn.execute(f"PRAGMA table_info({quote(sobject.table)})")}
    for f in fields:
        if f.column.lower() not in existing:
            conn.execute(f"ALTER TABLE {quote(sobject.table)} ADD COLUMN {column_ddl(f)}")
    create_indexes(conn, sobject, fields)


def add_column(conn: sqlite3.Connection, sobject: SObject, f: Field) -> None:
    """Add the column of field `f` to the table of `sobject` (ALTER TABLE), plus its index."""
    if not f.stored:
        return
    existing = {row[1].lower() for row in conn.execute(f"PRAGMA table_info({quote(sobject.table)})")}
    if f.column.lower() not in existing:
        conn.execute(f"ALTER TABLE {quote(sobject.table)} ADD COLUMN {column_ddl(f)}")
    create_indexes(conn, sobject, [f])


# ---------------------------------------------------------------------------------------------
# Schema persistence


def sobject_to_json(sobject: SObject) -> str:
    return json.dumps(dataclasses.asdict(sobject), separators=(",", ":"))


def sobject_from_json(text: str) -> SObject:
    data = json.loads(text)
    fields = data.pop("fields")
    children = data.pop("child_relationships")
    sobject = SObject(**data)
    for f in fields.values():
        f["picklist_values"] = [PicklistValue(**p) for p in f["picklist_values"]]
        sobject.add_field(Field(**f))
    sobject.child_relationships = [ChildRelationship(**c) for c in children]
    return sobject


def save_sobject(conn: sqlite3.Connection, sobject: SObject) -> None:
    conn.execute(
        "INSERT INTO _schema(name, definition) VALUES (?, ?) "
        "ON CONFLICT(name) DO UPDATE SET definition = excluded.definition",
        (sobject.name, sobject_to_json(sobject)),
    )


def load_sobjects(conn: sqlite3.Connection) -> list[SObject]:
    return [sobject_from_json(row[0]) for row in conn.execute("SELECT definition FROM _schema ORDER BY rowid")]


def get_meta(conn: sqlite3.Connection, key: str) -> str | None:
    row = conn.execute("SELECT value FROM _meta WHERE key = ?", (key,)).fetchone()
    return row[0] if row else None


def set_meta(conn: sqlite3.Connection, key: str, value: str) -> None:
    conn.execute("INSERT INTO _meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                 (key, value))


# ---------------------------------------------------------------------------------------------
# Transactions


@contextlib.contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """BEGIN ... COMMIT, or ROLLBACK when the block raises. Nested use becomes a savepoint."""
    if conn.in_transaction:
        with savepoint(conn):
            yield conn
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    else:
        conn.execute("COMMIT")


_savepoint_counter = 0


@contextlib.contextmanager
def savepoint(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """SAVEPOINT ... RELEASE, or ROLLBACK TO when the block raises: undo just this part."""
    global _savepoint_counter
    _savepoint_counter += 1
    name = f"sp{_savepoint_counter}"
    conn.execute(f"SAVEPOINT {name}")
    try:
        yield conn
    except BaseException:
        conn.execute(f"ROLLBACK TO {name}")
        conn.execute(f"RELEASE {name}")
        raise
    else:
        conn.execute(f"RELEASE {name}")
