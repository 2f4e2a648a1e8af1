"""Origins misbehave, through the whole pipeline (poller, real workers, real Redis): each fault
ends in exactly one article or exactly one dead letter with the right reason and attempt
count, retries wait (and honour ``Retry-After``), and a healthy feed beside them is unaffected.

tests/integration/test_pipeline.py already covers 500 (three attempts), 429 with a short
``Retry-After`` and a slow page (``timeout``); this covers the rest.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
import redis

from service.embedded_redis import EmbeddedRedis
from service.registry import Registry
from service.settings import Settings
from tests.reliability.harness import (
    FAULT_ENV,
    fault_env,
    start_poller,
    start_worker,
    wait_settled,
)
from tests.support.faults import dead_letters, record_figures, tally
from tests.support.origin import Origin, Response
from tests.support.processes import stop, wait_for
from tests.support.sitegen import article_html, rss_feed

RETRIES = int(FAULT_ENV["task_max_retries"])  # type: ignore[call-overload]


def failing_then(
    origin: Origin, i: int, failures: list[Response]
) -> Callable[[BaseHTTPRequestHandler], Response]:
    """``/news/{i}`` answers ``failures`` in turn, then the article."""
    answers = iter(failures)
    page = Response(
        body=article_html(i, base=origin.url("")).encode(),
        headers={"Content-Type": "text/html; charset=utf-8"},
    )
    return lambda _req: next(answers, page)


def html_page(i: int, base: str) -> bytes:
    return article_html(i, base=base).encode()


@pytest.mark.timeout(150)
def test_origin_faults_end_in_one_article_or_one_dead_letter(
    origin: Origin,
    redis_client: redis.Redis,
    redis_server: EmbeddedRedis,
    settings: Settings,
    tmp_path: Path,
) -> None:
    base = origin.url("")
    other = f"http://localhost:{origin.port}"  # another host name, same allowed address
    recovers = {
        0: [Response(status=503, headers={"Retry-After": "2"})],
        1: [Response(status=500), Response(status=502)],
        2: [Response(reset=True)],
        3: [
            Response(
                body=html_page(3, base), truncate_to=300, headers={"Content-Type": "text/html"}
            )
        ],
    }
    for i, failures in recovers.items():
        origin.add_handler(f"/news/{i}", failing_then(origin, i, failures))
    origin.add("/news/4", status=500, body="down for good")
    origin.add("/news/5", reset=True)
    origin.add("/news/6", html_page(6, base), truncate_to=500)
    origin.add("/news/7", status=429, headers={"Retry-After": "60"})  # past the retry window
    origin.add("/news/8", status=404)
    origin.redirect("/news/9", "/moved/9", status=301)
    origin.redirect("/moved/9", "/final/9", status=302)
    origin.add("/final/9", html_page(9, base))
    origin.redirect("/news/10", f"{other}/elsewhere/10", status=307)
    origin.add("/elsewhere/10", html_page(10, base))
    origin.redirect("/news/11", "http://169.254.169.254/latest/meta-data/", status=302)
    origin.add(
        "/feed.xml", rss_feed(list(range(12)), base=base), content_type="application/rss+xml"
    )
    for i in range(100, 110):  # a healthy feed on the same host
        origin.add(f"/news/{i}", html_page(i, base))
    origin.add(
        "/ok.xml", rss_feed(list(range(100, 110)), base=base), content_type="application/rss+xml"
    )
    healthy_urls = {origin.url(f"/news/{i}") for i in range(100, 110)}
    registry = Registry(redis_client, settings)
    for feed in ("/feed.xml", "/ok.xml"):
        registry.add(origin.url(feed), None, now=0)

    env = fault_env(redis_server.url)
    worker = start_worker(env, tmp_path / "worker.log")
    poller = start_poller(env, tmp_path / "poller.log")
    started = time.monotonic()
    try:
        expected_articles = 4 + 2 + 10  # recovered, redirected, healthy
        wait_settled(redis_client, settings.articles_stream, expected_articles, timeout=90)
        wait_for(
            lambda: len(dead_letters(redis_client, settings.dead_stream)) >= 6,
            timeout=60,
            message="six dead letters",
        )
        time.sleep(1.0)
    finally:
        stop(poller)
        stop(worker)
    elapsed = time.monotonic() - started

    published = {
        json.loads(f["data"])["url"]: f for _i, f in redis_client.xrange(settings.articles_stream)
    }
    url = origin.url
    wanted = {url(f"/news/{i}") for i in range(4)} | {url("/final/9"), f"{other}/elsewhere/10"}
    assert set(published) == wanted | healthy_urls
    result = tally(redis_client, settings.articles_stream, wanted | healthy_urls)
    assert result.exact

    dead = {d["url"]: d for d in dead_letters(redis_client, settings.dead_stream)}
    outcome = {
        path: (dead[url(path)]["reason"], int(dead[url(path)]["attempts"]))
        for path in ("/news/4", "/news/5", "/news/6", "/news/7", "/news/8", "/news/11")
    }
    assert outcome == {
        "/news/4": ("http_status", RETRIES + 1),
        "/news/5": ("connection_error", RETRIES + 1),
        "/news/6": ("connection_error", RETRIES + 1),  # truncated body
        "/news/7": ("http_status", 1),  # Retry-After beyond what a retry can wait
        "/news/8": ("http_status", 1),
        "/news/11": ("blocked_address", 1),
    }
    assert len(dead) == 6
    assert "Retry-After" in dead[url("/news/7")]["detail"]
    assert origin.count("/news/7") == 1
    assert origin.count("/news/8") == 1
    assert origin.count("/news/11") == 1

    # Retries wait: Retry-After (2 s) honoured; back-off between the other attempts.
    first, second = origin.times("/news/0")[:2]
    assert second - first >= 2.0
    gaps = [
        b - a
        for path in ("/news/4", "/news/5", "/news/6")
        for a, b in itertools.pairwise(origin.times(path))
    ]
    assert min(gaps) >= 0.1  # retry_backoff 0.2 s with full jitter: at least half of it
    assert all(origin.count(f"/news/{i}") == RETRIES + 1 for i in (4, 5, 6))

    record_figures(
        "origin_faults",
        elapsed_s=round(elapsed, 1),
        articles_expected=len(wanted | healthy_urls),
        on_stream=result.on_stream,
        duplicates=result.duplicates,
        lost=len(result.missing),
        dead_letters={p: f"{r} x{a}" for p, (r, a) in outcome.items()},
        retry_after_2s_waited_s=round(second - first, 2),
        min_backoff_s=round(min(gaps), 2),
    )
