"""SOQL for the local org: a lark grammar, a compiler to SQLite, and Salesforce-shaped results.

    execute_query(conn, schema, soql, include_deleted=False, api_version="62.0") -> QueryResult
    stream_query(conn, schema, soql, ...) -> the same records one by one (large results, Bulk queries)
    parse(soql) -> nodes.Query

See docs/soql.md for what is supported and what is refused.
"""

from slotforce.localorg.soql.execute import QueryResult, execute_query, stream_query
from slotforce.localorg.soql.parser import parse

__all__ = ["QueryResult", "execute_query", "parse", "stream_query"]
