"""Named SQL of a backend, read from `sql/common/` and `sql/<backend>/queries.sql` (`-- name: x` starts x)."""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

_NAME = re.compile(r"^-- name: (\w+)\s*$", re.MULTILINE)
# `:name` parameters; `::type` casts are not parameters.
_PARAM = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


def sql_text(backend: str, *parts: str) -> str:
    return resources.files("slotforce.store").joinpath("sql", backend, *parts).read_text(encoding="utf-8")


@cache
def load_queries(backend: str, paramstyle: str = "named") -> dict[str, str]:
    """{name: statement}: `sql/common/queries.sql`, overridden by the backend's own; `paramstyle="pyformat"`
    turns `:name` into `%(name)s` (psycopg)."""
    chunks = _NAME.split(sql_text("common", "queries.sql"))[1:] + _NAME.split(sql_text(backend, "queries.sql"))[1:]
    queries = {}
    for name, body in zip(chunks[::2], chunks[1::2]):
        statement = "\n".join(line for line in body.strip().splitlines() if not line.lstrip().startswith("--"))
        statement = statement.strip().rstrip(";")
        if paramstyle == "pyformat":
            statement = _PARAM.sub(r"%(\1)s", statement.replace("%", "%%"))
        queries[name] = statement
    return queries


def statements(script: str) -> list[str]:
    """The statements of a migration file (no semicolons inside literals there), comments dropped."""
    lines = [line for line in script.splitlines() if not line.lstrip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]
