"""newswire-consumer: read newswire's article stream as a consumer group, typed.

    from newswire_consumer import ArticleEvent, consume

    def index(event: ArticleEvent) -> None:
        search.put(event.article.id, event.article.title, event.article.text)

    consume(index, redis_url="redis://redis:6379/0", group="indexer", consumer="indexer-1")

Depends on redis-py and pydantic only. See docs/consuming.md of the newswire repository.
"""

from __future__ import annotations

from newswire_consumer.article import SCHEMA_VERSION, Article, ExtractorInfo, FeedRef, SiteRef
from newswire_consumer.consumer import (
    ArticleEvent,
    BadEvent,
    ConsumerError,
    UnsupportedSchemaVersion,
    consume,
    parse_event,
)

__all__ = [
    "SCHEMA_VERSION",
    "Article",
    "ArticleEvent",
    "BadEvent",
    "ConsumerError",
    "ExtractorInfo",
    "FeedRef",
    "SiteRef",
    "UnsupportedSchemaVersion",
    "consume",
    "parse_event",
]
