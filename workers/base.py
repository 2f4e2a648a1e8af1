"""Shared rules of every newswire task, in one place (the tasks themselves stay thin).

- per-process resources (Redis client, fetcher, streams), created lazily after the fork;
- a delivery count per task attempt: a task that keeps killing its worker (poison page) is
  dead-lettered as ``worker_lost`` after ``max_deliveries`` instead of running forever;
- transient errors retried with exponential back-off and jitter, never longer than the
  broker's visibility timeout; permanent errors and exhausted retries dead-lettered;
- no per-host fetch slot in time (``HostBusy``): sent again for later, no retry counted;
- Redis unavailable (connection lost, timeout, loading, read-only replica after a failover,
  out of memory): the message is requeued, never acknowledged and dropped; any other Redis
  error (a Lua script error, a wrong type: a bug, not an outage) is dead-lettered at once
  as ``internal_error``, so it is seen, not requeued until it ends as ``worker_lost``;
- each failure streak (one task id, whatever its retries and redeliveries) is dead-lettered
  once;
- a hard time limit requeues the message (so the delivery count ends a task that hangs).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import redis
from celery import Task
from celery.exceptions import Reject, Retry, SoftTimeLimitExceeded
from celery.worker.request import Request
from kombu.exceptions import OperationalError

from service.connections import redis_client
from service.errors import HostBusy, IngestError, PermanentError, Reason, TransientError
from service.fetching.polite import PoliteFetcher
from service.identity.index import StoryIndex
from service.logs import get_logger
from service.models import DeadLetter
from service.observability.fetching import MeteredFetcher
from service.settings import Settings
from service.streams import Streams

log = get_logger("newswire.worker")
MIN_AMQP_COUNTDOWN = 1.0

# Redis errors that say "unavailable for now" (requeue the task); every other RedisError is
# an answer to a command this code sent (a bug: dead-letter it).
REDIS_UNAVAILABLE: tuple[type[Exception], ...] = (
    redis.ConnectionError,  # incl. BusyLoadingError, AuthenticationError
    redis.TimeoutError,
    redis.exceptions.ReadOnlyError,  # a replica after a failover
    redis.exceptions.OutOfMemoryError,
    redis.exceptions.TryAgainError,
    redis.exceptions.ClusterDownError,
    OperationalError,  # kombu: the broker
)


def redis_unavailable(exc: BaseException) -> bool:
    return isinstance(exc, REDIS_UNAVAILABLE)


class RequeueOnHardTimeout(Request):
    """A task killed by its hard time limit goes back to the queue instead of being acked."""

    def on_timeout(self, soft: bool, timeout: float) -> None:
        if soft:
            super().on_timeout(soft, timeout)
            return
        log.warning("task_hard_timeout", task_id=self.id, timeout=timeout)
        self.reject(requeue=True)


class Resources:
    """What a worker process needs; built on first use, i.e. in the child after the fork."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.redis = redis_client(
            settings.effective_redis_url,
            socket_timeout=10,
            socket_connect_timeout=5,
            health_check_interval=10,
            retry_on_timeout=True,
        )
        self.streams = Streams(self.redis, settings)
        self.stories = StoryIndex(self.redis, settings)  # near-duplicates (duplicate_of)
        self.fetcher = MeteredFetcher(settings)  # a Fetcher that records fetch metrics
        # Article pages: robots.txt and the per-host slots (shared in Redis) first.
        self.pages = PoliteFetcher(self.fetcher, self.redis, settings)


class NewswireTask(Task[Any, str]):
    """Base class of newswire tasks: see the module docstring."""

    abstract = True
    Request = "workers.base:RequeueOnHardTimeout"
    _resources: Resources | None = None

    @property
    def settings(self) -> Settings:
        settings: Settings = self.app.conf.newswire_settings
        return settings

    @property
    def resources(self) -> Resources:
        if NewswireTask._resources is None:
            NewswireTask._resources = Resources(self.settings)
        return NewswireTask._resources

    def count_delivery(self) -> int:
        """How many times this attempt of this task has been delivered (1 the first time)."""
        key = f"{self.settings.key_prefix}:deliveries:{self.request.id}:{self.request.retries}"
        pipe = self.resources.redis.pipeline(transaction=False)  # one round trip, no MULTI
        pipe.incr(key)
        pipe.expire(key, int(self.settings.effective_visibility_timeout * 10) + 3600)
        return int(pipe.execute()[0])

    def retry_delay(self, error: TransientError) -> float:
        """Exponential back-off with full jitter, honouring Retry-After, below the
        visibility timeout (a longer ETA would be redelivered before it is due)."""
        base = self.settings.retry_backoff * (2.0**self.request.retries)
        delay = random.uniform(base / 2, base)  # noqa: S311 - jitter, not crypto
        if error.retry_after:
            delay = max(delay, error.retry_after)
        if self.settings.broker_kind == "amqp":
            # RabbitMQ's native delayed delivery counts whole seconds and refuses a countdown
            # that rounds down to 0 (the retry would not be sent).
            delay = max(delay, MIN_AMQP_COUNTDOWN)
        return min(delay, self.longest_retry_delay)

    @property
    def longest_retry_delay(self) -> float:
        return self.settings.effective_visibility_timeout * 0.8

    def guarded(self, url: str, feed_url: str | None, work: Callable[[], str]) -> str:
        """Run ``work()`` under the shared error policy; returns the outcome name.

        Redis or the broker unavailable at any step: the message is requeued (rejected with
        requeue; if even that cannot reach Redis, it stays unacknowledged and the broker
        redelivers it after the visibility timeout) — never acknowledged and dropped.
        """
        try:
            return self._guarded(url, feed_url, work)
        except redis.RedisError as exc:
            if redis_unavailable(exc):
                raise self.requeue_error(exc) from exc
            return self.redis_bug(url, feed_url, exc)
        except OperationalError as exc:
            raise self.requeue_error(exc) from exc

    @staticmethod
    def requeue_error(exc: Exception) -> Reject:
        log.warning("redis_unavailable_requeue", error=str(exc))
        return Reject(str(exc), requeue=True)

    def redis_bug(self, url: str, feed_url: str | None, exc: redis.RedisError) -> str:
        """Redis refused a command (a script error, a wrong type): dead-letter, don't retry.

        If even the dead letter cannot be written for such a reason, the task is dropped
        with an error log (requeued, it would fail the same way for ever)."""
        log.error("redis_command_failed", error=f"{type(exc).__name__}: {exc}")
        error = IngestError(f"Redis refused a command: {type(exc).__name__}: {exc}")
        try:
            return self.dead(url, feed_url, error)
        except redis.RedisError as again:
            if redis_unavailable(again):
                raise self.requeue_error(again) from again
            log.error("dead_letter_failed", error=f"{type(again).__name__}: {again}")
            raise Reject(str(again), requeue=False) from again

    def _guarded(self, url: str, feed_url: str | None, work: Callable[[], str]) -> str:
        if self.count_delivery() > self.settings.max_deliveries:
            return self.dead(
                url,
                feed_url,
                IngestError(
                    f"delivered {self.settings.max_deliveries} times without finishing "
                    "(the task kills or hangs its worker)",
                    reason=Reason.WORKER_LOST,
                ),
            )
        try:
            return work()
        except SoftTimeLimitExceeded:
            return self.transient(
                url,
                feed_url,
                TransientError("task soft time limit exceeded", reason=Reason.TIMEOUT),
            )
        except HostBusy as exc:
            return self.defer(exc)
        except TransientError as exc:
            return self.transient(url, feed_url, exc)
        except PermanentError as exc:
            return self.dead(url, feed_url, exc)
        except (redis.RedisError, OperationalError, Retry):
            raise
        except Exception as exc:
            log.exception("task_bug")
            return self.dead(url, feed_url, IngestError(f"{type(exc).__name__}: {exc}"))

    def defer(self, exc: HostBusy) -> str:
        """Send this task again for later, same arguments and retry count (a new message:
        waiting for a per-host slot is not a failed attempt); this one is acknowledged."""
        base = self.settings.retry_backoff
        delay = min(random.uniform(base, 2 * base), self.longest_retry_delay)  # noqa: S311
        again = self.signature_from_request(
            countdown=delay,
            retries=self.request.retries,
            task_id=uuid.uuid4().hex,  # its own delivery count (the slot wait is no delivery)
        )
        again.apply_async()
        log.info("task_deferred", detail=exc.detail, countdown=delay)
        return "deferred"

    def transient(self, url: str, feed_url: str | None, exc: TransientError) -> str:
        if self.request.retries >= self.settings.task_max_retries:
            return self.dead(url, feed_url, exc)
        if exc.retry_after and exc.retry_after > self.longest_retry_delay:
            # Honour Retry-After: no request before it. A retry cannot wait that long.
            return self.dead(
                url,
                feed_url,
                TransientError(
                    f"{exc.detail}; Retry-After {exc.retry_after:g} s is longer than a retry "
                    f"can wait ({self.longest_retry_delay:g} s)",
                    reason=exc.reason,
                ),
            )
        delay = self.retry_delay(exc)
        log.info(
            "task_retry",
            reason=exc.reason.value,
            detail=exc.detail,
            countdown=delay,
            retries=self.request.retries,
        )
        raise self.retry(countdown=delay, max_retries=self.settings.task_max_retries)

    def dead(self, url: str, feed_url: str | None, exc: IngestError) -> str:
        letter = DeadLetter(
            type="article.failed",
            url=url,
            feed_url=feed_url or "",
            reason=exc.reason.value,
            detail=exc.detail,
            attempts=self.request.retries + 1,
            failed_at=datetime.now(UTC),
        )
        # One letter per task (its id survives retries and redeliveries): one per streak.
        self.resources.streams.dead_letter(letter, streak=self.request.id)
        log.warning(
            "article_failed", reason=exc.reason.value, detail=exc.detail, attempts=letter.attempts
        )
        return f"dead:{exc.reason.value}"
