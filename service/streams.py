"""I/O: the output streams. Idempotent publish, dead letters, consumer-group positions.

Stream entries are flat string fields (see docs/contract.md):
``newswire:articles``: type, id, schema_version, content_hash, data (Article JSON).
``newswire:dead``: type, url, feed_url, reason, detail, attempts, failed_at.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import orjson
import redis

from newswire_consumer.groups import as_text, trimmed_before_read
from service.hashing import short_hash
from service.models import SCHEMA_VERSION, Article, DeadLetter
from service.observability.metrics import record_dead_letter, record_published
from service.settings import Settings

# One atomic step per article: compare the consumer-visible version of the article (see
# ``consumer_version``) with the last one published for its id; when it differs and this task
# has not published it already (a redelivered or retried task re-running), XADD it (or, for a
# near-duplicate in skip mode, only count it) and remember it. A real revert (A -> B -> A
# from separate tasks) is published again; a redelivered task never publishes twice.
# KEYS: stream, last-version key, this task's versions (a set), story counters.
# ARGV: version, maxlen, ttl, id, schema_version, data, content_hash, task ttl, skip (0/1),
#       story ("original" | "duplicate").
_PUBLISH = """
local prev = redis.call('GET', KEYS[2])
if prev == ARGV[1] then return {0, 'duplicate', ''} end
if KEYS[3] ~= KEYS[2] and redis.call('SISMEMBER', KEYS[3], ARGV[1]) == 1 then
  return {0, 'duplicate', ''}
end
local kind = 'article.created'
if prev then kind = 'article.updated' else redis.call('HINCRBY', KEYS[4], ARGV[10], 1) end
local entry = ''
if ARGV[9] == '1' then
  kind = 'skipped'
  redis.call('HINCRBY', KEYS[4], 'skipped', 1)
else
  entry = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*',
    'type', kind, 'id', ARGV[4], 'schema_version', ARGV[5], 'content_hash', ARGV[7],
    'data', ARGV[6])
end
redis.call('SET', KEYS[2], ARGV[1], 'EX', ARGV[3])
if KEYS[3] ~= KEYS[2] then
  redis.call('SADD', KEYS[3], ARGV[1])
  redis.call('EXPIRE', KEYS[3], ARGV[8])
end
return {1, kind, entry}
"""

# What consumers see of an article: a change to any of these publishes ``article.updated``.
# Not counted: ``url`` (the same article reached through another URL), ``feed`` (another
# feed announcing it), ``fetched_at``, ``extractor``, and what follows from ``text``
# (``word_count``, ``content_hash``).
CONSUMER_VISIBLE = (
    "canonical_url",
    "site",
    "title",
    "authors",
    "published_at",
    "updated_at",
    "language",
    "summary",
    "text",
    "image",
    "image_caption",
    "image_credit",
    "tags",
    "section",
    "is_accessible_for_free",
    "duplicate_of",
)

# Dead letters are idempotent too: one entry per failure streak (KEYS[2] names it) within a
# day; a letter without a streak is always written.
_DEAD = """
if redis.call('SET', KEYS[2], '1', 'NX', 'EX', 86400) == false then return '' end
redis.call('HINCRBY', KEYS[3], ARGV[2], 1)
return redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', unpack(ARGV, 3))
"""

PublishOutcome = Literal["article.created", "article.updated", "duplicate", "skipped"]


@dataclass(frozen=True)
class Published:
    outcome: PublishOutcome
    entry_id: str | None


def article_json(article: Article) -> bytes:
    """The ``data`` field: the Article as compact JSON (RFC 3339 UTC datetimes)."""
    return orjson.dumps(article.model_dump(mode="json"))


def consumer_version(article: Article) -> str:
    """A hash of the fields in ``CONSUMER_VISIBLE``: what decides whether an event is news."""
    visible = article.model_dump(mode="json", include=set(CONSUMER_VISIBLE))
    return short_hash(orjson.dumps(visible, option=orjson.OPT_SORT_KEYS).decode())


class Streams:
    """The article and dead-letter streams of one key prefix."""

    def __init__(self, client: redis.Redis, settings: Settings) -> None:
        self.client = client
        self.settings = settings
        self._publish = client.register_script(_PUBLISH)
        self._dead = client.register_script(_DEAD)

    def published_key(self, article_id: str) -> str:
        return f"{self.settings.key_prefix}:published:{article_id}"

    @property
    def story_counts_key(self) -> str:
        return f"{self.settings.key_prefix}:story:counts"

    def publish(self, article: Article, *, task_id: str | None = None) -> Published:
        """Publish ``article`` if consumers have not seen this version of it (see
        ``_PUBLISH``); ``task_id`` is the task publishing it (a redelivery has the same one).
        A near-duplicate (``duplicate_of`` set) is only counted when
        ``NEWSWIRE_DUPLICATES=skip``."""
        last = self.published_key(article.id)
        task_key = f"{self.settings.key_prefix}:pubtask:{task_id}" if task_id else last
        skip = article.duplicate_of is not None and self.settings.duplicates == "skip"
        result: list[Any] = self._publish(
            keys=[self.settings.articles_stream, last, task_key, self.story_counts_key],
            args=[
                consumer_version(article),
                self.settings.stream_maxlen,
                int(self.settings.dedup_ttl_days * 86400),
                article.id,
                SCHEMA_VERSION,
                article_json(article),
                article.content_hash,
                int(self.settings.effective_visibility_timeout * 10) + 3600,
                "1" if skip else "0",
                "duplicate" if article.duplicate_of else "original",
            ],
        )
        outcome = as_text(result[1])
        record_published(outcome)
        return Published(outcome, as_text(result[2]) or None)  # type: ignore[arg-type]

    def dead_letter(self, letter: DeadLetter, *, streak: str | None = None) -> str | None:
        """Write one dead-letter entry; its stream id (``None``: this streak is reported).

        ``streak`` names one failure streak, e.g. the id of the task whose retries and
        redeliveries failed: a second letter for the same streak (a redelivered task) is
        not written, a new streak of the same item on the same day is. Without a streak
        the letter is always written (the caller reports once per streak itself).
        """
        fields = letter.to_fields()
        mark = f"{self.settings.key_prefix}:deadmark:" + _mark(letter, streak)
        flat: list[str] = []
        for name, value in fields.items():
            flat += [name, value]
        entry = self._dead(
            keys=[self.settings.dead_stream, mark, f"{self.settings.key_prefix}:dead:counts"],
            args=[self.settings.dead_stream_maxlen, letter.reason, *flat],
        )
        record_dead_letter(letter.type, letter.reason, written=bool(as_text(entry)))
        return as_text(entry) or None


def _mark(letter: DeadLetter, streak: str | None) -> str:
    if streak is None:  # no streak to deduplicate on: unique to this letter
        streak = f"{letter.failed_at.isoformat()}\x1f{letter.reason}\x1f{letter.attempts}"
    return short_hash(f"{letter.type}\x1f{letter.url}\x1f{streak}")


def group_positions(client: redis.Redis, stream: str) -> list[dict[str, Any]]:
    """Each consumer group of ``stream``: consumers, pending, lag, last delivered id, and
    entries trimmed before it read them (see :func:`trimmed_before_read`)."""
    try:
        groups: list[dict[str, Any]] = client.xinfo_groups(stream)
        info: dict[str, Any] = client.xinfo_stream(stream) if groups else {}
    except redis.ResponseError:  # no such stream yet
        return []
    return [
        {
            "name": as_text(g["name"]),
            "consumers": g["consumers"],
            "pending": g["pending"],
            "lag": g.get("lag"),
            "last_delivered": as_text(g["last-delivered-id"]),
            "trimmed_before_read": trimmed_before_read(info, g),
        }
        for g in groups
    ]
