"""Gauges read from Redis when Prometheus scrapes: the state shared by every process.

Exported by the poller (one query batch per ``metrics_cache_seconds`` however often it is
scraped, whichever poller is scraped; several pollers report the same values, so aggregate
them with ``max``):

- ``newswire_redis_up``: 1 when Redis answered the last reading
- ``newswire_stream_length{stream}``: entries in the article and dead-letter streams
- ``newswire_consumer_group_lag{stream,group}``: entries not yet delivered to the group
- ``newswire_consumer_group_pending{stream,group}``: delivered, not yet acknowledged
- ``newswire_consumer_group_trimmed_before_read{stream,group}``: entries trimmed away before
  the group read them (while it is behind the oldest entry left)
- ``newswire_queue_depth{queue}``: article tasks waiting in the broker
- ``newswire_feeds``: registered feeds
- ``newswire_feeds_overdue``: feeds due for a poll that no poller has claimed yet
- ``newswire_redis_used_memory_bytes``: Redis ``used_memory``
- ``newswire_source_tasks_enqueued{kind}``: article tasks enqueued so far by kind of source
  (feed, sitemap, pushed, submitted; a count kept in Redis, see ``service.sources``)
- ``newswire_websub_subscriptions``: WebSub subscriptions of the deployment (any state)
- ``newswire_websub_pushes{outcome}``: content distributions received so far: accepted,
  bad_signature, too_large, unknown_subscription, or the reason a pushed body was refused
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import redis
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from service.connections import redis_client
from service.logs import get_logger
from service.observability.recent import Recent
from service.queue import broker_queue_key, queue_depth
from service.settings import Settings
from service.sources import KINDS, counts_key
from service.streams import group_positions

log = get_logger("newswire.metrics")


class RedisStateCollector(Collector):
    """A custom collector: reads Redis at most once per ``metrics_cache_seconds``."""

    def __init__(self, settings: Settings, *, timeout: float = 2.0) -> None:
        self.settings = settings
        self.client = redis_client(
            settings.effective_redis_url,
            decode_responses=True,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
        )
        self._recent = Recent(self._read, settings.metrics_cache_seconds)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily("newswire_redis_up", "1 when Redis answered the last reading.")
        try:
            families = self._recent()
        except redis.RedisError as exc:
            log.warning("metrics_redis_unavailable", error=str(exc))
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families

    def _read(self) -> list[GaugeMetricFamily]:
        s = self.settings
        streams = [s.articles_stream, s.dead_stream]
        seconds, micros = self.client.time()  # "overdue" on Redis' clock, as the schedule
        pipe = self.client.pipeline(transaction=False)
        for stream in streams:
            pipe.xlen(stream)
        key = broker_queue_key(s)
        pipe.llen(key or f"{s.key_prefix}:no-queue-here")
        pipe.hlen(f"{s.key_prefix}:feeds")
        pipe.zcount(f"{s.key_prefix}:schedule", "-inf", seconds + micros / 1e6)
        pipe.info("memory")
        pipe.hgetall(counts_key(s.key_prefix))
        pipe.zcard(f"{s.key_prefix}:websub:due")
        pipe.hgetall(f"{s.key_prefix}:websub:pushes")
        *lengths, depth, feeds, overdue, memory, by_kind, subs, pushes = pipe.execute()

        length = GaugeMetricFamily(
            "newswire_stream_length", "Entries in the stream.", labels=["stream"]
        )
        for stream, value in zip(streams, lengths, strict=True):
            length.add_metric([stream], value)
        queue = GaugeMetricFamily(
            "newswire_queue_depth", "Article tasks waiting in the broker queue.", labels=["queue"]
        )
        if key is None:  # the broker is RabbitMQ or another Redis
            depth = queue_depth(s)
        if depth is not None:
            queue.add_metric([s.article_queue], depth)
        sources = GaugeMetricFamily(
            "newswire_source_tasks_enqueued",
            "Article tasks enqueued so far, by kind of source.",
            labels=["kind"],
        )
        for kind in KINDS:
            sources.add_metric([kind], int(by_kind.get(kind, 0)))
        pushed = GaugeMetricFamily(
            "newswire_websub_pushes",
            "WebSub content distributions received so far, by outcome.",
            labels=["outcome"],
        )
        for outcome, count in sorted(pushes.items()):
            pushed.add_metric([str(outcome)], int(count))
        return [
            sources,
            pushed,
            GaugeMetricFamily(
                "newswire_websub_subscriptions", "WebSub subscriptions (any state).", value=subs
            ),
            length,
            *self._groups(streams),
            queue,
            GaugeMetricFamily("newswire_feeds", "Registered feeds.", value=feeds),
            GaugeMetricFamily(
                "newswire_feeds_overdue",
                "Feeds due for a poll that no poller has claimed yet.",
                value=overdue,
            ),
            GaugeMetricFamily(
                "newswire_redis_used_memory_bytes",
                "Redis used_memory.",
                value=memory.get("used_memory", 0),
            ),
        ]

    def _groups(self, streams: list[str]) -> list[GaugeMetricFamily]:
        lag = GaugeMetricFamily(
            "newswire_consumer_group_lag",
            "Entries of the stream not yet delivered to the consumer group.",
            labels=["stream", "group"],
        )
        pending = GaugeMetricFamily(
            "newswire_consumer_group_pending",
            "Entries delivered to the consumer group and not yet acknowledged.",
            labels=["stream", "group"],
        )
        trimmed = GaugeMetricFamily(
            "newswire_consumer_group_trimmed_before_read",
            "Entries trimmed from the stream (MAXLEN) before the consumer group read them; "
            "known while the group is behind the oldest entry left.",
            labels=["stream", "group"],
        )
        for stream in streams:
            for group in self._group_positions(stream):
                labels = [stream, str(group["name"])]
                if group["lag"] is not None:  # unknown after some trims/XDELs
                    lag.add_metric(labels, group["lag"])
                pending.add_metric(labels, group["pending"])
                if group["trimmed_before_read"] is not None:
                    trimmed.add_metric(labels, group["trimmed_before_read"])
        return [lag, pending, trimmed]

    def _group_positions(self, stream: str) -> list[dict[str, Any]]:
        return group_positions(self.client, stream)
