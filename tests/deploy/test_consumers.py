"""The documented consumers run against a real Redis: docs/examples/node-consumer (npm ci from
the registry into a temporary directory; skipped only when node/npm are absent)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import redis

from service.embedded_redis import EmbeddedRedis
from service.settings import Settings
from service.streams import Streams
from tests.deploy.helpers import REPO, npm_install
from tests.deploy.test_contract import article

NODE_EXAMPLE = REPO / "docs" / "examples" / "node-consumer"


@pytest.mark.timeout(240)
def test_node_consumer_reads_each_event_once_and_takes_over_a_dead_consumers_entries(
    tmp_path: Path, redis_server: EmbeddedRedis, redis_client: redis.Redis, settings: Settings
) -> None:
    consumer = npm_install(NODE_EXAMPLE, tmp_path)
    streams = Streams(redis_client, settings)
    published = [article(i, f"Text of story {i}, first version.") for i in range(4)]
    for item in published:
        streams.publish(item)
    streams.publish(article(0, "Text of story 0, second version."))  # article.updated
    stream, group = settings.articles_stream, "indexer"
    # a consumer of the group takes the first entry and dies without XACK
    redis_client.xgroup_create(stream, group, id="0")
    redis_client.xreadgroup(group, "dead-consumer", {stream: ">"}, count=1)

    env = {
        **os.environ,
        "REDIS_URL": redis_server.url,
        "STREAM": stream,
        "GROUP": group,
        "CONSUMER": "node-1",
        "RECLAIM_IDLE_MS": "0",
        "MAX_EVENTS": "5",
        "IDLE_EXIT_MS": "5000",
    }
    done = subprocess.run(
        ["node", "consumer.mjs"],
        cwd=consumer,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines()]
    entries = redis_client.xrange(stream)
    assert [e["stream_id"] for e in events] == [entry_id for entry_id, _f in entries]
    assert [e["type"] for e in events] == ["article.created"] * 4 + ["article.updated"]
    assert [e["id"] for e in events] == [a.id for a in published] + [published[0].id]
    assert events[0]["title"] == "Story 0"
    pending = redis_client.xpending(stream, group)
    assert pending["pending"] == 0  # every entry acknowledged, the dead consumer's included
    info = {g["name"]: g for g in redis_client.xinfo_groups(stream)}
    assert info[group]["lag"] == 0
