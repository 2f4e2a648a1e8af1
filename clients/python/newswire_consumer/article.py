"""Article v1 — the public contract of newswire's article stream, as a pydantic model.

This is the one definition of the model: the newswire service imports it from here, and
consumer applications get it with this package alone. Changing it is a contract change
(docs/contract.md): an added optional field is additive within schema version 1; anything
else bumps ``SCHEMA_VERSION``. Regenerate ``docs/schema/article.v1.json`` with
``python -m service.schema`` after a change.

Fields a newer service adds are ignored when parsing (``extra="ignore"``), so a consumer
built against an older copy of this package keeps working.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

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
        extra="ignore",  # fields of a newer service are tolerated
        json_schema_extra={"$id": "https://newswire.dev/schema/article.v1.json"},
    )

    id: str = Field(description="stable id of the story: hash of its normalised canonical URL")
    url: HttpUrlStr = Field(description="URL fetched, after redirects")
    canonical_url: HttpUrlStr = Field(description="normalised canonical URL")
    feed: FeedRef | None = Field(
        default=None,
        description="the feed or sitemap that announced it; null for a submitted URL",
    )
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
    image_caption: str | None = Field(default=None, description="caption of the lead image")
    image_credit: str | None = Field(
        default=None, description="credit of the lead image (photographer, agency)"
    )
    tags: list[str] = Field(default_factory=list)
    section: str | None = Field(
        default=None, description="the publisher's section (article:section, articleSection)"
    )
    is_accessible_for_free: bool | None = Field(
        default=None,
        description=(
            "false when the page declares the article (or a part of it) paywalled, so text"
            " may be a teaser; true when it declares it free; null when it says nothing"
        ),
    )
    content_hash: str = Field(description="hash of the normalised text")
    fetched_at: UtcDatetime
    extractor: ExtractorInfo
    duplicate_of: str | None = Field(
        default=None,
        description="null, or the id of the first-published article of which this one is a "
        "near-duplicate (a syndicated or republished copy of the same story); a copy of a "
        "copy points at the original. Added in schema version 1 (optional, additive).",
    )
