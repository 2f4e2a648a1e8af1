"""What came back: status mapping, header parsing, content-type checks (pure)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from service.errors import NotModified, PermanentError, Reason, TransientError
from service.fetching.requests import Kind

MAX_RETRY_AFTER = 86_400.0  # the longest Retry-After honoured (the poller's back-off too)
TRANSIENT_4XX = frozenset({408, 425, 429})
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
BINARY_PREFIXES = ("image/", "video/", "audio/", "font/", "model/")
BINARY_TYPES = frozenset(
    {
        "application/pdf",
        "application/zip",
        "application/gzip",
        "application/x-gzip",
        "application/x-tar",
        "application/x-7z-compressed",
        "application/x-rar-compressed",
        "application/msword",
        "application/wasm",
        "application/x-shockwave-flash",
        "application/vnd.ms-excel",
        "application/x-msdownload",
    }
)
# A feed or sitemap may be a gzip file (body.BodyReader inflates it): not refused for a feed,
# and sniffed once inflated.
GZIP_TYPES = frozenset({"application/gzip", "application/x-gzip"})
SNIFF_TYPES = frozenset(
    {
        "",
        "application/octet-stream",
        "binary/octet-stream",
        "application/unknown",
        "unknown/unknown",
    }
)
_HTML_MARKERS = (b"<!doctype html", b"<html", b"<head", b"<body", b"<title", b"<meta")
_MAX_AGE = re.compile(r"(?:^|[,\s])max-age\s*=\s*\"?(\d+)", re.I)


# --- status -------------------------------------------------------------------------
def retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta or HTTP date), clamped to a day."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        seconds = float(value)
    else:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - now).total_seconds()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def check_status(
    status: int,
    url: str,
    *,
    conditional: bool,
    retry_after_header: str | None,
    now: datetime,
) -> None:
    """Accept a success status; raise the right error for any other (redirects excluded)."""
    if status == 304 and conditional:
        raise NotModified(url)
    if 200 <= status < 300 and status not in (204, 205):
        return
    detail = f"{url}: HTTP {status}"
    if status in TRANSIENT_4XX or 500 <= status < 600 or status == 304:
        raise TransientError(
            detail, reason=Reason.HTTP_STATUS, retry_after=retry_after(retry_after_header, now)
        )
    raise PermanentError(detail, reason=Reason.HTTP_STATUS)


# --- headers ------------------------------------------------------------------------
def max_age(cache_control: str | None) -> float | None:
    """``max-age`` of a Cache-Control header, in seconds."""
    found = _MAX_AGE.search(cache_control or "")
    return float(found.group(1)) if found else None


def media_type(content_type: str | None) -> str:
    """The lower-case ``type/subtype`` of a Content-Type value ('' when missing)."""
    return (content_type or "").split(";", 1)[0].strip().lower()


# --- content type -------------------------------------------------------------------
def check_declared_type(kind: Kind, content_type: str | None, url: str) -> None:
    """Refuse, before reading the body, a declared type that cannot be a page / a feed."""
    mtype = media_type(content_type)
    if kind == "page" and mtype and mtype not in HTML_TYPES:
        raise PermanentError(f"{url}: content type {mtype!r} is not HTML", reason=Reason.NOT_HTML)
    binary = mtype in BINARY_TYPES - GZIP_TYPES or mtype.startswith(BINARY_PREFIXES)
    if kind == "feed" and binary:
        raise PermanentError(
            f"{url}: content type {mtype!r} is not a feed", reason=Reason.NOT_A_FEED
        )


def _start(body: bytes) -> bytes:
    return body[:1024].lstrip(b"\xef\xbb\xbf \t\r\n\x0c").lower()


def looks_like_html(body: bytes) -> bool:
    start = _start(body)
    return start.startswith(b"<") and any(marker in start for marker in _HTML_MARKERS)


def looks_like_feed(body: bytes) -> bool:
    """XML or JSON text (a binary format never starts with '<' or '{')."""
    return _start(body).startswith((b"<", b"{"))


def check_body_type(kind: Kind, content_type: str | None, body: bytes, url: str) -> None:
    """Refuse a body whose type was not declared (or declared generic) by sniffing it."""
    mtype = media_type(content_type)
    if kind == "page" and not mtype and not looks_like_html(body):
        raise PermanentError(
            f"{url}: no content type and the body is not HTML", reason=Reason.NOT_HTML
        )
    if kind == "feed" and mtype in SNIFF_TYPES | GZIP_TYPES and not looks_like_feed(body):
        raise PermanentError(
            f"{url}: {mtype or 'no content type'} and the body is no feed", reason=Reason.NOT_A_FEED
        )
