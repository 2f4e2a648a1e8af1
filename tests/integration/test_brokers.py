"""The broker choices with real servers and real workers: two key prefixes side by side on
one Redis database, RabbitMQ (quorum queues), and a Redis found through Sentinel."""

from __future__ import annotations

import base64
import json
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
import redis
from kombu.exceptions import OperationalError

from service.connections import redis_client
from service.embedded_redis import EmbeddedRedis
from service.queue import FETCH_ARTICLE, Enqueuer, queue_depth
from service.settings import Settings
from tests.support.engines import RabbitMQ, SentinelGroup
from tests.support.origin import Origin, Response
from tests.support.processes import newswire_env, running, wait_for
from tests.support.proxy import StallingProxy
from tests.support.sitegen import article_html


def serve_pages(origin: Origin, numbers: range) -> list[str]:
    for i in numbers:
        origin.add(f"/news/{i}", article_html(i, base=origin.url("")))
    return [origin.url(f"/news/{i}") for i in numbers]


def stream_urls(client: redis.Redis, stream: str) -> list[str]:
    return [json.loads(fields["data"])["url"] for _id, fields in client.xrange(stream)]


def enqueue(settings: Settings, urls: list[str]) -> None:
    enqueuer = Enqueuer(settings)
    try:
        for url in urls:
            enqueuer.enqueue(url, "http://feed.example/", None)
    finally:
        enqueuer.close()


def worker(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    return running(["worker", "--pool", "solo"], env, log)


@pytest.mark.timeout(120)
def test_two_key_prefixes_on_one_redis_database_take_only_their_own_tasks(
    origin: Origin, redis_server: EmbeddedRedis, redis_client: redis.Redis, tmp_path: Path
) -> None:
    """Before the prefix applied to the queue and kombu's keys, both deployments consumed
    `newswire.articles` and published each other's articles on their own streams."""
    urls = {"blue": serve_pages(origin, range(0, 6)), "green": serve_pages(origin, range(6, 12))}
    deployments = {
        prefix: Settings(redis_url=redis_server.url, key_prefix=prefix) for prefix in urls
    }
    for prefix, settings in deployments.items():
        enqueue(settings, urls[prefix])  # queued before any worker runs
    with ExitStack() as stack:
        for prefix in urls:
            env = newswire_env(redis_server.url, key_prefix=prefix)
            stack.enter_context(worker(env, tmp_path / f"{prefix}.log"))
        for settings in deployments.values():
            wait_for(
                lambda s=settings: redis_client.xlen(s.articles_stream) >= 6,
                timeout=60,
                message=f"six articles on {settings.articles_stream}",
            )
    for prefix, settings in deployments.items():
        assert sorted(stream_urls(redis_client, settings.articles_stream)) == sorted(urls[prefix])
    stray = [k for k in redis_client.keys("*") if not k.startswith(("blue:", "green:"))]
    assert stray == []  # every key, kombu's included, carries its deployment's prefix
    enqueue(deployments["blue"], urls["blue"][:2])  # no worker now: they stay queued
    assert [queue_depth(s) for s in deployments.values()] == [2, 0]


@pytest.mark.timeout(180)
def test_rabbitmq_broker_quorum_queue_end_to_end(
    origin: Origin,
    redis_server: EmbeddedRedis,
    redis_client: redis.Redis,
    rabbitmq: RabbitMQ,
    tmp_path: Path,
) -> None:
    """Articles published once; retries with a countdown go through Celery's native delayed
    delivery (a 500 then a 502, then the page); a page that always fails is dead-lettered
    after its retries, as on Redis."""
    vhost = rabbitmq.add_vhost()
    settings = Settings(redis_url=redis_server.url, broker_url=rabbitmq.url(vhost))
    urls = serve_pages(origin, range(6))
    for i in (6, 7):
        answers = iter([Response(status=500), Response(status=502)])
        page = Response(
            body=article_html(i, base=origin.url("")).encode(),
            headers={"Content-Type": "text/html; charset=utf-8"},
        )
        origin.add_handler(f"/news/{i}", lambda _req, a=answers, p=page: next(a, p))
        urls.append(origin.url(f"/news/{i}"))
    origin.add("/news/8", status=500, body="down for good")
    env = newswire_env(redis_server.url, broker_url=rabbitmq.url(vhost), task_max_retries=2)
    with worker(env, tmp_path / "worker.log"):
        enqueue(settings, [*urls, origin.url("/news/8")])
        wait_for(
            lambda: (
                redis_client.xlen(settings.articles_stream) >= len(urls)
                and redis_client.xlen(settings.dead_stream) >= 1
            ),
            timeout=90,
            message="the articles and the dead letter on their streams",
        )
        # the last task is acknowledged just after it wrote its dead letter
        wait_for(lambda: rabbitmq.messages(vhost) == 0, timeout=30, message="an idle vhost")
    assert sorted(stream_urls(redis_client, settings.articles_stream)) == sorted(urls)
    assert origin.count("/news/6") == 3  # two failures, then the page
    (letter,) = [fields for _id, fields in redis_client.xrange(settings.dead_stream)]
    assert (letter["url"], letter["reason"], letter["attempts"]) == (
        origin.url("/news/8"),
        "http_status",
        "3",
    )
    queues = rabbitmq.ctl("list_queues", "-p", vhost, "--no-table-headers", "name", "type")
    types = dict(line.split() for line in queues.splitlines() if line.strip())
    assert types["newswire.articles"] == "quorum"
    assert types["newswire.articles.overflow"] == "quorum"
    assert queue_depth(settings) == 0  # what status and the metrics read on RabbitMQ
    assert not [k for k in redis_client.keys("*") if k.startswith("newswire:newswire.")]


@pytest.fixture
def sentinel_group(tmp_path: Path) -> Iterator[SentinelGroup]:
    group = SentinelGroup(tmp_path / "sentinel")
    try:
        yield group.start()
    finally:
        group.stop()


@pytest.mark.timeout(120)
def test_a_sentinel_url_client_follows_a_failover(sentinel_group: SentinelGroup) -> None:
    client = redis_client(sentinel_group.url, decode_responses=True, socket_timeout=2)
    client.set("before", "1")
    client.wait(1, 2000)  # replicated, so the promoted replica has it
    sentinel_group.kill_primary()

    def write_after() -> bool:
        try:
            return bool(client.set("after", "1"))
        except redis.RedisError:
            return False

    wait_for(write_after, timeout=30, message="a write through the same client")
    assert client.get("before") == "1"
    assert client.connection_pool.get_master_address()[1] == sentinel_group.replica.port  # type: ignore[attr-defined]


def test_a_task_shows_its_urls_and_carries_its_whole_entry(
    redis_server: EmbeddedRedis, redis_client: redis.Redis
) -> None:
    """Logs and monitors show a task by its ``kwargsrepr``: the URLs, not the content it
    carries (which the worker gets whole)."""
    settings = Settings(redis_url=redis_server.url, key_prefix="shown")
    entry = {"entry_id": "e1", "content": "story text " * 500}
    enqueuer = Enqueuer(settings)
    try:
        enqueuer.enqueue("https://news.example/a", "https://news.example/feed", entry)
    finally:
        enqueuer.close()
    [raw] = redis_client.lrange(f"shown:{settings.article_queue}", 0, -1)
    message = json.loads(raw)
    shown = message["headers"]["kwargsrepr"]
    assert "https://news.example/a" in shown
    assert "https://news.example/feed" in shown
    assert "story text" not in shown
    assert len(shown) < 300
    body = json.loads(base64.b64decode(message["body"]))
    assert body[1]["entry"] == entry
    assert body[1]["url"] == "https://news.example/a"


@pytest.mark.timeout(60)
def test_a_broker_that_never_answers_fails_a_publish_in_bounded_time(
    redis_server: EmbeddedRedis,
) -> None:
    """A Redis broker that accepts the connection and never replies (a half-open
    connection after a failover) must fail the publish, which the producer then retries,
    rather than hold the poller's thread forever (kombu waits forever by default)."""
    with socket.create_server(("127.0.0.1", 0)) as silent:
        accepted: list[tuple[socket.socket, object]] = []
        threading.Thread(
            target=lambda: accepted.extend(silent.accept() for _ in range(1)), daemon=True
        ).start()
        port = silent.getsockname()[1]
        settings = Settings(
            redis_url=redis_server.url,
            broker_url=f"redis://127.0.0.1:{port}/0",
            broker_socket_timeout=1.5,
        )
        enqueuer = Enqueuer(settings)
        started = time.monotonic()
        try:
            with pytest.raises(OperationalError):
                enqueuer.app.send_task(  # one attempt: Enqueuer.enqueue would retry it
                    FETCH_ARTICLE, kwargs={"url": "https://e.com/a"}, retry=False
                )
        finally:
            enqueuer.close()
            for connection, _address in accepted:
                connection.close()
        assert time.monotonic() - started < 15
        assert accepted  # it did connect: the reply is what never came


@pytest.mark.timeout(120)
def test_a_rabbitmq_that_stops_answering_fails_a_publish_in_bounded_time(amqp_url: str) -> None:
    """The same on RabbitMQ: the connection is up (one task published and confirmed), then
    the broker stops answering mid-connection; the next publish's confirm never comes."""
    port = int(amqp_url.rsplit(":", 1)[1].split("/", 1)[0])
    with StallingProxy(port) as proxy:
        proxied = amqp_url.replace(f":{port}/", f":{proxy.port}/")
        settings = Settings(
            redis_url="redis://127.0.0.1:1/0", broker_url=proxied, broker_socket_timeout=1.5
        )
        enqueuer = Enqueuer(settings)
        try:
            enqueuer.enqueue("https://e.com/first", "https://e.com/feed", None)
            proxy.stall()
            started = time.monotonic()
            with pytest.raises(OperationalError):
                enqueuer.app.send_task(  # one attempt: Enqueuer.enqueue would retry it
                    FETCH_ARTICLE, kwargs={"url": "https://e.com/a"}, retry=False
                )
            assert time.monotonic() - started < 15
        finally:
            proxy.release()
            enqueuer.close()
