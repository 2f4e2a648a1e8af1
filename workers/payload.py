"""The arguments of an article task, read defensively (pure).

A task message comes from another process, maybe of another version (a rolling upgrade):
its arguments are checked here, inside the task's error policy, so a message this version
cannot read is dead-lettered as ``bad_task`` instead of being rejected without a trace.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError

from service.caps import capped_entry
from service.errors import PermanentError, Reason
from service.models import FeedEntry


@dataclass(frozen=True)
class ArticleTask:
    url: str
    feed_url: str | None
    entry: FeedEntry | None


def label(value: object) -> str:
    """``value`` as the text of a log line or a dead letter (bounded)."""
    return value if isinstance(value, str) else repr(value)[:200]


def bad_task(detail: str) -> PermanentError:
    return PermanentError(detail[:1000], reason=Reason.BAD_TASK)


def read_task(
    url: object,
    feed_url: object,
    entry: object,
    unknown: dict[str, object],
    *,
    max_content_chars: int,
) -> ArticleTask:
    """The task's arguments, or ``PermanentError(BAD_TASK)`` saying what is wrong; the
    entry's content capped (a message from a poller that does not cap it yet)."""
    if unknown:
        raise bad_task(f"unknown task arguments: {sorted(unknown)}")
    if not isinstance(url, str) or not url:
        raise bad_task(f"url must be a non-empty string, got {label(url)}")
    if feed_url is not None and not isinstance(feed_url, str):
        raise bad_task(f"feed_url must be a string or null, got {label(feed_url)}")
    if entry is not None and not isinstance(entry, dict):
        raise bad_task(f"entry must be an object or null, got {type(entry).__name__}")
    try:
        hint = FeedEntry.model_validate(entry) if entry else None
    except ValidationError as exc:
        errors = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise bad_task(f"feed entry does not validate: {errors}") from exc
    if hint is not None:
        hint = capped_entry(hint, max_content_chars)
    return ArticleTask(url, feed_url or None, hint)
