"""The data newswire moves around, and the public contract (Article v1, stream events).

``Article`` is what consumers read: changing it is a contract change (bump
``SCHEMA_VERSION`` and regenerate ``docs/schema/article.v1.json`` with
``python -m service.schema``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema

SCHEMA_VERSION = 1


def _to_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def format_rfc3339(value: datetime) -> str:
    """RFC 3339 in UTC with a ``Z`` suffix, seconds precision."""
    return _to_utc(value).strftime("%Y-%m-%dT%H:%M:%SZ")


UtcDatetime = Annotated[
    datetime,
    AfterValidator(_to_utc),
    PlainSerializer(format_rfc3339, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]


def _http_url(value: str) -> str:
    scheme = value.split(":", 1)[0].lower()
    if scheme not in ("http", "https") or "://" not in value:
        raise ValueError(f"not an http(s) URL: {value[:80]!r}")
    return value


HttpUrlStr = Annotated[
    str,
    AfterValidator(_http_url),
    WithJsonSchema({"type": "string", "format": "uri", "pattern": "^[Hh][Tt][Tt][Pp][Ss]?://"}),
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
    fetched_at: UtcDatetime
    redirects: tuple[str, ...] = ()

    def text(self) -> str:
        """The body decoded with the detected encoding (bad bytes replaced)."""
        return self.content.decode(self.encoding or "utf-8", errors="replace")


class FeedRef(BaseModel):
    url: str
    title: str | None = None


class SiteRef(BaseModel):
    name: str | None = None
    domain: str


class ExtractorInfo(BaseModel):
    name: str
    version: str


class Article(BaseModel):
    """Article v1 — the public contract. See docs/contract.md."""

    model_config = ConfigDict(
        frozen=True,
        json_schema_extra={"$id": "https://newswire.dev/schema/article.v1.json"},
    )

    id: str = Field(description="stable id of the story: hash of its normalised canonical URL")
    url: HttpUrlStr = Field(description="URL fetched, after redirects")
    canonical_url: HttpUrlStr = Field(description="normalised canonical URL")
    feed: FeedRef | None = Field(default=None, description="the feed that announced it")
    site: SiteRef
    title: str
    authors: list[str] = Field(default_factory=list)
    published_at: UtcDatetime | None = None
    updated_at: UtcDatetime | None = None
    language: str | None = Field(default=None, description="ISO 639-1 code")
    summary: str | None = None
    text: str = Field(description="clean body; paragraphs separated by blank lines")
    word_count: int = Field(ge=0)
    image: HttpUrlStr | None = None
    tags: list[str] = Field(default_factory=list)
    content_hash: str = Field(description="hash of the normalised text")
    fetched_at: UtcDatetime
    extractor: ExtractorInfo


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
