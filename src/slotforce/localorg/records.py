"""Record saves of the local org: insert, update, upsert, delete with Salesforce's checks. No HTTP.

Every function takes a transaction context (`models.Transaction`) and works on lists of records,
because Salesforce saves in batches: per-record errors come back in order as `SaveResult`s,
all-or-none batches roll back entirely, and automation (record triggers) sees the batch at once.

Order of one save batch (Salesforce's order of execution, trimmed to what the local org has):
1. coerce + validate each record (types, lengths, picklists, references);
2. before-save triggers on the batch (may change the new records; changes are validated again),
   then required fields (after before-save flows, which may fill them: Salesforce's order);
3. write each record (a custom object's blank Text Name becomes its Id; unique and external id
   values checked here, in order);
4. after-save triggers on the written records (may query and save more in the same transaction);
5. if a trigger fails, the batch is rolled back and retried one record at a time, so the error
   lands on the record that caused it (Salesforce's "partial save" retry; each retry starts from
   the governor counters the batch started with). A breached governor limit is not retried: it
   fails every record of the batch with its one message.

Record values in and out of this module are API-shaped Python values: str, int, float, bool,
None; dates 'YYYY-MM-DD', datetimes 'YYYY-MM-DDTHH:MM:SS.000+0000' (UTC), ids 18 characters.
"""

from __future__ import annotations

import dataclasses
import functools
import datetime as dt
import math
import re
import sqlite3
from typing import TYPE_CHECKING, Any

from slotforce.localorg import errors, formula_fields, rules, store
from slotforce.localorg.errors import SalesforceError
from slotforce.localorg.schema import Field, SObject, compound_key
from slotforce.localorg.values import DOUBLE_TYPES, NUMBER_TYPES, TEXT_TYPES, format_datetime_seconds, parse_datetime

if TYPE_CHECKING:
    from slotforce.localorg.models import Transaction

_EMAIL_RE = re.compile(r"^[^@\s\"(),:;<>\[\]\\]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+$")
_DATE_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


@dataclasses.dataclass
class SaveResult:
    """One record's outcome, in request order (`created` only for upserts)."""

    id: str | None
    success: bool
    errors: list[SalesforceError] = dataclasses.field(default_factory=list)
    created: bool | None = None


class _Rollback(Exception):
    """Raised inside a savepoint to undo an all-or-none batch while keeping its results."""


# ---------------------------------------------------------------------------------------------
# Value conversion


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "VALUE_TRUE" if value else "VALUE_FALSE"
    if isinstance(value, int):
        return "VALUE_NUMBER_INT"
    if isinstance(value, float):
        return "VALUE_NUMBER_FLOAT"
    if isinstance(value, dict):
        return "START_OBJECT"
    if isinstance(value, list):
        return "START_ARRAY"
    return "VALUE_STRING"


def _parser_error(f: Field, value: Any, java_type: str) -> errors.JsonParserError:
    shown = value if isinstance(value, (str, int, float)) else ("{" if isinstance(value, dict) else "[")
    return errors.JsonParserError(
        f"Cannot deserialize instance of {java_type} from {_json_kind(value)} value {shown} "
        "or request may be missing a required field at [line:1, column:2]", fields=[f.name])


def _wrong_type(f: Field, value: Any) -> errors.InvalidTypeOnFieldInRecord:
    return errors.InvalidTypeOnFieldInRecord(f"{f.label or f.name}: value not of required type: {value}",
                                             fields=[f.name])


def _number(f: Field, value: Any) -> int | float | None:
    """An int/double/currency/percent value: JSON number or numeric text, within the field's precision."""
    t = f.type
    if isinstance(value, bool):
        raise _wrong_type(f, value)
    if isinstance(value, str):
        try:
            number = float(value.strip()) if value.strip() else None
        except ValueError:
            raise _parser_error(f, value, "double" if t != "int" else "int") from None
        if number is None:
            return None
    else:
        number = value
    if not math.isfinite(number):
        raise _wrong_type(f, value)
    if t == "int":
        if number != int(number):
            raise _wrong_type(f, value)
        return int(number)
    if f.scale and t in DOUBLE_TYPES:
        number = round(float(number), f.scale)
    if f.precision:
        digits_left = f.precision - f.scale
        if abs(number) >= 10 ** digits_left:
            raise errors.NumberOutsideValidRange(
                f"{f.label or f.name}: value outside of valid range on numeric field: {value}", fields=[f.name])
    return float(number)


def _text(f: Field, text: str) -> str:
    """A text-like value (string, email, url, phone, picklist...): length, email shape, restricted picklist."""
    t = f.type
    if f.length and len(text) > f.length:
        raise errors.StringTooLong(f"{f.label or f.name}: data value too large: {text} (max length={f.length})",
                                   fields=[f.name])
    if t == "email" and not _EMAIL_RE.match(text):
        raise errors.InvalidEmailAddress(f"{f.label or f.name}: invalid email address: {text}", fields=[f.name])
    if t in ("picklist", "multipicklist") and f.restricted_picklist:
        allowed = {p.value for p in f.picklist_values if p.active}
        for item in text.split(";") if t == "multipicklist" else [text]:
            if item not in allowed:
                raise errors.InvalidOrNullForRestrictedPicklist(
                    f"{f.label or f.name}: bad value for restricted picklist field: {item}", fields=[f.name])
    return text


def coerce(f: Field, value: Any) -> Any:
    """The stored-form API value of `value` for field `f`, or the error Salesforce answers."""
    if value is None:
        return None
    t = f.type
    if isinstance(value, (dict, list)):
        raise _parser_error(f, value, {"boolean": "boolean", "int": "int", "double": "double",
                                       "currency": "currency", "date": "date",
                                       "datetime": "datetime"}.get(t, "string"))
    if t == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        if isinstance(value, str):
            raise _parser_error(f, value, "boolean")
        raise _wrong_type(f, value)
    if t in NUMBER_TYPES:
        return _number(f, value)
    if isinstance(value, bool):
        if t in TEXT_TYPES:
            value = "true" if value else "false"
        else:
            raise _wrong_type(f, value)
    if isinstance(value, (int, float)):
        if t in TEXT_TYPES:
            value = str(value)
        else:
            raise _wrong_type(f, value)
    text = value
    if text == "":
        return None  # Salesforce stores an empty string as null
    if t == "date":
        m = _DATE_RE.match(text.strip())
        if m:
            try:
                return dt.date(int(m[1]), int(m[2]), int(m[3])).isoformat()
            except ValueError:
                pass
        parsed = parse_datetime(text)
        if parsed is None:
            raise _parser_error(f, value, "date")
        return parsed.date().isoformat()
    if t == "datetime":
        parsed = parse_datetime(text)
        if parsed is None:
            raise _parser_error(f, value, "datetime")
        return format_datetime_seconds(parsed)
    if t == "time":
        return text
    if t in ("id", "reference"):
        try:
            return store.to_18(text.strip())
        except ValueError:
            raise errors.MalformedId(f"{f.label or f.name}: id value of incorrect type: {text}",
                                     fields=[f.name]) from None
    return _text(f, text)


def row_to_record(sobject: SObject, row: dict) -> dict:
    """API-shaped values of a stored row (booleans back from 0/1), in describe field order; a compound
    field (BillingAddress) is the object of its components, null when they all are."""
    out = {}
    for f in sobject.fields.values():
        if not f.stored:
            out[f.name] = compound_value(sobject, f, row)
            continue
        value = row.get(f.name)
        if f.type == "boolean":
            value = bool(value) if value is not None else False
        out[f.name] = value
    return out


def compound_value(sobject: SObject, compound: Field, row: dict) -> dict | None:
    """`{"city": ..., "country": ..., ...}` (keys sorted, as Salesforce shapes an address) or None."""
    parts = sorted(((compound_key(compound, p), row.get(p.name)) for p in sobject.components(compound)))
    if all(v is None for _, v in parts):
        return None
    return dict(parts)


def record_to_row(sobject: SObject, record: dict) -> dict:
    """The stored columns of an API-shaped record (compound fields have none)."""
    compound = sobject.compound_names()
    return {k: (int(v) if isinstance(v, bool) else v) for k, v in record.items() if k not in compound}


def attributes(sobject: SObject, record_id: str, version: str) -> dict:
    return {"type": sobject.name, "url": f"/services/data/v{version}/sobjects/{sobject.name}/{record_id}"}


# ---------------------------------------------------------------------------------------------
# Reading


def fetch(ctx: Transaction, sobject: SObject, ids: list[str], *, include_deleted: bool = True) -> dict[str, dict]:
    """Stored rows by id (API-shaped), for ids that exist."""
    out: dict[str, dict] = {}
    conn = ctx.conn
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        marks = ",".join("?" * len(chunk))
        sql = f"SELECT * FROM {store.quote(sobject.table)} WHERE Id IN ({marks})"
        if not include_deleted:
            sql += " AND IsDeleted = 0"
        cur = conn.execute(sql, chunk)
        names = [d[0] for d in cur.description]
        for values in cur:
            row = dict(zip(names, values))
            out[row["Id"]] = row_to_record(sobject, row)
    return out


def get(ctx: Transaction, sobject: SObject, record_id: str) -> dict:
    """One live record by 15- or 18-character id, or NOT_FOUND / ENTITY_IS_DELETED."""
    rid = _own_id(ctx, sobject, record_id, status=404)
    row = fetch(ctx, sobject, [rid]).get(rid)
    if row is None:
        raise errors.NotFound("The requested resource does not exist")
    if row.get("IsDeleted"):
        raise errors.EntityIsDeleted("entity is deleted")
    return row


def find_by_external_id(ctx: Transaction, sobject: SObject, field_name: str, value: Any) -> list[str]:
    """Ids of live records whose external id (or Id) field equals `value` (case rules of the field)."""
    f = external_id_field(sobject, field_name)
    coerced = coerce(f, value) if f.name != "Id" else parse_id(value)
    if coerced is None:
        return []
    if isinstance(coerced, bool):
        coerced = int(coerced)
    collate = " COLLATE BINARY" if f.case_sensitive else ""
    sql = (f"SELECT Id FROM {store.quote(sobject.table)} WHERE {store.quote(f.column)}{collate} = ? "
           "AND IsDeleted = 0 ORDER BY Id")
    return [r[0] for r in ctx.conn.execute(sql, (coerced,))]


def external_id_field(sobject: SObject, field_name: str) -> Field:
    f = sobject.field(field_name)
    if f is None or not (f.external_id or f.name == "Id" or (f.id_lookup and f.type != "id")):
        raise errors.NotFound(f"Provided external ID field does not exist or is not accessible: {field_name}")
    return f


def parse_id(value: Any) -> str | None:
    """The 18-character form of a 15/18-character id, or None when `value` is not an id."""
    try:
        return store.to_18(str(value))
    except ValueError:
        return None


def _own_id(ctx: Transaction, sobject: SObject, record_id: Any, *, status: int = 400) -> str:
    """The 18-char id of a record of `sobject`, or MALFORMED_ID (ids of another object too)."""
    rid = parse_id(record_id) if isinstance(record_id, str) else None
    if rid is None or rid[:3] != sobject.key_prefix:
        if status == 404:
            raise errors.NotFound(f"Provided external ID field does not exist or is not accessible: {record_id}")
        raise errors.MalformedId(f"malformed id {record_id}")
    return rid


# ---------------------------------------------------------------------------------------------
# Preparing one record


def _check_fields(sobject: SObject, record: dict, operation: str) -> list[tuple[Field, Any]]:
    """Map body keys to fields; unknown -> INVALID_FIELD; read-only -> INVALID_FIELD_FOR_INSERT_UPDATE."""
    out: list[tuple[Field, Any]] = []
    readonly = []
    for key, value in record.items():
        if key == "attributes":
            continue
        f = sobject.field(key)
        if f is None:
            raise errors.InvalidField(f"No such column '{key}' on sobject of type {sobject.name}", fields=[key])
        if f.name == "Id":
            if operation == "insert" and value not in (None, ""):
                raise errors.InvalidFieldForInsertUpdate("Id: cannot specify Id in an insert call", fields=["Id"])
            continue  # the Id in an update body names the record; the caller resolved it
        if (operation == "insert" and not f.createable) or (operation == "update" and not f.updateable):
            readonly.append(f.name)
            continue
        out.append((f, value))
    if readonly:
        raise errors.InvalidFieldForInsertUpdate(
            f"Unable to create/update fields: {', '.join(readonly)}. Please check the security settings of "
            "this field and verify that it is read/write for your profile or permission set.", fields=readonly)
    return out


def _check_reference(ctx: Transaction, f: Field, value: str) -> None:
    target = ctx.org.schema.by_prefix(value)
    allowed = {t.lower() for t in f.reference_to}
    if target is None or target.name.lower() not in allowed:
        if f.name == "WhatId" and target is not None and target.custom:
            pass  # custom objects take activities (WhatId) in the local org
        else:
            raise errors.FieldIntegrityException(f"{f.label or f.name}: id value of incorrect type: {value}",
                                                 fields=[f.name])
    row = ctx.conn.execute(f"SELECT IsDeleted FROM {store.quote(target.table)} WHERE Id = ?", (value,)).fetchone()
    if row is None:
        raise errors.InvalidCrossReferenceKey("invalid cross reference id", fields=[f.name])
    if row[0]:
        raise errors.EntityIsDeleted("entity is deleted", fields=[f.name], status=400)


def _prepare(ctx: Transaction, sobject: SObject, record: dict, old: dict | None) -> dict:
    """The full new record (API-shaped) for an insert (old None) or an update of `old`."""
    operation = "insert" if old is None else "update"
    given = _check_fields(sobject, record, operation)
    new = dict(old) if old is not None else dict(_insert_template(ctx, sobject))
    for f, value in given:
        value = coerce(f, value)
        if f.type == "boolean" and value is None:
            value = False  # checkboxes are never null
        if f.type == "reference" and value is not None and value != (old or {}).get(f.name):
            _check_reference(ctx, f, value)
        new[f.name] = value
    if old is None:
        if "OwnerId" in new and new.get("OwnerId") is None:
            new["OwnerId"] = ctx.user_id
        if sobject.custom_setting == "Hierarchy" and new.get("SetupOwnerId") is None:
            new["SetupOwnerId"] = ctx.org.org_id  # a setting saved without a location is the org default
    rules.apply(ctx, sobject, new, old)
    return new


def _insert_template(ctx: Transaction, sobject: SObject) -> dict:
    """Every field of a new record: None, or the value it takes on create when the request leaves it out
    (its default, False for a checkbox, the default picklist value). Made once per transaction and
    object: the schema does not change inside a save, and a Bulk chunk inserts 200 records."""
    templates = ctx.__dict__.setdefault("insert_templates", {})
    template = templates.get(sobject.name)
    if template is None:
        template = {}
        for f in sobject.stored_fields():  # compound fields (BillingAddress) have no column
            value = None
            if f.default_value is not None and f.defaulted_on_create:
                value = f.default_value
            elif f.type == "boolean":
                value = bool(f.default_value)
            elif f.type == "picklist" and f.createable:
                value = next((p.value for p in f.picklist_values if p.default), None)
            template[f.name] = value
        templates[sobject.name] = template
    return template


def _check_required(sobject: SObject, new: dict, old: dict | None) -> None:
    """REQUIRED_FIELD_MISSING, checked after before-save flows (they may fill what the request left out)."""
    missing = [f.name for f in sobject.fields.values()
               if not f.nillable and f.createable and new.get(f.name) is None and f.type != "boolean"
               and (old is not None or not f.defaulted_on_create)]
    if missing:
        raise errors.RequiredFieldMissing(f"Required fields are missing: [{', '.join(missing)}]", fields=missing)


# ---------------------------------------------------------------------------------------------
# Writing


def _default_name(sobject: SObject, new: dict) -> None:
    """A custom object's Text Name left blank becomes the record's 15-character Id, as in Salesforce."""
    f = sobject.field("Name")
    if sobject.custom and f is not None and f.name_field and not f.auto_number and new.get("Name") is None:
        new["Name"] = new["Id"][:15]


def _check_unique(ctx: Transaction, sobject: SObject, new: dict) -> None:
    for f in sobject.fields.values():
        if not f.unique or f.name == "Id":
            continue
        value = new.get(f.name)
        if value is None:
            continue
        collate = " COLLATE BINARY" if f.case_sensitive else ""
        row = ctx.conn.execute(
            f"SELECT Id FROM {store.quote(sobject.table)} WHERE {store.quote(f.column)}{collate} = ? "
            "AND IsDeleted = 0 AND Id != ? LIMIT 1", (value, new.get("Id") or "")).fetchone()
        if row:
            raise errors.DuplicateValue(
                f"duplicate value found: {f.name} duplicates value on record with id: {row[0]}", fields=[])


def _stamp(ctx: Transaction, new: dict, insert: bool) -> None:
    now = ctx.now()
    if insert:
        new["CreatedDate"] = now
        new["CreatedById"] = ctx.user_id
    new["LastModifiedDate"] = now
    new["LastModifiedById"] = ctx.user_id
    new["SystemModstamp"] = now


def _write_insert(ctx: Transaction, sobject: SObject, new: dict) -> None:
    cols, values = _insert_row(new)
    ctx.conn.execute(_insert_sql(sobject.table, cols), values)


def _insert_row(new: dict) -> tuple[tuple[str, ...], list]:
    """(the columns an insert sets, their stored values): nulls are left to the column default."""
    cols = tuple(k for k, v in new.items() if v is not None)
    return cols, [int(new[c]) if isinstance(new[c], bool) else new[c] for c in cols]


@functools.lru_cache(maxsize=1024)
def _insert_sql(table: str, cols: tuple[str, ...]) -> str:
    return (f"INSERT INTO {store.quote(table)} ({', '.join(map(store.quote, cols))}) "
            f"VALUES ({', '.join('?' * len(cols))})")


def _write_update(ctx: Transaction, sobject: SObject, new: dict, old: dict) -> None:
    row = record_to_row(sobject, new)
    changed = [k for k in row if k != "Id" and row[k] != record_to_row(sobject, {k: old.get(k)})[k]]
    if not changed:
        return
    sql = (f"UPDATE {store.quote(sobject.table)} SET {', '.join(f'{store.quote(c)} = ?' for c in changed)} "
           "WHERE Id = ?")
    ctx.conn.execute(sql, [row[c] for c in changed] + [new["Id"]])


# ---------------------------------------------------------------------------------------------
# Batches


@dataclasses.dataclass
class _Item:
    """One record of a batch on its way through the save steps."""

    index: int
    body: dict
    record_id: str | None = None  # for updates / upserts that matched
    old: dict | None = None
    new: dict | None = None
    error: SalesforceError | None = None
    created: bool | None = None


def _resolve_targets(ctx: Transaction, sobject: SObject, items: list[_Item], operation: str,
                     ext_field: str | None) -> None:
    """Find the existing record of each update/upsert item (errors land on the item)."""
    if operation == "insert":
        return
    for item in items:
        try:
            if operation == "update":
                raw = item.body.get("Id") if "Id" in item.body else next(
                    (v for k, v in item.body.items() if k.lower() == "id"), None)
                if raw is None:
                    raise errors.MissingArgument("Id not specified in an update call", fields=["Id"])
                item.record_id = _own_id(ctx, sobject, raw)
            else:  # upsert
                f = external_id_field(sobject, ext_field or "Id")
                key = next((v for k, v in item.body.items() if k.lower() == f.name.lower()), None)
                if f.name == "Id":
                    if key is None:
                        item.created = True
                        continue
                    item.record_id = _own_id(ctx, sobject, key)
                else:
                    if key is None or key == "":
                        raise errors.RequiredFieldMissing(f"Required fields are missing: [{f.name}]",
                                                          fields=[f.name])
                    matches = find_by_external_id(ctx, sobject, f.name, key)
                    if len(matches) > 1:
                        raise errors.DuplicateExternalId(f"Duplicate external id specified: {key}",
                                                         fields=[f.name])
                    if not matches:
                        item.created = True
                        continue
                    item.record_id = matches[0]
                item.created = False
        except SalesforceError as exc:
            item.error = exc
    ids = [i.record_id for i in items if i.record_id and not i.error]
    existing = fetch(ctx, sobject, ids)
    for item in items:
        if item.error or not item.record_id:
            continue
        old = existing.get(item.record_id)
        if old is None:
            if operation == "upsert" and item.created is False and ext_field and ext_field.lower() != "id":
                item.created = True
                continue
            item.error = errors.InvalidCrossReferenceKey("invalid cross reference id", status=404)
        elif old.get("IsDeleted"):
            item.error = errors.EntityIsDeleted("entity is deleted")
        else:
            item.old = old


def save(ctx: Transaction, operation: str, sobject: SObject, records: list[dict], *,
         all_or_none: bool, ext_field: str | None = None) -> list[SaveResult]:
    """Insert, update or upsert `records` of `sobject` as one batch; results in request order.

    `operation` is "insert", "update" (records carry Id) or "upsert" (by `ext_field`, default Id).
    All-or-none: if any record fails, every change of the batch is undone, the failing records
    keep their error and the others report ALL_OR_NONE_OPERATION_ROLLED_BACK.
    """
    if operation == "insert" and not sobject.createable:
        raise errors.InvalidTypeForOperation(f"entity type {sobject.name} does not support insert")
    if operation in ("update", "upsert") and not sobject.updateable:
        raise errors.InvalidTypeForOperation(f"entity type {sobject.name} does not support update")
    items = [_Item(i, r) for i, r in enumerate(records)]
    before = ctx.counters()
    try:
        with store.savepoint(ctx.conn):
            _save_batch(ctx, operation, sobject, items, ext_field, all_or_none or len(items) == 1)
            failed = [i for i in items if i.error]
            if failed and (all_or_none or len(items) == 1):
                raise _Rollback
    except _Rollback:
        pass
    except _TriggerFailed as exc:
        if len(items) == 1:
            items[0].error = exc.error
        elif _is_limit(exc.error):
            # A governor limit is no record's fault: it fails the whole trigger batch with its one
            # message, and a retry could only breach it again (Salesforce rolls the batch back).
            for item in items:
                item.error = item.error or exc.error
        else:
            # Salesforce retries the batch without the failing records; one at a time finds them.
            return _one_by_one(ctx, operation, sobject, records, all_or_none, ext_field, before)
    return _results(items, all_or_none)


def _is_limit(error: SalesforceError) -> bool:
    return isinstance(error, errors.LimitExceeded) or bool(getattr(error, "limit", False))


def _one_by_one(ctx: Transaction, operation: str, sobject: SObject, records: list[dict], all_or_none: bool,
                ext_field: str | None, before: tuple[int, int, int]) -> list[SaveResult]:
    """Save each record on its own (after a trigger failed the batch) so errors land where they belong.

    Each retry is a fresh attempt: the governor counters start again from where they were before
    the failed batch (Salesforce resets limits between partial-save attempts). Where Salesforce
    would not retry at all (all-or-none, or DML inside automation), the retries only find the
    failing record, so the counters end as the failed attempt left them.
    """
    failed_attempt = ctx.counters()
    results: list[SaveResult] = []
    try:
        with store.savepoint(ctx.conn):
            for record in records:
                ctx.restore_counters(before)
                results.extend(save(ctx, operation, sobject, [record], all_or_none=True, ext_field=ext_field))
            if all_or_none and any(not r.success for r in results):
                raise _Rollback
    except _Rollback:
        results = [r if not r.success else SaveResult(None, False, [errors.AllOrNoneRolledBack()])
                   for r in results]
    if all_or_none or ctx.depth > 0:
        ctx.restore_counters(failed_attempt)
    return results


class _TriggerFailed(Exception):
    def __init__(self, error: SalesforceError) -> None:
        super().__init__(error.message)
        self.error = error


def _results(items: list[_Item], all_or_none: bool) -> list[SaveResult]:
    failed = any(i.error for i in items)
    out = []
    for item in items:
        if item.error:
            out.append(SaveResult(None, False, [item.error], None))
        elif failed and (all_or_none or len(items) == 1):
            out.append(SaveResult(None, False, [errors.AllOrNoneRolledBack()], None))
        else:
            out.append(SaveResult(item.new["Id"], True, [], item.created))
    return out


def _save_batch(ctx: Transaction, operation: str, sobject: SObject, items: list[_Item],
                ext_field: str | None, all_or_none: bool) -> None:
    _resolve_targets(ctx, sobject, items, operation, ext_field)
    # 1. coerce + validate
    for item in items:
        if item.error:
            continue
        body = item.body
        if operation == "upsert" and ext_field and item.created:
            body = {k: v for k, v in body.items() if k.lower() != "id"}
        try:
            if item.old is None:
                item.new = _prepare(ctx, sobject, body, None)
            else:
                if sobject.name == "Lead" and item.old.get("IsConverted"):
                    raise errors.CannotUpdateConvertedLead("cannot reference converted lead")
                item.new = _prepare(ctx, sobject, body, item.old)
        except SalesforceError as exc:
            item.error = exc
    live = [i for i in items if not i.error]
    # 2. before-save triggers, then system validation again: required fields (Salesforce's order of
    #    execution checks them after before-save flows, which may fill them in)
    inserts = [i for i in live if i.old is None]
    updates = [i for i in live if i.old is not None]
    for event, group in (("insert", inserts), ("update", updates)):
        if group and ctx.org.before_save_triggers:
            _fire(ctx, ctx.org.before_save_triggers, sobject, event, group, before=True)
    for item in live:
        try:
            _check_required(sobject, item.new, item.old)
        except SalesforceError as exc:
            item.error = exc
    inserts = [i for i in inserts if not i.error]
    # 3. write
    if inserts:
        new_ids = store.allocate_ids(ctx.conn, sobject.key_prefix, len(inserts))
        for item, rid in zip(inserts, new_ids):
            item.new["Id"] = rid
            _default_name(sobject, item.new)
    for item in live if not _insert_together(ctx, sobject, [i for i in live if not i.error]) else ():
        if item.error:
            continue
        try:
            with store.savepoint(ctx.conn):
                _stamp(ctx, item.new, item.old is None)
                if formula_fields.has_formulas(sobject):
                    formula_fields.compute(sobject, item.new, ctx.org.clock())
                _check_unique(ctx, sobject, item.new)
                if item.old is None:
                    _write_insert(ctx, sobject, item.new)
                else:
                    _write_update(ctx, sobject, item.new, item.old)
                rules.after_write(ctx, sobject, item.new, item.old)
        except SalesforceError as exc:
            item.error = exc
    # 4. after-save triggers (pointless when an all-or-none batch is about to roll back)
    if all_or_none and any(i.error for i in items):
        return
    written_inserts = [i for i in inserts if not i.error]
    written_updates = [i for i in updates if not i.error]
    for event, group in (("insert", written_inserts), ("update", written_updates)):
        if group and ctx.org.triggers:
            _fire(ctx, ctx.org.triggers, sobject, event, group, before=False)


def _insert_together(ctx: Transaction, sobject: SObject, items: list[_Item]) -> bool:
    """Write a batch of plain inserts with one statement per run of equal column sets (issue 11.7: Bulk
    loads of 1,000,000 rows), when nothing can fail for one record alone: no unique field to check, no
    rule that counts written rows. True when written; False (nothing written) sends the batch down the
    record-by-record path, which finds and reports each record's own error."""
    if not items or any(i.old is not None for i in items) or sobject.name in rules.COUNTED_AFTER_WRITE:
        return False
    if any(f.unique and f.name != "Id" for f in sobject.fields.values()):
        return False
    try:
        with store.savepoint(ctx.conn):
            runs: list[tuple[tuple[str, ...], list[list]]] = []
            computes_formulas = formula_fields.has_formulas(sobject)
            for item in items:
                _stamp(ctx, item.new, True)
                if computes_formulas:
                    formula_fields.compute(sobject, item.new, ctx.org.clock())
                cols, values = _insert_row(item.new)
                if runs and runs[-1][0] == cols:
                    runs[-1][1].append(values)
                else:
                    runs.append((cols, [values]))
            for cols, rows in runs:
                ctx.conn.executemany(_insert_sql(sobject.table, cols), rows)
    except (SalesforceError, sqlite3.Error):
        return False
    return True


def _fire(ctx: Transaction, triggers: list, sobject: SObject, event: str, group: list[_Item], *,
          before: bool) -> None:
    """Run record triggers on a batch; a SalesforceError from one fails the batch."""
    new_records = [dict(i.new) for i in group]
    old_records = [dict(i.old) if i.old else None for i in group]
    ctx.depth += 1
    try:
        if ctx.depth > 16:
            raise errors.LimitExceeded("Maximum trigger depth exceeded")
        for trigger in list(triggers):
            trigger(ctx, sobject, event, new_records, old_records)
    except SalesforceError as exc:
        raise _TriggerFailed(exc) from exc
    finally:
        ctx.depth -= 1
    if before:
        # before-save triggers edit the records in memory: validate what they changed
        for item, changed in zip(group, new_records):
            if changed == item.new:  # the common case, compared in C
                continue
            edits = {k: v for k, v in changed.items() if item.new.get(k) != v}
            if edits:
                f_ro = [k for k in edits if sobject.field(k) is None]
                if f_ro:
                    raise _TriggerFailed(errors.InvalidField(f"No such column '{f_ro[0]}' on sobject of type "
                                                             f"{sobject.name}"))
                try:
                    for k, v in edits.items():
                        f = sobject.field(k)
                        value = coerce(f, v)
                        if f.type == "reference" and value is not None and value != item.new.get(f.name):
                            _check_reference(ctx, f, value)
                        item.new[f.name] = value
                    # derived values (compound Name, Event times, AccountId) follow the edited fields
                    rules.apply(ctx, sobject, item.new, item.old)
                except SalesforceError as exc:
                    raise _TriggerFailed(exc) from exc


# ---------------------------------------------------------------------------------------------
# Delete


def delete(ctx: Transaction, sobject: SObject, ids: list[str], *, all_or_none: bool) -> list[SaveResult]:
    """Soft-delete records by id (children with cascade delete go too); results in request order."""
    if not sobject.deletable:
        raise errors.InvalidTypeForOperation(f"entity type {sobject.name} does not support delete")
    items = [_Item(i, {}) for i in range(len(ids))]
    for item, raw in zip(items, ids):
        try:
            item.record_id = _own_id(ctx, sobject, raw)
        except SalesforceError as exc:
            item.error = exc
    existing = fetch(ctx, sobject, [i.record_id for i in items if i.record_id])
    for item in items:
        if item.error:
            continue
        old = existing.get(item.record_id)
        if old is None:
            item.error = errors.InvalidCrossReferenceKey("invalid cross reference id", status=404)
        elif old.get("IsDeleted"):
            item.error = errors.EntityIsDeleted("entity is deleted")
        else:
            item.old = old
            item.new = old
    try:
        with store.savepoint(ctx.conn):
            live = [i for i in items if not i.error]
            if live and ctx.org.before_save_triggers:
                _fire(ctx, ctx.org.before_save_triggers, sobject, "delete", live, before=False)
            for item in live:
                _soft_delete(ctx, sobject, item.record_id)
            if live and ctx.org.triggers:
                _fire(ctx, ctx.org.triggers, sobject, "delete", live, before=False)
            if any(i.error for i in items) and (all_or_none or len(items) == 1):
                raise _Rollback
    except _Rollback:
        pass
    except _TriggerFailed as exc:
        for item in items:
            if not item.error:
                item.error = exc.error
    return _results(items, all_or_none)


def _soft_delete(ctx: Transaction, sobject: SObject, record_id: str, depth: int = 0) -> None:
    now = ctx.now()
    ctx.conn.execute(
        f"UPDATE {store.quote(sobject.table)} SET IsDeleted = 1, SystemModstamp = ?, LastModifiedDate = ?, "
        "LastModifiedById = ? WHERE Id = ?", (now, now, ctx.user_id, record_id))
    rules.after_delete(ctx, sobject, record_id)
    if depth > 5:
        return
    for rel in sobject.child_relationships:
        if not rel.cascade_delete:
            continue
        child = ctx.org.schema.get(rel.child_sobject)
        if child is None or child.field(rel.field) is None:
            continue
        rows = ctx.conn.execute(
            f"SELECT Id FROM {store.quote(child.table)} WHERE {store.quote(rel.field)} = ? AND IsDeleted = 0",
            (record_id,)).fetchall()
        for (child_id,) in rows:
            _soft_delete(ctx, child, child_id, depth + 1)
