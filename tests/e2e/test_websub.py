"""WebSub push end to end: a local hub (tests/support/hub.py), a real poller serving the
callback, real Celery workers, real Redis, the local origin."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from service.embedded_redis import EmbeddedRedis, free_port
from service.registry import Registry, feed_id
from service.settings import Settings
from tests.e2e.test_cli import newswire
from tests.support.hub import Hub, post
from tests.support.origin import Origin
from tests.support.processes import newswire_env, running, wait_for
from tests.support.sitegen import article_html, rss_feed

pytestmark = pytest.mark.timeout(240)


def hub_feed(items: list[int], *, base: str, hub: str, topic: str) -> bytes:
    """The test site's RSS feed, advertising its hub and its own URL (the topic)."""
    rss = rss_feed(items, base=base)
    rss = rss.replace(
        '<rss version="2.0">', '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">'
    )
    links = f'<atom:link rel="hub" href="{hub}"/><atom:link rel="self" href="{topic}"/>'
    return rss.replace("<channel>", f"<channel>{links}", 1).encode()


@pytest.fixture
def hub() -> Iterator[Hub]:
    with Hub(lease_seconds=4) as server:
        yield server


@pytest.fixture
def env(redis_server: EmbeddedRedis, redis_client: redis.Redis) -> dict[str, str]:
    port = free_port()
    return newswire_env(
        redis_server.url,
        poll_interval_max=2,
        task_max_retries=1,
        public_url=f"http://127.0.0.1:{port}",
        websub_listen=f"127.0.0.1:{port}",
        websub_poll_interval=3600,
    )


@pytest.fixture
def services(env: dict[str, str], tmp_path: Path) -> Iterator[None]:
    with (
        running(["worker", "--pool", "prefork", "-c", "2"], env, tmp_path / "worker.log"),
        running(["poller"], env, tmp_path / "poller.log"),
    ):
        yield


def urls(client: redis.Redis, settings: Settings) -> list[str]:
    return [json.loads(f["data"])["url"] for _id, f in client.xrange(settings.articles_stream)]


def serve(origin: Origin, hub: Hub, items: list[int]) -> str:
    base, topic = origin.url(""), origin.url("/feed.xml")
    for i in items:
        origin.add(f"/news/{i}", article_html(i, base=base))
    origin.add(
        "/feed.xml",
        hub_feed(items, base=base, hub=hub.url, topic=topic),
        content_type="application/rss+xml",
    )
    return topic


def pushes(client: redis.Redis, settings: Settings) -> dict[str, str]:
    return dict(client.hgetall(f"{settings.key_prefix}:websub:pushes"))


@pytest.mark.usefixtures("services")
def test_subscribe_push_renew_and_fall_back_to_polling(
    origin: Origin,
    hub: Hub,
    env: dict[str, str],
    redis_client: redis.Redis,
    settings: Settings,
    tmp_path: Path,
) -> None:
    topic = serve(origin, hub, [0, 1])
    fid = feed_id(topic)
    registry = Registry(redis_client, settings)
    registry.add(topic, None, now=0)
    wait_for(lambda: hub.verified(topic), timeout=60, message="subscription verified")
    wait_for(lambda: len(urls(redis_client, settings)) >= 2, timeout=60, message="2 articles")
    callback = f"{env['NEWSWIRE_PUBLIC_URL']}/websub/{fid}"
    assert hub.requests[0]["hub.callback"] == callback
    assert len(hub.requests[0]["hub.secret"]) >= 32
    # verification of intent: only for what this deployment asked
    assert hub.verify_forged(callback, "http://127.0.0.1:1/other-topic") == 404

    # while subscribed, the next poll is the safety net
    def safety_net() -> bool:
        state = registry.state(fid)
        return state is not None and state.next_poll_at - state.last_poll_at >= 3000

    wait_for(safety_net, timeout=30, message="safety-net interval")

    # a push with a bad signature is refused and counted; its item never arrives
    base = origin.url("")
    for i in (2, 3, 4, 5, 6):
        origin.add(f"/news/{i}", article_html(i, base=base))
    forged = hub_feed([2], base=base, hub=hub.url, topic=topic)
    assert hub.publish(topic, forged, bad_signature=True) == [202]
    assert pushes(redis_client, settings)["bad_signature"] == "1"
    # signed pushes (every method of the spec) carrying old and new items: new ones only
    for i, method in ((3, "sha256"), (4, "sha1"), (5, "sha384"), (6, "sha512")):
        body = hub_feed([0, 1, i], base=base, hub=hub.url, topic=topic)
        assert hub.publish(topic, body, method=method) == [202]
    wanted = {origin.url(f"/news/{i}") for i in (0, 1, 3, 4, 5, 6)}
    wait_for(lambda: set(urls(redis_client, settings)) >= wanted, timeout=60, message="pushed")
    got = urls(redis_client, settings)
    assert sorted(got) == sorted(wanted)  # one article each, nothing from the forged push
    assert pushes(redis_client, settings)["accepted"] == "4"
    status = json.loads(newswire("status", "--json", env=env).stdout)
    assert status["sources"]["tasks_enqueued"]["pushed"] == 4
    (sub,) = status["websub"]["subscriptions"]
    assert (sub["feed"], sub["hub"], sub["state"]) == (topic, hub.url, "active")
    assert "secret" not in json.dumps(status)

    # leases are renewed before they end (the hub grants 4 s)
    wait_for(lambda: hub.verified(topic) >= 2, timeout=30, message="lease renewed")

    # hub gone: the lease lapses and polling resumes at the feed's own interval
    hub.stop_accepting()
    polls = origin.count("/feed.xml")
    log = tmp_path / "poller.log"
    wait_for(lambda: "websub_request_failed" in log.read_text(), timeout=30, message="hub error")
    wait_for(lambda: origin.count("/feed.xml") > polls + 1, timeout=60, message="polls again")

    def normal_interval() -> bool:
        state = registry.state(fid)
        return state is not None and state.next_poll_at - state.last_poll_at <= 10

    wait_for(normal_interval, timeout=30, message="normal interval")


@pytest.mark.usefixtures("services")
def test_removing_a_feed_unsubscribes(
    origin: Origin, hub: Hub, env: dict[str, str], redis_client: redis.Redis, settings: Settings
) -> None:
    topic = serve(origin, hub, [0])
    Registry(redis_client, settings).add(topic, None, now=0)
    wait_for(lambda: hub.verified(topic), timeout=60, message="subscription verified")
    removed = newswire("feeds", "remove", topic, env=env)
    assert removed.returncode == 0, removed.stderr
    wait_for(lambda: hub.verified(topic, "unsubscribe"), timeout=30, message="unsubscribed")
    assert not redis_client.exists(f"{settings.key_prefix}:websub:{feed_id(topic)}")
    # a push that still comes is refused: 410 Gone tells the hub to stop
    callback = f"{env['NEWSWIRE_PUBLIC_URL']}/websub/{feed_id(topic)}"
    assert post(callback, b"<rss/>", {"X-Hub-Signature": "sha256=00"}) == 410
