"""Sources beyond a typed feed URL, as a user meets them: a home page's advertised feeds,
news sitemaps and sitemap indexes polled by a real poller, URLs submitted directly; real
redis-server, real Celery workers, the local origin."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import redis

from service.embedded_redis import EmbeddedRedis
from service.registry import Registry
from service.settings import Settings
from tests.e2e.test_cli import newswire
from tests.support.origin import Origin
from tests.support.processes import newswire_env, running, wait_for
from tests.support.sitegen import serve_site
from tests.support.sitemapgen import bare_article, index, news_url, plain_url, urlset

pytestmark = pytest.mark.timeout(180)


@pytest.fixture
def env(redis_server: EmbeddedRedis, redis_client: redis.Redis) -> dict[str, str]:
    return newswire_env(
        redis_server.url, poll_interval_max=2, task_max_retries=1, max_feed_bytes=200_000
    )


@pytest.fixture
def workers(env: dict[str, str], tmp_path: Path) -> Iterator[object]:
    with running(["worker", "--pool", "prefork", "-c", "2"], env, tmp_path / "worker.log") as w:
        yield w


@pytest.fixture
def poller(env: dict[str, str], tmp_path: Path) -> Iterator[object]:
    with running(["poller"], env, tmp_path / "poller.log") as p:
        yield p


def articles(client: redis.Redis, settings: Settings) -> list[dict[str, object]]:
    return [json.loads(f["data"]) for _id, f in client.xrange(settings.articles_stream)]


def dead(client: redis.Redis, settings: Settings) -> list[dict[str, str]]:
    return [fields for _id, fields in client.xrange(settings.dead_stream)]


def test_feeds_add_of_a_home_page_registers_the_feeds_it_advertises(
    origin: Origin, env: dict[str, str], redis_client: redis.Redis, settings: Settings
) -> None:
    rss = serve_site(origin, 2, feed_path="/rss.xml")
    atom = serve_site(origin, 2, feed_path="/atom.xml", start=2)
    origin.add(
        "/",
        "<html><head><link rel='alternate' type='application/rss+xml' href='/rss.xml'>"
        "<link rel='alternate' type='application/atom+xml' href='atom.xml'></head>"
        "<body>Home</body></html>",
    )
    origin.add("/robots.txt", "Sitemap: /news-sitemap.xml\n", content_type="text/plain")
    discovered = newswire("feeds", "discover", origin.url("/"), env=env)
    assert discovered.returncode == 0, discovered.stderr
    assert discovered.stdout.splitlines() == [
        f"feed {rss}",
        f"feed {atom}",
        f"sitemap {origin.url('/news-sitemap.xml')}",
    ]
    assert Registry(redis_client, settings).count() == 0  # discover registers nothing
    added = newswire("feeds", "add", origin.url("/"), env=env)
    assert added.returncode == 0, added.stderr
    assert f"feed {rss} (advertised by {origin.url('/')})" in added.stdout
    assert "added 2, already registered 0" in added.stdout
    assert sorted(Registry(redis_client, settings).urls().values()) == sorted([rss, atom])
    # a feed URL is registered as given; a page advertising nothing registers nothing
    origin.add("/empty", "<html><head><title>No feeds</title></head><body></body></html>")
    empty = newswire("feeds", "add", origin.url("/empty"), rss, env=env)
    assert empty.returncode == 1
    assert "no feed advertised" in empty.stderr
    assert "added 0, already registered 1" in empty.stdout


@pytest.mark.usefixtures("workers", "poller")
def test_news_sitemap_takes_the_recent_entries_with_their_hints(
    origin: Origin, env: dict[str, str], redis_client: redis.Redis, settings: Settings
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    recent = [
        news_url(
            origin.url(f"/story/{i}"),
            title=f"Sitemap headline {i}",
            published=(now - timedelta(hours=i + 1)).astimezone(timezone(timedelta(hours=2))),
        )
        for i in range(20)
    ]
    old = [
        plain_url(origin.url(f"/archive/{i}"), lastmod=now - timedelta(days=30 + i))
        for i in range(200)
    ]
    for i in range(20):
        origin.add(f"/story/{i}", bare_article(i))
    origin.add("/news-sitemap.xml", urlset(recent + old), content_type="application/xml")
    Registry(redis_client, settings).add(origin.url("/news-sitemap.xml"), None, now=0)
    wait_for(lambda: len(articles(redis_client, settings)) >= 20, timeout=90, message="20")
    got = {a["url"]: a for a in articles(redis_client, settings)}
    assert len(got) == 20
    assert not any(origin.count(f"/archive/{i}") for i in range(200))
    first = got[origin.url("/story/0")]
    assert first["title"] == "Sitemap headline 0"
    assert first["published_at"] == (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert first["language"] == "en"
    assert first["feed"] == {
        "url": origin.url("/news-sitemap.xml"),
        "title": "Test Gazette",
    }
    status = json.loads(newswire("status", "--json", env=env).stdout)
    assert status["sources"]["registered"] == {"feed": 0, "sitemap": 1}
    assert status["sources"]["tasks_enqueued"]["sitemap"] == 20


@pytest.mark.usefixtures("workers", "poller")
def test_sitemap_index_refuses_a_gzip_bomb_child_and_reads_the_others(
    origin: Origin, redis_client: redis.Redis, settings: Settings
) -> None:
    """Child b is a gzip *file* (served as application/x-gzip, no Content-Encoding)."""
    now = datetime.now(UTC)
    for name in ("a", "b"):
        for i in range(3):
            origin.add(f"/{name}/{i}", bare_article(i + (10 if name == "b" else 0)))
        child = urlset(
            news_url(origin.url(f"/{name}/{i}"), title=f"{name} {i}", published=now)
            for i in range(3)
        )
        if name == "b":
            origin.add("/b.xml", gzip.compress(child.encode()), content_type="application/x-gzip")
        else:
            origin.add(f"/{name}.xml", child, content_type="application/xml")
    bomb = gzip.compress(b"<urlset>" + b" " * 20_000_000 + b"</urlset>", compresslevel=9)
    origin.add(
        "/bomb.xml", bomb, content_type="application/xml", headers={"Content-Encoding": "gzip"}
    )
    children = [(origin.url(f"/{n}.xml"), now) for n in ("a", "bomb", "b")]
    origin.add("/index.xml", index(children), content_type="application/xml")
    Registry(redis_client, settings).add(origin.url("/index.xml"), None, now=0)
    wait_for(lambda: len(articles(redis_client, settings)) >= 6, timeout=90, message="6")
    wait_for(lambda: dead(redis_client, settings), timeout=30, message="a dead letter")
    (letter,) = dead(redis_client, settings)
    assert letter["type"] == "feed.failed"
    assert letter["url"] == origin.url("/bomb.xml")
    assert letter["feed_url"] == origin.url("/index.xml")
    assert letter["reason"] == "too_large"
    assert len(articles(redis_client, settings)) == 6


@pytest.mark.usefixtures("workers")
def test_submit_enqueues_urls_without_a_feed(
    origin: Origin, env: dict[str, str], redis_client: redis.Redis, settings: Settings
) -> None:
    serve_site(origin, 9)
    origin.redirect("/hostile", "http://10.255.255.1/internal")
    urls = [origin.url(f"/news/{i}") for i in range(9)] + [origin.url("/hostile")]
    stdin = ("# backfill\n" + "\n".join(urls[5:]) + "\n").encode()
    first = newswire("submit", *urls[:5], env=env)
    second = newswire("submit", "-", env=env, stdin=stdin)
    assert first.returncode == 0, first.stderr
    assert "submitted 5, refused 0" in first.stdout
    assert second.returncode == 0, second.stderr
    assert b"submitted 5, refused 0" in second.stdout
    wait_for(lambda: len(articles(redis_client, settings)) >= 9, timeout=90, message="9")
    wait_for(lambda: dead(redis_client, settings), timeout=30, message="a dead letter")
    got = articles(redis_client, settings)
    assert sorted(a["url"] for a in got) == sorted(urls[:9])
    assert all(a["feed"] is None for a in got)
    (letter,) = dead(redis_client, settings)
    assert (letter["url"], letter["reason"], letter["feed_url"]) == (
        origin.url("/hostile"),
        "blocked_address",
        "",
    )
    malformed = newswire("submit", "not a url", "ftp://x.example/", env=env)
    assert malformed.returncode == 1
    assert "refused (not an http(s) URL): not a url" in malformed.stderr
    status = json.loads(newswire("status", "--json", env=env).stdout)
    assert status["sources"]["tasks_enqueued"]["submitted"] == 10
