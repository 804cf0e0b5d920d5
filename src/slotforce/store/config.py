"""Find the outbox from slotforce.yml: only the `store:` key, so the operator commands (status,
errors, replay, trace) still work when other parts of the file are broken, which is exactly when
they are needed.

A relative `sqlite:///` path is relative to the directory of slotforce.yml, so the commands find
the same file whatever directory they are run from.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any


from slotforce.store.backends import open_store
from slotforce.store.errors import StoreError
from slotforce.store.models import DEFAULT_ORG
from slotforce.store.outbox import Outbox
from slotforce.yamlfile import YamlFileError, config_path, read_yaml

DEFAULT_STORE_URL = "sqlite:///.slotforce/outbox.db"


class ConfigNotUsable(StoreError):
    pass


def read_config(path: Path) -> dict[str, Any]:
    try:
        raw = read_yaml(path) or {}
    except YamlFileError as err:
        hint = "; pass --config PATH or set SLOTFORCE_CONFIG" if err.problem == "not found" else ""
        raise ConfigNotUsable(f"{err}{hint}") from None
    if not isinstance(raw, dict):
        raise ConfigNotUsable(f"{path}: the file must be a mapping of keys (salesforce, store, sources, event_types)")
    return raw


def store_url(raw: dict[str, Any], path: Path) -> str:
    url = raw.get("store", DEFAULT_STORE_URL)
    if not isinstance(url, str) or not url:
        raise ConfigNotUsable(f"{path}: store: must be a URL such as {DEFAULT_STORE_URL}")
    return url


def open_configured_store(option: str | os.PathLike[str] | None, **options: Any) -> Outbox:
    path = config_path(option)
    raw = read_config(path)
    return open_store(store_url(raw, path), base_dir=path.resolve().parent, **options)


def org_names(raw: dict[str, Any]) -> list[str]:
    """The orgs slotforce.yml names (`orgs:` keys), or the one implicit org of a file without `orgs:`."""
    orgs = raw.get("orgs")
    return [str(name) for name in orgs] if isinstance(orgs, dict) and orgs else [DEFAULT_ORG]


def configured_org(option: str | os.PathLike[str] | None, org: str | None) -> str:
    """The org an operator command is about: `org` if slotforce.yml has it, else the only org; a
    `ConfigNotUsable` naming the orgs when none is given and there are several, or `org` is not one."""
    path = config_path(option)
    names = org_names(read_config(path))
    if org is None:
        if len(names) == 1:
            return names[0]
        raise ConfigNotUsable(f"{path} has {len(names)} orgs: name one with --org ({', '.join(names)})")
    if org not in names:
        raise ConfigNotUsable(f"org {org!r} is not in {path} (orgs: {', '.join(names)})")
    return org
