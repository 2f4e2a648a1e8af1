"""The test harness itself: the real Redis and the local origin behave as the suite expects."""

from __future__ import annotations

import httpx
import redis

from tests.support.origin import Origin


def test_redis_is_real_and_supports_streams(redis_client: redis.Redis) -> None:
    info = redis_client.info("server")
    assert int(str(info.get("redis_version", "0")).split(".")[0]) >= 6
    redis_client.xadd("s", {"a": "1"})
    redis_client.xgroup_create("s", "g", id="0")
    claimed = redis_client.xautoclaim("s", "g", "c", min_idle_time=0)
    assert claimed[0] == "0-0"


def test_origin_serves_conditional_get(origin: Origin) -> None:
    origin.add("/feed", b"<rss/>", etag='"v1"', content_type="application/rss+xml")
    first = httpx.get(origin.url("/feed"))
    assert first.status_code == 200
    assert first.headers["etag"] == '"v1"'
    second = httpx.get(origin.url("/feed"), headers={"If-None-Match": '"v1"'})
    assert second.status_code == 304
    assert origin.count("/feed") == 2
