"""Formula fields (CustomField `<formula>`): checked at deploy, their values kept with the record.

A formula that reads only its own record's fields (and constants) has one value for each state of
the record, and the record changes only when it is saved. So the org computes formula values when a
record is written (records.py, step 3) and when a formula is deployed (for the records already
there), and every read — REST retrieve, SOQL select, filters and ORDER BY, flows — sees exactly what
Salesforce computes on read. Formulas whose value moves without a save are refused at deploy, named:
NOW(), TODAY(), fields of parent records ("Account.Name"), $-globals. The language is the flow
runtime's formula subset (flows/formula.lark); ISCHANGED, PRIORVALUE and ISNEW are refused, as in
Salesforce formula fields.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from typing import Any

from slotforce.localorg import store
from slotforce.localorg.flows import formula
from slotforce.localorg.flows import values as flow_values
from slotforce.localorg.schema import Field, SObject

RESULT_TYPES = {"string", "double", "currency", "percent", "boolean", "date", "datetime"}
_MOVING = {"NOW": "it changes without the record being saved", "TODAY": "it changes without the record being saved",
           "ISCHANGED": "Salesforce allows it only in flows and validation rules",
           "PRIORVALUE": "Salesforce allows it only in flows and validation rules",
           "ISNEW": "Salesforce allows it only in flows and validation rules"}
_NUMBER = {"double", "currency", "percent", "int"}


class FormulaFieldError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _bare(path: str) -> str:
    return path[2:-1] if path.startswith("{!") else path


def _calls(node: tuple) -> list[str]:
    out = []
    if node[0] == "call":
        out.append(node[1])
        for a in node[2]:
            out += _calls(a)
    elif node[0] == "bin":
        out += _calls(node[2]) + _calls(node[3])
    elif node[0] in ("neg", "not"):
        out += _calls(node[1])
    return out


def check(sobject: SObject, f: Field) -> tuple:
    """The parsed formula of `f` on `sobject`, or FormulaFieldError naming what the org cannot compute."""
    where = f"{sobject.name}.{f.name}"
    if f.type not in RESULT_TYPES:
        raise FormulaFieldError(f"{where}: a formula returning {f.type} is not supported by the local org")
    try:
        ast = formula.parse(f.formula or "")
    except formula.FormulaError as exc:
        raise FormulaFieldError(f"{where}: {exc.message}") from None
    for fn in _calls(ast):
        if fn in _MOVING:
            raise FormulaFieldError(f"{where}: the function {fn}() is not supported in formula fields by the local "
                                    f"org ({_MOVING[fn]})")
    for path in formula.references(ast):
        name = _bare(path)
        if name.startswith("$"):
            raise FormulaFieldError(f"{where}: {name} is not supported in formula fields by the local org")
        if "." in name:
            raise FormulaFieldError(f"{where}: {name}: fields of other records are not supported in formula fields "
                                    "by the local org (they change without this record being saved)")
        if sobject.field(name) is None:
            raise FormulaFieldError(f"{where}: Field {name} does not exist. Check spelling.")
    _check_cycle(sobject, f, [])
    return ast


def _check_cycle(sobject: SObject, f: Field, chain: list[str]) -> None:
    if f.name in chain:
        raise FormulaFieldError(f"{sobject.name}.{chain[0]}: the formula refers to itself through "
                                f"{' -> '.join(chain + [f.name])}")
    for path in formula.references(formula.parse(f.formula or "")):
        ref = sobject.field(_bare(path))
        if ref is not None and ref.formula:
            _check_cycle(sobject, ref, chain + [f.name])


class _RecordEnv(formula.Env):
    """A formula's view of one record (REST values, typed as flows type them)."""

    def __init__(self, sobject: SObject, record: dict, now: dt.datetime) -> None:
        self.sobject, self.record, self._now = sobject, record, now
        self.done: dict[str, Any] = {}

    def now(self) -> dt.datetime:
        return self._now

    def resolve(self, path: str) -> Any:
        f = self.sobject.field(_bare(path))
        if f is None:
            raise formula.FormulaError(f"no field {path}")
        value = self.value(f) if f.formula else _typed(f, self.record.get(f.name))
        if value is None and f.type in _NUMBER and self.blank_as_zero:
            return 0
        return value

    blank_as_zero = True

    def value(self, f: Field) -> Any:
        if f.name not in self.done:
            saved = self.blank_as_zero
            self.blank_as_zero = f.formula_blank_as_zero
            try:
                raw = formula.evaluate(formula.parse(f.formula or ""), self)
            except (formula.FormulaError, TypeError, ValueError, ArithmeticError, flow_values.ValueError_):
                raw = None  # Salesforce shows #Error!; the API reads null
            finally:
                self.blank_as_zero = saved
            self.done[f.name] = _to_rest(f, raw)
        return _typed(f, self.done[f.name])


def _typed(f: Field, v: Any) -> Any:
    if v is None:
        return None
    if f.type == "date":
        return flow_values.to_date(v)
    if f.type == "datetime":
        return flow_values.to_datetime(v)
    return v


def _to_rest(f: Field, v: Any) -> Any:
    if v is None:
        return None
    if f.type == "boolean":
        return bool(flow_values.to_boolean(v))
    if f.type in _NUMBER:
        n = float(v) if not isinstance(v, (int, float)) else v
        return round(n, f.scale) if f.scale else (round(n) if isinstance(n, float) else n)
    if f.type == "date":
        d = flow_values.to_date(v)
        return d.isoformat() if d else None
    if f.type == "datetime":
        t = flow_values.to_datetime(v)
        return flow_values.to_field("datetime", t) if t else None
    text = flow_values.to_text(v)
    return text if text != "" else None


def has_formulas(sobject: SObject) -> bool:
    return any(f.formula for f in sobject.fields.values())


def compute(sobject: SObject, record: dict, now: dt.datetime) -> None:
    """Set every formula field of `record` (a full REST-shaped record about to be written), in place."""
    env = _RecordEnv(sobject, record, now)
    for f in sobject.fields.values():
        if f.formula:
            env.value(f)
            record[f.name] = env.done[f.name]


def recompute_all(conn: sqlite3.Connection, sobject: SObject, now: dt.datetime) -> None:
    """Give every stored record of `sobject` its formula values (after a formula field is deployed)."""
    cur = conn.execute(f"SELECT * FROM {store.quote(sobject.table)}")
    names = [d[0] for d in cur.description]
    formulas = [f for f in sobject.fields.values() if f.formula]
    for row in cur.fetchall():
        rec = dict(zip(names, row))
        for f in sobject.fields.values():
            if f.type == "boolean" and rec.get(f.name) is not None:
                rec[f.name] = bool(rec[f.name])
        compute(sobject, rec, now)
        conn.execute(f"UPDATE {store.quote(sobject.table)} SET "
                     f"{', '.join(f'{store.quote(f.column)} = ?' for f in formulas)} WHERE Id = ?",
                     [(int(rec[f.name]) if isinstance(rec[f.name], bool) else rec[f.name]) for f in formulas]
                     + [rec["Id"]])
