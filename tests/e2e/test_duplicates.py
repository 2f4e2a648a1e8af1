"""One story, one event: copies of a story on other sites carry their original's id
(``duplicate_of``), with real `newswire worker` and `newswire poller` processes, a real
Redis and several sites on loopback addresses of the local origin."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from service.cli.status import collect_status
from service.embedded_redis import free_port
from service.registry import Registry
from service.settings import Settings
from tests.reliability.harness import broker_idle
from tests.support.origin import Origin
from tests.support.processes import newswire_env, running, wait_for
from tests.support.stories import corpus_stories, feed_of, story_page

pytestmark = pytest.mark.timeout(240)


@pytest.fixture
def site_b() -> Iterator[Origin]:
    with Origin(host="127.0.0.2") as server:
        yield server


def events(client: redis.Redis, settings: Settings) -> list[dict[str, Any]]:
    out = []
    for _, fields in client.xrange(settings.articles_stream):
        out.append({"type": fields["type"], **json.loads(fields["data"])})
    return out


def ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def serve(site: Origin, path: str, headline: str, paras: list[str], template: str) -> str:
    url = site.url(path)
    site.add(path, story_page(headline, paras, url=url, template=template))
    return url


def add_feed(site: Origin, client: redis.Redis, settings: Settings, items: list[Any]) -> None:
    site.add("/feed.xml", feed_of(items), content_type="application/rss+xml")
    Registry(client, settings).add(site.url("/feed.xml"), None, now=0)


def wait_events(client: redis.Redis, settings: Settings, n: int) -> list[dict[str, Any]]:
    wait_for(
        lambda: client.xlen(settings.articles_stream) >= n and broker_idle(client),
        timeout=150,
        interval=0.2,
        message=f"{n} article events",
    )
    return events(client, settings)


def test_copies_point_at_their_originals_and_an_update_keeps_its_id(
    origin: Origin, site_b: Origin, redis_client: redis.Redis, settings: Settings, tmp_path: Path
) -> None:
    stories = corpus_stories(3)
    originals = [
        (serve(origin, f"/story/{i}", title, paras, "gazette"), title)
        for i, (title, paras) in enumerate(stories)
    ]
    env = newswire_env(settings.effective_redis_url)
    with (
        running(["worker", "--pool", "prefork", "-c", "2"], env, tmp_path / "worker.log"),
        running(["poller"], env, tmp_path / "poller.log"),
    ):
        add_feed(origin, redis_client, settings, originals)
        first = wait_events(redis_client, settings, 3)
        ids = {e["url"]: e["id"] for e in first}
        copies = [
            (
                serve(
                    site_b,
                    f"/wire/{i}",
                    f"{title} (wire copy)",
                    [f"LONDON (AP) — {paras[0]}", *paras[1:-1]],
                    "tribune",
                ),
                title,
            )
            for i, (title, paras) in enumerate(stories)
        ]
        add_feed(site_b, redis_client, settings, copies)
        both = wait_events(redis_client, settings, 6)
        # an update of the first original at its own URL (and in its feed)
        title, paras = stories[0]
        serve(origin, "/story/0", title, [*paras, "Update: the minister has resigned."], "gazette")
        add_feed(origin, redis_client, settings, [(originals[0][0], f"{title} (updated)")])
        updated = wait_events(redis_client, settings, 7)[-1]
    assert [e["duplicate_of"] for e in first] == [None, None, None]
    by_url = {e["url"]: e for e in both}
    for i, (url, _) in enumerate(copies):
        assert by_url[url]["type"] == "article.created"
        assert by_url[url]["duplicate_of"] == ids[originals[i][0]]
    assert len({e["id"] for e in both}) == 6
    assert updated["type"] == "article.updated"
    assert updated["id"] == ids[originals[0][0]]
    assert updated["duplicate_of"] is None
    assert updated["text"].endswith("Update: the minister has resigned.")


def test_three_copies_in_one_poll_make_exactly_one_original(
    origin: Origin, redis_client: redis.Redis, settings: Settings, tmp_path: Path
) -> None:
    title, paras = corpus_stories(1)[0]
    sites = [Origin(host=f"127.0.0.{n}") for n in (3, 4, 5)]
    with sites[0], sites[1], sites[2]:
        items = []
        for n, site in enumerate(sites):
            url = site.url(f"/news/{n}")
            text = [f"Copy {n}: {paras[0]}", *paras[1:]]
            site.add(f"/news/{n}", story_page(title, text, url=url), delay=0.3)
            items.append((url, title))
        env = newswire_env(settings.effective_redis_url)
        ports = [free_port(), free_port()]
        with (
            running(
                ["worker", "--pool", "solo"],
                {**env, "NEWSWIRE_METRICS_PORT": str(ports[0])},
                tmp_path / "worker1.log",
            ),
            running(
                ["worker", "--pool", "solo"],
                {**env, "NEWSWIRE_METRICS_PORT": str(ports[1])},
                tmp_path / "worker2.log",
            ),
            running(["poller"], env, tmp_path / "poller.log"),
        ):
            for port in ports:  # both workers consume before the three copies are enqueued
                wait_for(lambda port=port: ready(port), timeout=60, message=f"worker :{port} ready")
            add_feed(origin, redis_client, settings, items)
            found = wait_events(redis_client, settings, 3)
    originals = [e for e in found if e["duplicate_of"] is None]
    assert len(found) == 3
    assert len(originals) == 1
    assert {e["duplicate_of"] for e in found if e["duplicate_of"]} == {originals[0]["id"]}
    workers = [(tmp_path / f"worker{n}.log").read_text() for n in (1, 2)]
    assert all("article_done" in log for log in workers), "both workers took a copy"


def test_skip_mode_leaves_copies_off_the_stream_and_counts_them(
    origin: Origin, site_b: Origin, redis_client: redis.Redis, settings: Settings, tmp_path: Path
) -> None:
    title, paras = corpus_stories(1)[0]
    original = serve(origin, "/story/0", title, paras, "gazette")
    copies = [
        (
            serve(
                site_b, f"/wire/{n}", f"{title} {n}", [f"({n}) {paras[0]}", *paras[1:]], "tribune"
            ),
            title,
        )
        for n in range(2)
    ]
    env = newswire_env(settings.effective_redis_url, duplicates="skip")
    with (
        running(["worker", "--pool", "solo"], env, tmp_path / "worker.log"),
        running(["poller"], env, tmp_path / "poller.log"),
    ):
        add_feed(origin, redis_client, settings, [(original, title)])
        wait_events(redis_client, settings, 1)
        add_feed(site_b, redis_client, settings, copies)
        wait_for(
            lambda: (
                collect_status(redis_client, settings)["stories"]["duplicate"] == 2
                and broker_idle(redis_client)
            ),
            timeout=150,
            interval=0.2,
            message="two copies counted",
        )
    assert [e["url"] for e in events(redis_client, settings)] == [original]
    assert collect_status(redis_client, settings)["stories"] == {
        "original": 1,
        "duplicate": 2,
        "skipped": 2,
        "duplicate_rate": pytest.approx(2 / 3, abs=1e-4),
    }
