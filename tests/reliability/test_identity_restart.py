"""The near-duplicate index survives a Redis restart (AOF on): a copy processed after the
restart still points at the original published before it."""

from __future__ import annotations

from pathlib import Path

import redis

from service.embedded_redis import EmbeddedRedis
from tests.e2e.test_duplicates import add_feed, serve, wait_events
from tests.reliability.harness import settings_for
from tests.support.origin import Origin
from tests.support.processes import newswire_env, running
from tests.support.stories import corpus_stories


def test_a_copy_after_a_redis_restart_still_finds_its_original(
    origin: Origin, aof_redis: EmbeddedRedis, aof_client: redis.Redis, tmp_path: Path
) -> None:
    settings = settings_for(aof_redis.url)
    title, paras = corpus_stories(1)[0]
    original = serve(origin, "/story/0", title, paras, "gazette")
    with Origin(host="127.0.0.2") as site_b:
        copy = serve(
            site_b, "/wire/0", f"{title}!", ["ROME (AP) — " + paras[0], *paras[1:]], "tribune"
        )
        env = newswire_env(aof_redis.url)
        with (
            running(["worker", "--pool", "solo"], env, tmp_path / "worker.log"),
            running(["poller"], env, tmp_path / "poller.log"),
        ):
            add_feed(origin, aof_client, settings, [(original, title)])
            first = wait_events(aof_client, settings, 1)[0]
            aof_redis.restart()  # graceful: the AOF is flushed, then the server starts again
            add_feed(site_b, aof_client, settings, [(copy, title)])
            second = wait_events(aof_client, settings, 2)[1]
    assert first["duplicate_of"] is None
    assert second["url"] == copy
    assert second["duplicate_of"] == first["id"]
