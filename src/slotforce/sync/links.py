"""Link sync: upsert Scheduling_Link__c by Link_Key__c from a links file, sending only what changed.

    links = load_links("links.yml")           # validated; errors name the entry index and key
    result = sync_links(sf, links)            # one query per 200 keys, one Collections call per 200 changes

The file is a YAML or JSON list (or `{links: [...]}`) of `{key, url, kind, owner_email, active}`;
`kind` is Profile, Event_Type or Managed_Event; `owner_email` is required for Profile links (the Flow
maps them onto that User) and may be left out for team event types, which belong to no one person. Existing links are read by Link_Key__c and compared
field by field, so an hourly run that finds nothing new costs only the queries. Links missing from
the file are left as they are (the file may list one team's links; deactivate with `active: false`).
The package's Scheduling_Link_Map_User Flow maps Profile links onto their User.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from simple_salesforce import Salesforce

from slotforce.sync.gateway import Gateway, SalesforceCallError
from slotforce.sync.soql import in_list
from slotforce.yamlfile import YamlFileError, read_yaml, validation_problems

SOBJECT = "Scheduling_Link__c"
EXTERNAL_ID = "Link_Key__c"
FIELDS = ("Link_Key__c", "Url__c", "Kind__c", "Owner_Email__c", "Active__c")
COLLECTION_SIZE = 200  # sObject Collections take at most 200 records per call
QUERY_CHUNK = 200  # keys per IN list: keeps each query far below SOQL's 100,000-character limit


class SchedulingLink(BaseModel):
    """One entry of the links file; becomes one Scheduling_Link__c row."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    key: str = Field(min_length=1, max_length=255)
    url: str = Field(min_length=1, max_length=255)
    kind: Literal["Profile", "Event_Type", "Managed_Event"]
    owner_email: str | None = Field(default=None, max_length=80)
    active: bool = True

    @field_validator("url")
    @classmethod
    def _https(cls, value: str) -> str:
        if not value.lower().startswith("https://") or len(value) <= len("https://"):
            raise ValueError("must be a full link starting with https:// (Url__c keeps the protocol)")
        return value

    @field_validator("owner_email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is None:
            return None
        local, _, domain = value.partition("@")
        if not local or "." not in domain or " " in value:
            raise ValueError(f"{value!r} is not an email address")
        return value.lower()

    @model_validator(mode="after")
    def _profile_has_owner(self) -> SchedulingLink:
        if self.kind == "Profile" and self.owner_email is None:
            raise ValueError("owner_email is required for a Profile link (the Flow maps it onto that User)")
        return self

    def record(self) -> dict[str, Any]:
        return {"Link_Key__c": self.key, "Url__c": self.url, "Kind__c": self.kind,
                "Owner_Email__c": self.owner_email, "Active__c": self.active}


class LinksFileError(Exception):
    """The links file is not usable; `problems` are (where, message) pairs like ('links[3] (key "x").url', ...)."""

    def __init__(self, source: str, problems: list[tuple[str, str]]):
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  {w}: {m}" for w, m in problems)
        super().__init__(f"{source} is not a valid links file ({len(problems)} problem(s)):\n{lines}")


def _where(index: int, entry: Any) -> str:
    key = entry.get("key") if isinstance(entry, dict) else None
    return f"links[{index}]" + (f" (key {key!r})" if key else "")


def parse_links(document: Any, source: str = "links file") -> list[SchedulingLink]:
    """Validate a loaded document: a list of entries or a mapping with a `links` list."""
    entries = document.get("links") if isinstance(document, dict) else document
    if not isinstance(entries, list):
        raise LinksFileError(source, [("(top)", "must be a list of links (or a mapping with a `links:` list)")])
    links: list[SchedulingLink] = []
    problems: list[tuple[str, str]] = []
    first_index: dict[str, int] = {}
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            problems.append((f"links[{i}]", "must be a mapping with key, url, kind, owner_email, active"))
            continue
        try:
            link = SchedulingLink.model_validate(entry)
        except ValidationError as err:
            problems += validation_problems(err, (_where(i, entry),),
                                            unknown_key="unknown key (a link has key, url, kind, owner_email, active)")
            continue
        folded = link.key.lower()  # Salesforce external ids match case-insensitively
        if folded in first_index:
            problems.append((_where(i, entry), f"the key is already used by links[{first_index[folded]}]; keys must be unique"))
            continue
        first_index[folded] = i
        links.append(link)
    if problems:
        raise LinksFileError(source, problems)
    return links


def load_links(path: str | os.PathLike[str]) -> list[SchedulingLink]:
    """Read a YAML or JSON links file (JSON is YAML)."""
    try:
        document = read_yaml(path)
    except YamlFileError as err:
        raise LinksFileError(str(path), [(err.where, err.problem)]) from None
    return parse_links(document, str(path))


# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LinkFailure:
    key: str
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.key}: {self.code}: {self.message}"


@dataclass
class LinkSyncResult:
    total: int = 0  # links in the file
    unchanged: int = 0
    created: int = 0
    updated: int = 0
    failed: list[LinkFailure] = field(default_factory=list)
    api_calls: int = 0

    @property
    def upserted(self) -> int:
        return self.created + self.updated


class LinkSyncError(Exception):
    """A whole call failed (the org is unreachable, or Scheduling_Link__c is not deployed)."""


def _same(existing: dict[str, Any], wanted: dict[str, Any]) -> bool:
    for name in FIELDS[1:]:
        have, want = existing.get(name), wanted[name]
        if name == "Owner_Email__c":
            have, want = (have or "").lower(), (want or "").lower()
        elif name == "Active__c":
            have = bool(have)
        if have != want:
            return False
    return True


def _chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _call(gateway: Gateway, path: str, what: str, **kwargs: Any) -> Any:
    """One call through the engine's gateway; a failed call stops the whole link sync."""
    try:
        return gateway.restful(path, what, **kwargs)
    except SalesforceCallError as err:
        detail = "; ".join(str(e) for e in err.errors) or "no error details"
        status = f"HTTP {err.status}" if err.status else "no answer"
        raise LinkSyncError(f"{what} failed ({status}): {detail}") from err


def existing_links(gateway: Gateway, keys: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Current rows by lower-cased Link_Key__c; one query per QUERY_CHUNK keys (plus pages)."""
    found: dict[str, dict[str, Any]] = {}
    for chunk in _chunks(list(keys), QUERY_CHUNK):
        soql = f"SELECT Id, {', '.join(FIELDS)} FROM {SOBJECT} WHERE {EXTERNAL_ID} IN {in_list(chunk)}"
        page = _call(gateway, "query", "Query of existing Scheduling Links", params={"q": soql})
        while True:
            for rec in page.get("records", []):
                found[str(rec.get(EXTERNAL_ID) or "").lower()] = rec
            next_url = page.get("nextRecordsUrl")
            if page.get("done", True) or not next_url:
                break
            page = _call(gateway, "query/" + next_url.rsplit("/", 1)[-1], "Query page of Scheduling Links")
    return found


def sync_links(sf: Salesforce, links: Sequence[SchedulingLink], *,
               progress: Callable[[str, int, int], None] | None = None) -> LinkSyncResult:
    """Upsert the links that differ from the org; `progress(phase, done, total)` after each call."""
    result = LinkSyncResult(total=len(links))
    gateway = Gateway(sf)
    keys = [link.key for link in links]
    current: dict[str, dict[str, Any]] = {}
    for n, chunk in enumerate(_chunks(keys, QUERY_CHUNK), 1):
        current.update(existing_links(gateway, chunk))
        if progress:
            progress("compare", min(n * QUERY_CHUNK, len(keys)), len(keys))
    changed = [link for link in links if (rec := current.get(link.key.lower())) is None or not _same(rec, link.record())]
    result.unchanged = len(links) - len(changed)
    if progress:
        progress("upsert", 0, len(changed))
    done = 0
    for chunk in _chunks(changed, COLLECTION_SIZE):
        body = {"allOrNone": False,
                "records": [{"attributes": {"type": SOBJECT}, **link.record()} for link in chunk]}
        answer = _call(gateway, f"composite/sobjects/{SOBJECT}/{EXTERNAL_ID}", "Upsert of Scheduling Links",
                       method="PATCH", json=body)
        for link, item in zip(chunk, answer or []):
            if item.get("success"):
                if item.get("created"):
                    result.created += 1
                else:
                    result.updated += 1
            else:
                errs = item.get("errors") or [{}]
                result.failed.append(LinkFailure(link.key, errs[0].get("statusCode") or errs[0].get("errorCode") or "UNKNOWN",
                                                 errs[0].get("message", "")))
        done += len(chunk)
        if progress:
            progress("upsert", done, len(changed))
    result.api_calls = gateway.calls
    return result
