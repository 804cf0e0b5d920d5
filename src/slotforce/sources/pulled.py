"""The links an API reader pulled, and the entries it had to leave out (with why).

A tool's record becomes a `SchedulingLink` (the same model the links file uses) or, when it cannot
be one (no URL, a URL that is not https, a Profile without an email), a note in `skipped`: one bad
record must not stop the other links from reaching Salesforce.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import ValidationError

from slotforce.sync import SchedulingLink


@dataclass
class PulledLinks:
    source: str
    links: list[SchedulingLink] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    api_calls: int = 0
    _keys: set[str] = field(default_factory=set, repr=False)

    def add(self, link: SchedulingLink | str, what: str) -> None:
        """Keep `link`, or note `what` was skipped when `link` is the reason (a str)."""
        if isinstance(link, str):
            self.skipped.append(f"{what}: {link}")
        elif link.key.lower() in self._keys:  # Salesforce external ids match case-insensitively
            self.skipped.append(f"{what}: listed twice")
        else:
            self._keys.add(link.key.lower())
            self.links.append(link)


def make_link(source: str, stable_id: object, url: str | None, kind: str, owner_email: str | None,
              active: bool) -> SchedulingLink | str:
    """A SchedulingLink keyed `{source}:{stable_id}`, or why there is none."""
    if stable_id in (None, ""):
        return "no stable id"
    if not url:
        return "no URL"
    try:
        return SchedulingLink(key=f"{source}:{stable_id}", url=url, kind=kind, owner_email=owner_email or None,
                              active=active)
    except ValidationError as err:
        return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'link'}: {e['msg'].removeprefix('Value error, ')}"
                         for e in err.errors())
