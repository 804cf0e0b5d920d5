"""Small readers for webhook JSON that say where a value was missing or malformed."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from typing import Any

from slotforce.sources.errors import bad_payload


class ParsedChanges(list):
    """The booking changes one delivery yields (a plain list), plus why it yielded none, if so."""

    def __init__(self, changes: Any = (), note: str | None = None) -> None:
        super().__init__(changes)
        self.note = note


class Reader:
    """Reads one JSON object of one source's webhook; errors name the source and the JSON path."""

    def __init__(self, source: str, data: Any, path: str = "") -> None:
        if not isinstance(data, dict):
            raise bad_payload(source, path or "body", f"expected a JSON object, got {type(data).__name__}")
        self.source = source
        self.data = data
        self.path = path

    def _where(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def get(self, key: str, default: Any = None) -> Any:
        value = self.data.get(key)
        return default if value is None else value

    def text(self, key: str) -> str | None:
        value = self.data.get(key)
        if value is None:
            return None
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            raise bad_payload(self.source, self._where(key), f"expected text, got {type(value).__name__}")
        return str(value).strip() or None

    def required_text(self, key: str) -> str:
        value = self.text(key)
        if not value:
            raise bad_payload(self.source, self._where(key), "is missing")
        return value

    def time(self, key: str) -> datetime | None:
        value = self.text(key)
        if value is None:
            return None
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise bad_payload(self.source, self._where(key), f"{value!r} is not an ISO 8601 time") from None

    def required_time(self, key: str) -> datetime:
        value = self.time(key)
        if value is None:
            raise bad_payload(self.source, self._where(key), "is missing")
        return value

    def obj(self, key: str) -> "Reader | None":
        value = self.data.get(key)
        if value is None:
            return None
        return Reader(self.source, value, self._where(key))

    def objects(self, key: str) -> list["Reader"]:
        value = self.data.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise bad_payload(self.source, self._where(key), f"expected a list, got {type(value).__name__}")
        return [Reader(self.source, v, f"{self._where(key)}[{i}]") for i, v in enumerate(value)]


def last_path_segment(uri: str | None) -> str | None:
    """`https://api.calendly.com/scheduled_events/E/invitees/I` -> `I`."""
    if not uri:
        return None
    return uri.rstrip("/").rsplit("/", 1)[-1] or None


def slugify(name: str | None) -> str | None:
    """An event type name as a settings key, the way Cal.com slugs names (packages/lib/slugify.ts):
    accents dropped ("Beratungsgespräch" -> beratungsgesprach), other scripts' letters kept (初回相談)."""
    if not name:
        return None
    plain = "".join(ch for ch in unicodedata.normalize("NFKD", name.lower()) if not unicodedata.combining(ch))
    slug = re.sub(r"[\W_]+", "-", plain).strip("-")
    return slug or None
