"""The data newswire moves around: feed entries, fetched pages, dead letters.

``Article`` — what consumers read, the public contract — is defined once, in the consumer
library (``clients/python/newswire_consumer/article.py``), and re-exported here.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from newswire_consumer.article import (
    SCHEMA_VERSION,
    Article,
    ExtractorInfo,
    FeedRef,
    HttpUrlStr,
    SiteRef,
    UtcDatetime,
    format_rfc3339,
)

__all__ = [
    "SCHEMA_VERSION",
    "Article",
    "DeadLetter",
    "ExtractorInfo",
    "FeedEntry",
    "FeedRef",
    "FetchedPage",
    "HttpUrlStr",
    "ParsedFeed",
    "SiteRef",
    "UtcDatetime",
    "format_rfc3339",
]


class FeedEntry(BaseModel):
    """One item of a feed, normalised. Produced by ``service.feeds.parse_feed``."""

    model_config = ConfigDict(frozen=True)

    feed_url: str
    feed_title: str | None = None
    entry_id: str = Field(description="GUID, else link, else a hash of title and summary")
    url: str | None = Field(default=None, description="link, resolved to an absolute URL")
    title: str | None = None
    authors: tuple[str, ...] = ()
    published_at: UtcDatetime | None = None
    updated_at: UtcDatetime | None = None
    summary: str | None = Field(default=None, description="plain text")
    tags: tuple[str, ...] = ()
    content_html: str | None = Field(default=None, description="full content if the feed has it")
    image: str | None = None
    language: str | None = Field(default=None, description="ISO 639 code (sitemap hint)")

    def fingerprint(self) -> str:
        """A short hash of what the feed says about the entry, to notice edits."""
        from service.hashing import short_hash

        parts = (
            self.title or "",
            self.summary or "",
            self.content_html or "",
            self.updated_at.isoformat() if self.updated_at else "",
        )
        return short_hash("\x1f".join(parts))


class ParsedFeed(BaseModel):
    """A feed document: its own metadata, its entries and its polling hints."""

    model_config = ConfigDict(frozen=True)

    url: str
    title: str | None = None
    site_url: str | None = None
    format: str = Field(description="rss20, atom10, jsonfeed11, ...")
    entries: tuple[FeedEntry, ...] = ()
    ttl_seconds: float | None = Field(default=None, description="<ttl> / sy:updatePeriod hint")


class FetchedPage(BaseModel):
    """An HTTP response body, frozen: what the pure parsers and extractors work on."""

    model_config = ConfigDict(frozen=True)

    requested_url: str
    url: str = Field(description="final URL after redirects")
    status: int = 200
    content: bytes
    content_type: str | None = None
    encoding: str | None = Field(default=None, description="charset from header/meta/detection")
    etag: str | None = None
    last_modified: str | None = None
    cache_control_max_age: float | None = None
    links: str | None = Field(default=None, description="the HTTP Link header (WebSub hubs)")
    fetched_at: UtcDatetime
    redirects: tuple[str, ...] = ()


EventType = Literal["article.created", "article.updated"]
DeadType = Literal["article.failed", "feed.failed"]


class DeadLetter(BaseModel):
    """One entry of the dead-letter stream (flat fields, all strings on the wire)."""

    type: DeadType
    url: str
    feed_url: str = ""
    reason: str
    detail: str
    attempts: int = 1
    failed_at: UtcDatetime

    def to_fields(self) -> dict[str, str]:
        return {
            "type": self.type,
            "url": self.url,
            "feed_url": self.feed_url,
            "reason": self.reason,
            "detail": self.detail[:2000],
            "attempts": str(self.attempts),
            "failed_at": format_rfc3339(self.failed_at),
        }
