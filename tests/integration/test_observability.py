"""Metrics, health endpoints and logs on real parts: a real redis-server, real HTTP, real
forked processes (multiprocess metrics), and a real Celery worker running article tasks."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from prometheus_client.parser import text_string_to_metric_families

from service.observability import metrics, probe, worker_hooks
from service.observability.server import Endpoint, Server, redis_check, serve, serve_poller
from service.queue import broker_queue_key
from service.registry import Registry
from service.settings import Settings
from tests.support.processes import REPO

pytestmark = pytest.mark.timeout(120)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape: (name, sorted labels) -> value, via prometheus_client's parser."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(
    scrape: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str
) -> float:
    return scrape.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def metrics_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"metrics_port": free_port(), "metrics_host": "127.0.0.1"})


@pytest.fixture
def server(metrics_settings: Settings) -> Iterator[Server]:
    endpoint = Endpoint("test", checks={"redis": redis_check(metrics_settings)})
    running = serve(metrics_settings, endpoint)
    assert running is not None
    yield running
    running.close()


def test_livez_readyz_metrics_and_404(server: Server) -> None:
    assert get(server.port, "/livez") == (200, json.dumps({"status": "ok", "role": "test"}))
    status, body = get(server.port, "/readyz")
    assert status == 200
    assert json.loads(body)["checks"] == {"redis": "ok"}
    status, body = get(server.port, "/metrics")
    assert status == 200
    scrape = samples(body)
    assert value(scrape, "newswire_build_info", version="0.1.0", role="test") == 1
    assert get(server.port, "/nope")[0] == 404


def test_readyz_fails_while_redis_is_unreachable(metrics_settings: Settings) -> None:
    gone = metrics_settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{free_port()}/0"})
    running = serve(gone, Endpoint("poller", checks={"redis": redis_check(gone, timeout=0.5)}))
    assert running is not None
    try:
        status, body = get(running.port, "/readyz")
        assert status == 503
        assert json.loads(body)["checks"] == {"redis": "failing"}
        assert get(running.port, "/livez")[0] == 200  # alive: no restart for a Redis outage
    finally:
        running.close()


def test_port_unset_or_taken_means_no_endpoint(settings: Settings, server: Server) -> None:
    assert serve(settings, Endpoint("x")) is None  # metrics_port unset
    taken = settings.model_copy(update={"metrics_port": server.port, "metrics_host": "127.0.0.1"})
    assert serve(taken, Endpoint("x")) is None  # logged, not fatal


def test_record_functions_move_the_counters(server: Server) -> None:
    before = samples(get(server.port, "/metrics")[1])
    metrics.record_poll("not_modified")
    metrics.record_entries(5, ["new", "new", "updated"])
    metrics.record_fetch("page", "ok", 0.2, 1234)
    metrics.record_extraction(0.05)
    metrics.record_published("article.created")
    metrics.record_dead_letter("article.failed", "timeout")
    metrics.record_dead_letter("article.failed", "timeout", written=False)  # idempotent replay
    after = samples(get(server.port, "/metrics")[1])

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("newswire_polls_total", outcome="not_modified") == 1
    assert moved("newswire_feed_entries_discovered_total") == 5
    assert moved("newswire_feed_entries_enqueued_total", kind="new") == 2
    assert moved("newswire_fetch_bytes_total", kind="page") == 1234
    assert moved("newswire_fetch_duration_seconds_count", kind="page", result="ok") == 1
    assert moved("newswire_extraction_duration_seconds_count") == 1
    assert moved("newswire_articles_published_total", type="created") == 1
    assert moved("newswire_dead_letters_total", type="article.failed", reason="timeout") == 1


def test_poller_endpoint_reads_the_shared_state_from_redis(
    metrics_settings: Settings, redis_client: redis.Redis
) -> None:
    s = metrics_settings
    registry = Registry(redis_client, s)
    for i in range(3):
        registry.add(f"https://feeds.example/{i}.xml", None, now=0)  # due long ago
    for i in range(5):
        redis_client.xadd(s.articles_stream, {"type": "article.created", "n": str(i)})
    redis_client.xadd(s.dead_stream, {"type": "article.failed"})
    redis_client.xgroup_create(s.articles_stream, "indexer", id="0")
    redis_client.xreadgroup("indexer", "c1", {s.articles_stream: ">"}, count=2)
    redis_client.xack(
        s.articles_stream, "indexer", redis_client.xrange(s.articles_stream, count=1)[0][0]
    )
    queue_key = broker_queue_key(s)
    assert queue_key is not None
    redis_client.rpush(queue_key, "t1", "t2", "t3", "t4")
    running = serve_poller(s)
    assert running is not None
    try:
        scrape = samples(get(running.port, "/metrics")[1])
        assert get(running.port, "/readyz")[0] == 200
    finally:
        running.close()
    assert value(scrape, "newswire_redis_up") == 1
    assert value(scrape, "newswire_stream_length", stream=s.articles_stream) == 5
    assert value(scrape, "newswire_stream_length", stream=s.dead_stream) == 1
    group = {"stream": s.articles_stream, "group": "indexer"}
    assert value(scrape, "newswire_consumer_group_lag", **group) == 3
    assert value(scrape, "newswire_consumer_group_pending", **group) == 1
    assert value(scrape, "newswire_queue_depth", queue=s.article_queue) == 4
    assert value(scrape, "newswire_feeds") == 3
    assert value(scrape, "newswire_feeds_overdue") == 3
    assert value(scrape, "newswire_redis_used_memory_bytes") > 0
    assert value(scrape, "newswire_build_info", version="0.1.0", role="poller") == 1


def test_poller_endpoint_survives_redis_down(metrics_settings: Settings) -> None:
    gone = metrics_settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{free_port()}/0"})
    running = serve_poller(gone)
    assert running is not None
    try:
        status, body = get(running.port, "/metrics")
    finally:
        running.close()
    assert status == 200
    assert value(samples(body), "newswire_redis_up") == 0


MULTIPROCESS_SCRIPT = textwrap.dedent("""
    import json, multiprocessing, sys, urllib.request
    from service.observability import metrics
    from service.observability.server import Endpoint, serve
    from service.settings import Settings

    def child(n):
        for _ in range(n):
            metrics.record_task("created", 0.2)
        metrics.record_fetch("page", "ok", 0.1, 100)

    if __name__ == "__main__":
        path, created = metrics.enable_multiprocess()
        ctx = multiprocessing.get_context("fork")
        procs = [ctx.Process(target=child, args=(n,)) for n in (1, 2, 3)]
        for p in procs:
            p.start()
        for p in procs:
            p.join()
            metrics.mark_process_dead(p.pid)
        settings = Settings(metrics_port=int(sys.argv[1]), metrics_host="127.0.0.1")
        server = serve(settings, Endpoint("worker"))
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/metrics") as resp:
            open(sys.argv[2], "wb").write(resp.read())
        server.close()
        metrics.disable_multiprocess(path, created=created)
        open(sys.argv[3], "w").write(json.dumps({"dir": str(path), "exists": path.exists()}))
""")


def test_multiprocess_values_of_forked_children_are_summed(tmp_path: Path) -> None:
    """What the Celery prefork pool does: children record, the parent serves their sum."""
    script = tmp_path / "mp.py"
    script.write_text(MULTIPROCESS_SCRIPT)
    env = {k: v for k, v in os.environ.items() if k != metrics.MULTIPROC_ENV}
    scraped, cleanup = tmp_path / "scrape.txt", tmp_path / "cleanup.json"
    done = subprocess.run(
        [sys.executable, str(script), str(free_port()), str(scraped), str(cleanup)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    scrape = samples(scraped.read_text())
    assert value(scrape, "newswire_tasks_total", outcome="created") == 6
    assert value(scrape, "newswire_task_duration_seconds_count") == 6
    assert value(scrape, "newswire_fetch_bytes_total", kind="page") == 300
    assert value(scrape, "newswire_build_info", version="0.1.0", role="worker") == 1
    assert json.loads(cleanup.read_text())["exists"] is False  # the temporary directory is removed


def test_worker_hooks_lifecycle(
    metrics_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """worker_init starts the endpoint; ready only between worker_ready and shutting down."""
    monkeypatch.setattr(metrics, "enable_multiprocess", lambda: (tmp_path, False))

    class Conf:
        newswire_settings = metrics_settings

    class App:
        conf = Conf()

    class Sender:
        app = App()

    state = worker_hooks.current
    worker_hooks.on_worker_init(sender=Sender())
    try:
        assert state.server is not None
        port = state.server.port
        status, body = get(port, "/readyz")
        assert status == 503
        assert json.loads(body)["checks"] == {"redis": "ok", "consumer": "failing"}
        worker_hooks.on_worker_ready(sender=None)
        assert get(port, "/readyz")[0] == 200
        worker_hooks.on_worker_shutting_down(sig="TERM", how="Warm", exitcode=0)
        assert get(port, "/readyz")[0] == 503
        assert get(port, "/livez")[0] == 200
    finally:
        worker_hooks.on_worker_shutdown(sender=None)
    assert state.server is None
    assert state.metrics_dir is None
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()


@pytest.mark.parametrize(
    ("celery_state", "retval", "outcome"),
    [
        ("SUCCESS", "article.created", "created"),
        ("SUCCESS", "article.updated", "updated"),
        ("SUCCESS", "duplicate", "duplicate"),
        ("SUCCESS", "dead:timeout", "dead_letter"),
        ("SUCCESS", None, "success"),
        ("RETRY", None, "retry"),
        ("REJECTED", None, "requeued"),
        ("FAILURE", ValueError("x"), "failed"),
    ],
)
def test_task_outcome(celery_state: str, retval: Any, outcome: str) -> None:
    assert worker_hooks.task_outcome(celery_state, retval) == outcome


def test_probe_exit_codes(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSWIRE_METRICS_PORT", str(server.port))
    assert probe.main(["readyz"]) == 0
    assert probe.main(["livez"]) == 0
    assert probe.main(["metrics"]) == 2
    monkeypatch.setenv("NEWSWIRE_METRICS_PORT", str(free_port()))
    assert probe.main(["livez"]) == 1  # nothing listens


LOG_SCRIPT = textwrap.dedent("""
    import logging
    from service.logs import bind, configure_logging, get_logger
    from service.settings import Settings

    configure_logging(Settings(log_format="auto", log_level="INFO"), process="worker")
    bind(task_id="t-1", url="https://news.example/a", feed="https://news.example/rss")
    get_logger("newswire.worker").info("article_done", outcome="article.created")
    logging.getLogger("celery.app.trace").warning("Task %s retried", "t-1")
""")


def test_logs_are_json_off_a_terminal_and_carry_task_context() -> None:
    done = subprocess.run(
        [sys.executable, "-c", LOG_SCRIPT],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={k: v for k, v in os.environ.items() if not k.startswith("NEWSWIRE_")},
    )
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stderr.splitlines()]  # JSON: stderr is a pipe
    assert [line["event"] for line in lines] == ["article_done", "Task t-1 retried"]
    for line in lines:  # structlog and stdlib (Celery) lines alike
        assert line["task_id"] == "t-1"
        assert line["url"] == "https://news.example/a"
        assert line["feed"] == "https://news.example/rss"
        assert line["process"] == "worker"
        assert {"level", "timestamp", "logger"} <= set(line)


def test_a_scrape_storm_costs_redis_one_reading(
    metrics_settings: Settings, redis_client: redis.Redis
) -> None:
    """200 requests to /metrics and /readyz within one cache period: Redis is read once
    (counted by Redis itself, INFO commandstats)."""
    s = metrics_settings.model_copy(update={"metrics_cache_seconds": 3600.0})
    running = serve_poller(s)
    assert running is not None
    redis_client.config_resetstat()
    try:
        for _ in range(100):
            assert get(running.port, "/metrics")[0] == 200
            assert get(running.port, "/readyz")[0] == 200
    finally:
        running.close()
    stats = redis_client.info("commandstats")
    assert stats["cmdstat_xlen"]["calls"] == 2  # the article and dead-letter streams, once
    assert stats["cmdstat_llen"]["calls"] == 1
    assert stats["cmdstat_ping"]["calls"] == 1
