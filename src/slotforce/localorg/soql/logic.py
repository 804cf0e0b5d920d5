"""WHERE / HAVING logic -> SQL of bounded depth: NOT pushed to the predicates, long chains balanced.

SQLite refuses deep SQL ("parser stack overflow" past ~100 nested parentheses, "Expression tree
is too large" past depth 1,000, which a flat `a OR b OR ...` of 1,000 terms reaches). SOQL's logic
is two-valued (a comparison with a null is false, NOT of it true), so De Morgan holds and NOT can
be moved down to the predicates, where it is `NOT COALESCE(p, 0)`; chains of one operator become
balanced groups of at most CHAIN terms; `f = a OR f = b ...` becomes `f IN (a, b, ...)`.
"""

from __future__ import annotations

from typing import Callable

from slotforce.localorg.soql import nodes as n

CHAIN = 16  # terms per SQL group: longer chains nest as a tree of depth log16(n)
MAX_SQL_DEPTH = 24  # nested parentheses in the SQL (SQLite's parser stack overflows near 30)
MAX_NESTING = 200  # AND/OR/NOT levels in the SOQL, bounding Python's recursion here

Leaf = Callable[[object, bool], str]  # (predicate, inside an OR) -> SQL
_Part = tuple[str, int]  # SQL and its depth in parentheses


class TooDeep(Exception):
    """The condition would nest too deeply; the caller refuses it, pointing at `pos`."""

    def __init__(self, pos: n.Pos) -> None:
        super().__init__(pos)
        self.pos = pos


def compile_condition(cond, leaf: Leaf, mergeable: Callable[[n.FieldRef], bool]) -> str:
    """SQL for `cond`: `leaf` compiles predicates, `mergeable(field)` allows `=` chains on it to become IN."""
    op, parts = _terms(cond, leaf, mergeable, negated=False, in_or=False, depth=0)
    try:
        return _join(op, parts)[0]
    except TooDeep:
        raise TooDeep(_first_pos(cond)) from None


def _terms(cond, leaf, mergeable, *, negated: bool, in_or: bool, depth: int) -> tuple[str, list[_Part]]:
    """(operator, SQL terms) of `cond` with `negated` applied; a predicate is one term."""
    while isinstance(cond, n.Not):
        cond, negated = cond.item, not negated
    if not isinstance(cond, (n.And, n.Or)):
        sql = leaf(cond, in_or)
        return "AND", [(f"NOT COALESCE({sql}, 0)" if negated else sql, 0)]
    if depth >= MAX_NESTING:
        raise TooDeep(_first_pos(cond))
    is_or = isinstance(cond, n.Or)
    op = "OR" if is_or != negated else "AND"
    items = _merge_equalities(cond.items, mergeable) if is_or and len(cond.items) > CHAIN else cond.items
    parts: list[_Part] = []
    for item in items:
        child_op, child = _terms(item, leaf, mergeable, negated=negated, in_or=in_or or is_or,
                                 depth=depth + 1)
        if child_op == op or len(child) == 1:
            parts.extend(child)  # same operator (or one term): no new level
        else:
            try:
                parts.append(_join(child_op, child))
            except TooDeep:
                raise TooDeep(_first_pos(item)) from None
    return op, parts


def _join(op: str, parts: list[_Part]) -> _Part:
    if len(parts) == 1:
        return parts[0]
    while len(parts) > CHAIN:
        parts = [_join(op, parts[i:i + CHAIN]) for i in range(0, len(parts), CHAIN)]
    depth = 1 + max(d for _, d in parts)
    if depth > MAX_SQL_DEPTH:
        raise TooDeep(n.NOWHERE)
    return "(" + f" {op} ".join(sql for sql, _ in parts) + ")", depth


def _merge_equalities(items: tuple, mergeable) -> tuple:
    """`f = a OR f = b OR g = c` -> `f IN (a, b) OR g = c` (date literals and functions stay as they are)."""
    groups: dict[tuple[str, ...], list[n.Comparison]] = {}
    for item in items:
        if (isinstance(item, n.Comparison) and item.op == "=" and isinstance(item.left, n.FieldRef)
                and isinstance(item.value, n.Literal)):
            groups.setdefault(tuple(s.lower() for s in item.left.path), []).append(item)
    merged = {key: group for key, group in groups.items() if len(group) > 1 and mergeable(group[0].left)}
    if not merged:
        return items
    first = {id(group[0]): group for group in merged.values()}
    taken = {id(c) for group in merged.values() for c in group}
    out: list = []
    for item in items:
        group = first.get(id(item))
        if group is not None:  # the IN takes the place of the first equality
            out.append(n.InList(item.left, tuple(c.value for c in group), False, "IN", item.pos))
        elif id(item) not in taken:
            out.append(item)
    return tuple(out)


def _first_pos(cond) -> n.Pos:
    while isinstance(cond, (n.And, n.Or, n.Not)):
        cond = cond.item if isinstance(cond, n.Not) else cond.items[0]
    return getattr(cond, "pos", n.NOWHERE)
