"""What the org says its objects and fields are (from describe), in the few terms the engine needs.

Describe answers are large; the engine keeps only names, types, lengths, write permissions and
active picklist values, and caches them per object for an hour (like Cal.com's describe cache)
so a warm engine spends no API calls on describe; a field or object Salesforce says is not there
(INVALID_FIELD, INVALID_TYPE) drops the cache, so the next batch describes again.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

# Describe types that hold free text: a text mapping may write them, truncated to their length.
TEXT_TYPES = frozenset({"string", "textarea", "phone", "email", "url", "combobox", "encryptedstring"})


@dataclass(frozen=True)
class FieldInfo:
    name: str  # canonical API name
    type: str  # describe type: string, textarea, phone, email, url, picklist, boolean, date, datetime, ...
    length: int = 0
    createable: bool = True
    updateable: bool = True
    nillable: bool = True
    picklist: tuple[str, ...] = ()  # active values only, in org order

    @property
    def is_text(self) -> bool:
        return self.type in TEXT_TYPES


@dataclass(frozen=True)
class SObjectInfo:
    name: str
    fields: dict[str, FieldInfo] = field(default_factory=dict)  # keyed by lower-case API name

    def get(self, name: str) -> FieldInfo | None:
        return self.fields.get(name.lower())

    @classmethod
    def from_describe(cls, body: dict[str, Any]) -> "SObjectInfo":
        fields: dict[str, FieldInfo] = {}
        for f in body.get("fields", []):
            fields[f["name"].lower()] = FieldInfo(
                name=f["name"],
                type=f.get("type", "string"),
                length=int(f.get("length") or 0),
                createable=bool(f.get("createable", True)),
                updateable=bool(f.get("updateable", True)),
                nillable=bool(f.get("nillable", True)),
                picklist=tuple(p["value"] for p in f.get("picklistValues") or [] if p.get("active", True)),
            )
        return cls(name=body.get("name", ""), fields=fields)

    @classmethod
    def simple(cls, name: str, *fields: FieldInfo) -> "SObjectInfo":
        """Build one by hand (tests, offline checks)."""
        return cls(name=name, fields={f.name.lower(): f for f in fields})


class DescribeCache:
    """Describe results per sObject for `ttl_seconds`; `missing(names)` says which to describe again.

    `as_json` / `from_json` keep it across processes (the service stores it beside the outbox), so a
    cron-style `slotforce sync` spends no describe call either; `changed` says it needs saving."""

    def __init__(self, ttl_seconds: float = 3600.0, clock: Callable[[], float] = time.time):
        self.ttl = ttl_seconds
        self.clock = clock
        self._items: dict[str, tuple[float, SObjectInfo]] = {}
        self._absent: dict[str, float] = {}
        self.changed = False

    def as_json(self) -> str:
        return json.dumps({
            "items": {n: {"at": at, "name": info.name, "fields": [asdict(f) for f in info.fields.values()]}
                      for n, (at, info) in self._items.items()},
            "absent": self._absent,
        })

    @classmethod
    def from_json(cls, text: str | None, **kw: Any) -> "DescribeCache":
        """A cache as `as_json` kept it; an empty one when there is none or it cannot be read."""
        cache = cls(**kw)
        try:
            data = json.loads(text) if text else {}
            for n, item in (data.get("items") or {}).items():
                fields = [FieldInfo(**{**f, "picklist": tuple(f.get("picklist") or ())}) for f in item["fields"]]
                cache._items[n] = (float(item["at"]), SObjectInfo.simple(item["name"], *fields))
            cache._absent = {n: float(at) for n, at in (data.get("absent") or {}).items()}
        except (ValueError, TypeError, KeyError, AttributeError):
            return cls(**kw)  # an older or damaged copy: describe again
        return cache

    def clear(self) -> None:
        """Forget everything (a field or object the cache knew is gone): describe again."""
        self._items.clear()
        self._absent.clear()
        self.changed = True

    def missing(self, names: list[str]) -> list[str]:
        now = self.clock()
        out = []
        for n in names:
            seen = self._items[n][0] if n in self._items else self._absent.get(n)
            if seen is None or now - seen > self.ttl:
                out.append(n)
        return out

    def put(self, info: SObjectInfo) -> None:
        self._items[info.name] = (self.clock(), info)
        self._absent.pop(info.name, None)
        self.changed = True

    def put_absent(self, name: str) -> None:
        """The org has no such object (remembered, so it is not asked again within the TTL)."""
        self._absent[name] = self.clock()
        self._items.pop(name, None)
        self.changed = True

    def is_absent(self, name: str) -> bool:
        return name in self._absent

    def get(self, name: str) -> SObjectInfo | None:
        item = self._items.get(name)
        return item[1] if item else None

    def as_dict(self) -> dict[str, SObjectInfo]:
        return {k: v[1] for k, v in self._items.items()}
