"""The local org: a Salesforce-compatible HTTPS server backed by SQLite (see docs/design.md).

    from slotforce.localorg import LocalOrg
    with LocalOrg() as org:
        sf = org.client()          # unmodified simple_salesforce.Salesforce
"""

from __future__ import annotations

__all__ = ["LocalOrg"]


def __getattr__(name: str):
    # Lazy for cost, not to dodge a cycle (no localorg module imports this package's names):
    # the server loads the SOQL grammar, Starlette and the Metadata API (~0.45 s), while parts used
    # on their own (schema, records, flows, errors) import in a tenth of that.
    if name == "LocalOrg":
        from slotforce.localorg.server import LocalOrg

        return LocalOrg
    raise AttributeError(name)
