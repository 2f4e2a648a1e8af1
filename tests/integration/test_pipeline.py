"""The service end to end on real parts: redis-server, a Celery worker and a poller as
subprocesses, and a local HTTP origin on 127.0.0.1."""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from service.embedded_redis import EmbeddedRedis
from service.registry import Registry, feed_id
from service.settings import Settings
from tests.support.origin import Origin, Response
from tests.support.processes import newswire_env, running, spawn, stop, wait_for
from tests.support.sitegen import article_html, rss_feed, serve_site

pytestmark = pytest.mark.timeout(180)


@pytest.fixture
def env(redis_server: EmbeddedRedis, redis_client: redis.Redis) -> dict[str, str]:
    return newswire_env(
        redis_server.url,
        poll_interval_max=2,
        task_max_retries=2,
        visibility_timeout=8,
        fetch_timeout=3,
        task_soft_time_limit=5,
        task_time_limit=6,
    )


@pytest.fixture
def worker(env: dict[str, str], tmp_path: Path) -> Iterator[object]:
    with running(["worker", "--pool", "prefork", "-c", "2"], env, tmp_path / "worker.log") as p:
        yield p


@pytest.fixture
def poller(env: dict[str, str], tmp_path: Path) -> Iterator[object]:
    with running(["poller"], env, tmp_path / "poller.log") as p:
        yield p


def articles(client: redis.Redis, settings: Settings) -> list[dict[str, str]]:
    return [fields for _id, fields in client.xrange(settings.articles_stream)]


def dead(client: redis.Redis, settings: Settings) -> list[dict[str, str]]:
    return [fields for _id, fields in client.xrange(settings.dead_stream)]


def add_feed(client: redis.Redis, settings: Settings, url: str) -> str:
    Registry(client, settings).add(url, None, now=0)
    return feed_id(url)


@pytest.mark.usefixtures("worker", "poller")
def test_feed_items_become_articles_once_then_updates(
    origin: Origin, redis_client: redis.Redis, settings: Settings
) -> None:
    feed = serve_site(origin, 6)
    origin.routes["/feed.xml"].etag = '"v1"'
    fid = add_feed(redis_client, settings, feed)
    wait_for(lambda: len(articles(redis_client, settings)) >= 6, timeout=60, message="6 articles")
    events = articles(redis_client, settings)
    assert [e["type"] for e in events] == ["article.created"] * 6
    datas = [json.loads(e["data"]) for e in events]
    assert sorted(d["title"] for d in datas) == sorted(
        f"Story number {i} about the {w}"
        for i, w in zip(
            range(6), ["council", "river", "budget", "storm", "harbour", "election"], strict=True
        )
    )
    assert all(d["feed"]["url"] == feed for d in datas)
    assert all(d["site"]["name"] == "Test Gazette" for d in datas)

    # Polling again with nothing new: a 304, and no new entries.
    hits = origin.count("/feed.xml")
    wait_for(lambda: origin.count("/feed.xml") >= hits + 2, timeout=20, message="re-polls")
    state = Registry(redis_client, settings).state(fid)
    assert state is not None
    assert state.last_result == "not_modified"
    assert len(articles(redis_client, settings)) == 6

    # Story 2 is edited: its page and its feed entry change -> one article.updated.
    base = origin.url("")
    origin.add("/news/2", article_html(2, base=base, version=2))
    origin.add(
        "/feed.xml",
        rss_feed(list(range(6)), base=base).replace(
            "Summary of story 2.", "Summary of story 2, corrected."
        ),
        content_type="application/rss+xml",
        etag='"v2"',
    )
    wait_for(lambda: len(articles(redis_client, settings)) >= 7, timeout=30, message="update")
    last = articles(redis_client, settings)[-1]
    assert last["type"] == "article.updated"
    story2 = next(e for e in events if json.loads(e["data"])["url"].endswith("/news/2"))
    assert last["id"] == story2["id"]
    assert "revision 2" in json.loads(last["data"])["text"]


@pytest.mark.usefixtures("worker", "poller")
def test_failing_origin_is_retried_then_dead_lettered_and_others_carry_on(
    origin: Origin, redis_client: redis.Redis, settings: Settings
) -> None:
    base = origin.url("")
    origin.add("/news/0", article_html(0, base=base))
    origin.add("/news/1", status=500, body="boom")
    origin.add("/news/2", status=429, body="slow down", headers={"Retry-After": "1"})
    origin.add("/news/3", article_html(3, base=base), delay=4.0)  # > fetch timeout (3 s)
    origin.add("/feed.xml", rss_feed([0, 1, 2, 3], base=base), content_type="application/rss+xml")
    add_feed(redis_client, settings, origin.url("/feed.xml"))
    healthy = serve_site(origin, 2, feed_path="/other.xml", start=10)
    add_feed(redis_client, settings, healthy)
    wait_for(lambda: len(dead(redis_client, settings)) >= 3, timeout=90, message="dead letters")
    by_url = {d["url"]: d for d in dead(redis_client, settings)}
    assert by_url[origin.url("/news/1")]["reason"] == "http_status"
    assert by_url[origin.url("/news/1")]["attempts"] == "3"
    assert by_url[origin.url("/news/2")]["reason"] == "http_status"
    assert by_url[origin.url("/news/3")]["reason"] == "timeout"
    assert origin.count("/news/1") == 3  # first try + 2 retries
    titles = {json.loads(e["data"])["url"] for e in articles(redis_client, settings)}
    assert {origin.url("/news/0"), origin.url("/news/10"), origin.url("/news/11")} <= titles


def test_two_pollers_never_fetch_a_feed_twice_in_one_cycle(
    origin: Origin,
    redis_client: redis.Redis,
    redis_server: EmbeddedRedis,
    settings: Settings,
    tmp_path: Path,
) -> None:
    for i in range(30):
        origin.add(
            f"/f{i}.xml",
            rss_feed([], base=origin.url("")),
            content_type="application/rss+xml",
            delay=0.05,
        )
        add_feed(redis_client, settings, origin.url(f"/f{i}.xml"))
    env = newswire_env(
        redis_server.url, poll_interval_min=60, poll_interval_default=60, poll_concurrency=5
    )
    with (
        running(["poller"], env, tmp_path / "p1.log"),
        running(["poller"], env, tmp_path / "p2.log"),
    ):
        wait_for(
            lambda: all(origin.count(f"/f{i}.xml") for i in range(30)),
            timeout=30,
            message="every feed polled",
        )
        time.sleep(1.5)  # room for a duplicate poll to show up
    counts = [origin.count(f"/f{i}.xml") for i in range(30)]
    assert counts == [1] * 30
    logs = (tmp_path / "p1.log").read_text() + (tmp_path / "p2.log").read_text()
    assert logs.count('"feed_polled"') == 30


def test_worker_killed_mid_task_still_delivers_exactly_once(
    origin: Origin,
    redis_client: redis.Redis,
    env: dict[str, str],
    settings: Settings,
    tmp_path: Path,
) -> None:
    base = origin.url("")
    first_hit: list[bool] = []

    def slow_first(_req: object) -> Response:
        slow = not first_hit
        first_hit.append(True)
        return Response(
            body=article_html(0, base=base).encode(),
            delay=3.0 if slow else 0,
            headers={"Content-Type": "text/html"},
        )

    origin.add_handler("/news/0", slow_first)
    origin.add("/feed.xml", rss_feed([0], base=base), content_type="application/rss+xml")
    add_feed(redis_client, settings, origin.url("/feed.xml"))
    with running(["poller"], env, tmp_path / "poller.log"):
        doomed = spawn(["worker", "--pool", "prefork", "-c", "1"], env, tmp_path / "w1.log")
        wait_for(lambda: origin.count("/news/0") >= 1, timeout=30, message="task started")
        stop(doomed, sig=signal.SIGKILL)
        assert articles(redis_client, settings) == []
        with running(["worker", "--pool", "prefork", "-c", "1"], env, tmp_path / "w2.log"):
            wait_for(
                lambda: articles(redis_client, settings), timeout=60, message="redelivered article"
            )
            time.sleep(2)  # room for a duplicate publish to show up
    assert len(articles(redis_client, settings)) == 1
    assert origin.count("/news/0") == 2
