"""SOQL: parse+compile time per query, and indexed `Email =` against a `LIKE '%@x.com'` scan."""

from __future__ import annotations

import time

from slotforce.localorg import store
from slotforce.localorg.schema import Schema
from slotforce.localorg.soql import execute_query, parse
from slotforce.localorg.soql.compiler import compile_query
from slotforce.localorg.standard import standard_objects

ROWS = 100_000
QUERIES = [
    "SELECT Id FROM Contact WHERE Email = 'c50001@example.com'",
    "SELECT Id, Name, Account.Name, Account.Owner.Email FROM Contact WHERE Email LIKE '%@x.com' "
    "ORDER BY LastName DESC NULLS LAST LIMIT 10",
    "SELECT Subject, Who.Name, What.Name FROM Event WHERE StartDateTime = LAST_N_DAYS:30",
    "SELECT Name, (SELECT Id, Email FROM Contacts ORDER BY Email LIMIT 5) FROM Account "
    "WHERE Id IN (SELECT AccountId FROM Contact WHERE Email LIKE '%@acme.com')",
    "SELECT Industry, COUNT(Id) n, MAX(NumberOfEmployees) FROM Account GROUP BY Industry HAVING COUNT(Id) > 1",
]


def _time(fn, repeat: int) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - start) / repeat


def main() -> None:
    schema = Schema(standard_objects())
    for soql in QUERIES:
        cold = _time(lambda: (parse.cache_clear(), compile_query(schema, soql, parse(soql))), 50)
        warm = _time(lambda: compile_query(schema, soql, parse(soql)), 200)
        print(f"parse+compile {cold * 1e3:6.2f} ms (compile only, parse cached {warm * 1e3:5.2f} ms): {soql[:60]}...")

    conn = store.connect()
    for sobject in schema:
        store.create_table(conn, sobject)
    conn.execute("BEGIN")
    ids = store.allocate_ids(conn, "003", ROWS)
    conn.executemany(
        'INSERT INTO "Contact" ("Id", "IsDeleted", "LastName", "Name", "Email") VALUES (?, 0, ?, ?, ?)',
        ((ids[i], f"L{i}", f"L{i}", f"c{i}@{'x' if i % 100 == 0 else 'example'}.com") for i in range(ROWS)))
    conn.execute("COMMIT")
    for soql in ("SELECT Id FROM Contact WHERE Email = 'C50001@example.com'",
                 "SELECT Id FROM Contact WHERE Email LIKE '%@x.com'",
                 "SELECT Id, Name, Email, Account.Name FROM Contact"):
        result = execute_query(conn, schema, soql)
        took = _time(lambda: execute_query(conn, schema, soql), 3)
        print(f"{ROWS:,} contacts: {took * 1e3:8.2f} ms, {result.total_size:5d} rows: {soql}")


if __name__ == "__main__":
    main()
