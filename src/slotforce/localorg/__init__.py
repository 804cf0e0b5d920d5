"""The local org: a Salesforce-compatible HTTPS server backed by SQLite (see docs/design.md).

    from slotforce.localorg import LocalOrg
    with LocalOrg() as org:
        sf = org.client()          # unmodified simple_salesforce.Salesforce
"""

from __future__ import annotations

__all__ = ["LocalOrg"]


def __getattr__(name: str):
    # imported lazily: the SOQL and Metadata parts import slotforce.localorg.* without a server
    if name == "LocalOrg":
        from slotforce.localorg.server import LocalOrg

        return LocalOrg
    raise AttributeError(name)
