"""SQL functions the compiled SOQL calls: Unicode case folding, and convertTimezone().

SOQL compares text case-insensitively in any script ('ÉMILE' = 'émile'); SQLite's NOCASE and
LIKE fold ASCII letters only. The compiler keeps the indexed `col = ? COLLATE NOCASE` form for
ASCII values and calls these only when a value holds other characters.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import sqlite3


def fold(value):
    """Case-folded text (None stays None), for `soql_fold(col) = soql_fold(?)`."""
    return value.casefold() if isinstance(value, str) else value


@functools.lru_cache(maxsize=256)
def _like_regex(pattern: str) -> re.Pattern:
    """A SQLite LIKE pattern with ESCAPE '\\' (as the parser builds it) as a regular expression."""
    out = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if ch == "%" else "." if ch == "_" else re.escape(ch))
        i += 1
    return re.compile("".join(out), re.IGNORECASE | re.DOTALL)


def like(value, pattern) -> int | None:
    """`value LIKE pattern` with Unicode case folding, for `soql_like(col, ?)`."""
    if value is None or pattern is None:
        return None
    return 1 if _like_regex(pattern).fullmatch(str(value)) else 0


def local_time(tz: dt.tzinfo):
    """soql_local(col): a stored UTC datetime as 'YYYY-MM-DD HH:MM:SS' in `tz` (convertTimezone())."""
    def convert(value):
        if value is None:
            return None
        utc = dt.datetime.strptime(value[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=dt.timezone.utc)
        return utc.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")
    return convert


def register(conn: sqlite3.Connection, tz: dt.tzinfo | None = None) -> None:
    conn.create_function("soql_fold", 1, fold, deterministic=True)
    conn.create_function("soql_like", 2, like, deterministic=True)
    conn.create_function("soql_local", 1, local_time(tz or dt.timezone.utc), deterministic=True)
