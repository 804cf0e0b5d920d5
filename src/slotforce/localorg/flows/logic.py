"""Condition logic strings of filters and decision rules: `and`, `or`, or `1 AND (2 OR NOT 3)`."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Callable, TypeVar

T = TypeVar("T")

_TOKEN = re.compile(r"\s*(\d+|AND\b|OR\b|NOT\b|\(|\))", re.IGNORECASE)


class LogicError(ValueError):
    pass


@lru_cache(maxsize=1024)
def parse(logic: str | None, count: int) -> tuple:
    """A tree of ("and"|"or", (nodes)) / ("not", node) / ("cond", index0) over `count` conditions.
    Cached: every interview at a decision asks for the same tree."""
    text = (logic or "and").strip()
    if text.lower() in ("and", ""):
        return ("and", tuple(("cond", i) for i in range(count)))
    if text.lower() == "or":
        return ("or", tuple(("cond", i) for i in range(count)))
    tokens, pos = [], 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            raise LogicError(f"condition logic {text!r}: unexpected text at column {pos + 1}")
        tokens.append(m.group(1).upper())
        pos = m.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    state = {"i": 0}

    def peek():
        return tokens[state["i"]] if state["i"] < len(tokens) else None

    def take():
        tok = peek()
        state["i"] += 1
        return tok

    def expr():
        node = term()
        items = [node]
        while peek() == "OR":
            take()
            items.append(term())
        return items[0] if len(items) == 1 else ("or", tuple(items))

    def term():
        items = [factor()]
        while peek() == "AND":
            take()
            items.append(factor())
        return items[0] if len(items) == 1 else ("and", tuple(items))

    def factor():
        tok = take()
        if tok == "NOT":
            return ("not", factor())
        if tok == "(":
            node = expr()
            if take() != ")":
                raise LogicError(f"condition logic {text!r}: missing ')'")
            return node
        if tok and tok.isdigit():
            n = int(tok)
            if not 1 <= n <= count:
                raise LogicError(f"condition logic {text!r}: there is no condition {n} (only {count})")
            return ("cond", n - 1)
        raise LogicError(f"condition logic {text!r}: unexpected {tok or 'end of text'}")

    tree = expr()
    if peek() is not None:
        raise LogicError(f"condition logic {text!r}: unexpected {peek()}")
    return tree


def evaluate(tree: tuple, test: Callable[[int], bool]) -> bool:
    kind = tree[0]
    if kind == "cond":
        return test(tree[1])
    if kind == "not":
        return not evaluate(tree[1], test)
    if kind == "and":
        return all(evaluate(t, test) for t in tree[1])
    return any(evaluate(t, test) for t in tree[1])


def map_tree(tree: tuple, leaf: Callable[[int], T]) -> tuple:
    """The same tree with each ("cond", i) replaced by leaf(i)."""
    kind = tree[0]
    if kind == "cond":
        return leaf(tree[1])
    if kind == "not":
        return ("not", map_tree(tree[1], leaf))
    return (kind, [map_tree(t, leaf) for t in tree[1]])
