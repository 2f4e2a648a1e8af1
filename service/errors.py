"""The one exception tree of newswire.

Only these classes cross module boundaries: adapters wrap library exceptions into them.
Every failure carries a :class:`Reason` — the documented code that ends up in the
``reason`` field of the dead-letter stream.
"""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    """Reason codes of the dead-letter stream (public contract, see docs/contract.md)."""

    HTTP_STATUS = "http_status"  # the origin answered with an error status
    TIMEOUT = "timeout"  # connect/read/total deadline exceeded
    CONNECTION = "connection_error"  # DNS failure, refused or reset connection, TLS error
    TOO_LARGE = "too_large"  # body over the byte cap (on the wire or decompressed)
    TOO_MANY_REDIRECTS = "too_many_redirects"  # more redirects than allowed, or a loop
    BLOCKED_ADDRESS = "blocked_address"  # private/loopback/link-local/... destination
    BAD_URL = "bad_url"  # not an http(s) URL, or unparseable
    NOT_HTML = "not_html"  # a page whose content type is not HTML/XHTML
    NOT_A_FEED = "not_a_feed"  # a feed URL that serves something that is no feed
    HOSTILE_CONTENT = "hostile_content"  # DOCTYPE/ENTITY declarations, excessive nesting
    PARSE_ERROR = "parse_error"  # bytes that cannot be decoded or parsed
    EXTRACTION_EMPTY = "extraction_empty"  # no article text could be extracted
    WORKER_LOST = "worker_lost"  # the task killed its worker too many times (poison)
    BAD_TASK = "bad_task"  # a task message whose arguments are not what this version reads
    BLOCKED_BY_ROBOTS = "blocked_by_robots"  # robots.txt disallows the URL (or is unreachable)
    TOO_SLOW = "too_slow"  # the response arrived slower than the minimum rate
    INSECURE_REDIRECT = "insecure_redirect"  # an https URL redirected to plain http
    INTERNAL = "internal_error"  # a bug in newswire; the detail has the exception


class IngestError(Exception):
    """Base of every error newswire raises on purpose."""

    reason: Reason = Reason.INTERNAL

    def __init__(self, detail: str, *, reason: Reason | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        if reason is not None:
            self.reason = reason

    def __str__(self) -> str:
        return f"{self.reason.value}: {self.detail}"


class TransientError(IngestError):
    """May succeed later: retry with back-off (timeouts, 5xx, 429, connection errors)."""

    def __init__(
        self, detail: str, *, reason: Reason | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(detail, reason=reason)
        self.retry_after = retry_after


class HostBusy(TransientError):
    """No free per-host fetch slot in time: try again later, without counting a retry."""

    reason = Reason.TIMEOUT


class PermanentError(IngestError):
    """Will not succeed by retrying: dead-letter at once."""


class NotModified(Exception):
    """A conditional GET answered 304: nothing new since the validators we sent."""
