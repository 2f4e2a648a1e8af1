"""URL checks and normalisation (pure). Built on url-normalize and courlan."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from courlan import normalize_url as courlan_normalize
from url_normalize import url_normalize

from service.hashing import short_hash

# Generic share/referral parameters that courlan's tracker list does not cover.
_EXTRA_TRACKERS = frozenset(
    {
        "ref",
        "ref_src",
        "ref_url",
        "referrer",
        "cmpid",
        "ncid",
        "ocid",
        "sr_share",
        "smid",
        "at_medium",
        "at_campaign",
        "at_custom1",
        "at_custom2",
        "wt_mc",
        "wt.mc_id",
        "xtor",
    }
)
MAX_URL_LENGTH = 4096


def is_http_url(url: str | None) -> bool:
    """True for an absolute http(s) URL with a host and no whitespace or control chars."""
    if not url or len(url) > MAX_URL_LENGTH or any(ord(c) <= 32 for c in url):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def resolve_url(base: str | None, link: str | None) -> str | None:
    """``link`` made absolute against ``base``; ``None`` unless the result is http(s)."""
    if not link:
        return None
    link = link.strip()
    try:
        absolute = urljoin(base, link) if base else link
    except ValueError:
        return None
    return absolute if is_http_url(absolute) else None


def normalize_url(url: str) -> str:
    """Canonical form of an http(s) URL, for ids and dedup.

    Lower-case scheme and host, default port dropped, dot segments resolved, percent-encoding
    normalised, tracking parameters (``utm_*``, ``fbclid``, ``ref`` …) and the fragment removed,
    remaining query parameters sorted. Raises ``ValueError`` for a non-http(s) URL.
    """
    if not is_http_url(url):
        raise ValueError(f"not an http(s) URL: {url[:100]!r}")
    normalized = courlan_normalize(url_normalize(url) or url, strict=False)
    parts = urlsplit(normalized)
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k.lower() not in _EXTRA_TRACKERS
    ]
    path = parts.path or "/"
    return urlunsplit((parts.scheme, parts.netloc, path, urlencode(sorted(query)), ""))


def article_id(canonical_url: str) -> str:
    """The stable article id: a 32-hex-character hash of the normalised canonical URL."""
    return short_hash(normalize_url(canonical_url))


def host_of(url: str) -> str:
    """The lower-case host name of a URL ('' when it has none)."""
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""
