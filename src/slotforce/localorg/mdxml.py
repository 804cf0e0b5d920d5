"""Reading Metadata API XML (object, field, flow, SOAP files): element children by local name and their text.

Metadata files carry the `http://soap.sforce.com/2006/04/metadata` namespace (or none, when a
tool strips it), so every lookup goes by the tag's local name. Comments and processing
instructions are not elements and are skipped.
"""

from __future__ import annotations

from lxml import etree


def local_name(el) -> str:
    """The tag without its namespace; "" for a comment or processing instruction."""
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def elements(el) -> list:
    """The element children of `el`, in document order."""
    return [c for c in el if isinstance(c.tag, str)]


def named(el, tag: str) -> list:
    """The element children called `tag`."""
    return [c for c in elements(el) if local_name(c) == tag]


def first(el, tag: str):
    """The first element child called `tag`, or None."""
    for c in elements(el):
        if local_name(c) == tag:
            return c
    return None


def text(el, tag: str, default: str | None = None) -> str | None:
    """The stripped text of the first child called `tag` ("" when empty), or `default` when there is none."""
    c = first(el, tag)
    return (c.text or "").strip() if c is not None else default
