"""The docker-compose topology without containers: each service's `command` runs as a local
process with the image's ENV and the service's `environment`, exactly as written in
docker-compose.yml and deploy/Dockerfile, except what a container network provides:

- the host `redis` is the test's redis-server on 127.0.0.1 (a free port);
- each container has its own network namespace, so each role gets its own free metrics port
  instead of the shared 9108;
- `NEWSWIRE_ALLOWED_NETWORKS=127.0.0.0/8`, since the "news sites" are a local HTTP origin.

Feeds go in through the CLI as an operator would (`docker compose exec poller newswire feeds
add`); articles must come out on the stream, the compose health check command must pass,
and every role's /metrics must parse and move.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import redis

from service.embedded_redis import EmbeddedRedis
from service.settings import Settings
from tests.deploy.helpers import REPO, compose
from tests.deploy.test_contract import message_validator
from tests.deploy.test_image import stages
from tests.deploy.test_monitoring import EXPORTED
from tests.integration.test_observability import free_port, get, samples, value
from tests.support.origin import Origin
from tests.support.processes import running, wait_for
from tests.support.sitegen import article_html, rss_feed

pytestmark = pytest.mark.timeout(180)
ROLES = ("poller", "worker")
ARTICLES = 5


def image_env() -> dict[str, str]:
    """The runtime stage's ENV of deploy/Dockerfile (PATH aside: the venv is ours)."""
    env: dict[str, str] = {}
    for instruction, args in stages()[1]:
        if instruction == "ENV":
            env.update(dict(pair.split("=", 1) for pair in args.split()))
    env.pop("PATH", None)
    return env


def role_env(service: dict[str, Any], redis_url: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("NEWSWIRE_") and k != "PROMETHEUS_MULTIPROC_DIR"
    }
    env.update(image_env())
    env.update({k: str(v) for k, v in service["environment"].items()})
    compose_redis = urlsplit(env["NEWSWIRE_REDIS_URL"])
    assert compose_redis.hostname == "redis", "compose must reach Redis by its service name"
    local = urlsplit(redis_url)
    env["NEWSWIRE_REDIS_URL"] = compose_redis._replace(netloc=local.netloc).geturl()
    env["NEWSWIRE_METRICS_PORT"] = str(free_port())
    env["NEWSWIRE_ALLOWED_NETWORKS"] = "127.0.0.0/8"
    return env


def newswire(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "service.cli.entry", *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def healthcheck(service: dict[str, Any], env: dict[str, str]) -> int:
    """Run the service's compose health check command (`CMD` form) like Docker does."""
    kind, *command = service["healthcheck"]["test"]
    assert kind == "CMD"
    assert command[0] == "python"
    done = subprocess.run(
        [sys.executable, *command[1:]],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    return done.returncode


@pytest.fixture
def topology(
    redis_server: EmbeddedRedis, redis_client: redis.Redis, tmp_path: Path
) -> Iterator[dict[str, dict[str, str]]]:
    services = compose()["services"]
    envs = {role: role_env(services[role], redis_server.url) for role in ROLES}
    with (
        running(services["poller"]["command"], envs["poller"], tmp_path / "poller.log"),
        running(services["worker"]["command"], envs["worker"], tmp_path / "worker.log"),
    ):
        for role in ROLES:
            wait_for(
                lambda role=role: healthcheck(services[role], envs[role]) == 0,  # type: ignore[misc]
                timeout=60,
                interval=0.5,
                message=f"{role} healthy",
            )
        yield envs


def scrape(env: dict[str, str]) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    status, body = get(int(env["NEWSWIRE_METRICS_PORT"]), "/metrics")
    assert status == 200
    return samples(body)


def test_compose_topology_ingests_and_reports(
    topology: dict[str, dict[str, str]], redis_client: redis.Redis, tmp_path: Path
) -> None:
    settings = Settings()  # compose sets no key prefix: the defaults are the contract's names
    poller_env, worker_env = topology["poller"], topology["worker"]
    before = {role: scrape(env) for role, env in topology.items()}
    redis_client.xgroup_create(settings.articles_stream, "indexer", id="0", mkstream=True)

    with Origin() as origin:
        base = origin.url("")
        for i in range(ARTICLES):
            origin.add(f"/news/{i}", article_html(i, base=base))
        # one entry links to a page that is gone: a dead letter with reason http_status
        origin.add(
            "/feed.xml",
            rss_feed([*range(ARTICLES), 404], base=base),
            content_type="application/rss+xml",
        )
        added = newswire(["feeds", "add", origin.url("/feed.xml")], poller_env)
        assert added.returncode == 0, added.stderr
        wait_for(
            lambda: (
                redis_client.xlen(settings.articles_stream) >= ARTICLES
                and redis_client.xlen(settings.dead_stream) >= 1
            ),
            timeout=90,
            interval=0.3,
            message="articles and a dead letter",
        )

    entries = [fields for _id, fields in redis_client.xrange(settings.articles_stream)]
    assert [e["type"] for e in entries] == ["article.created"] * ARTICLES
    contract = message_validator(compose_contract(), "articleEvent")
    for entry in entries:
        contract.validate(entry)
    (dead,) = [f for _i, f in redis_client.xrange(settings.dead_stream)]
    assert (dead["reason"], dead["url"].rsplit("/", 1)[1]) == ("http_status", "404")

    poller = wait_for(
        lambda: _moved(scrape(poller_env), "newswire_polls_total", outcome="fetched"),
        timeout=10,
        message="poll counted",
    )
    assert poller
    p, w = scrape(poller_env), scrape(worker_env)
    pb, wb = before["poller"], before["worker"]

    # the poller: polls, entries, feed fetches, and the shared state read from Redis
    assert value(p, "newswire_polls_total", outcome="fetched") >= 1
    assert value(p, "newswire_feed_entries_discovered_total") >= ARTICLES + 1
    assert value(p, "newswire_feed_entries_enqueued_total", kind="new") == ARTICLES + 1
    assert value(p, "newswire_fetch_duration_seconds_count", kind="feed", result="ok") >= 1
    assert value(p, "newswire_fetch_bytes_total", kind="feed") > 0
    assert value(p, "newswire_stream_length", stream=settings.articles_stream) == ARTICLES
    assert value(p, "newswire_stream_length", stream=settings.dead_stream) == 1
    group = {"stream": settings.articles_stream, "group": "indexer"}
    assert value(p, "newswire_consumer_group_lag", **group) == ARTICLES
    assert value(p, "newswire_consumer_group_pending", **group) == 0
    assert value(p, "newswire_consumer_group_trimmed_before_read", **group) == 0
    assert ("newswire_queue_depth", (("queue", "newswire.articles"),)) in p
    assert value(p, "newswire_feeds") == 1
    assert value(p, "newswire_redis_up") == 1
    assert value(pb, "newswire_stream_length", stream=settings.articles_stream) == 0

    # the worker: summed over its prefork children (multiprocess mode)
    assert value(w, "newswire_tasks_total", outcome="created") == ARTICLES
    assert value(w, "newswire_tasks_total", outcome="dead_letter") == 1
    assert value(w, "newswire_task_duration_seconds_count") == ARTICLES + 1
    assert value(w, "newswire_articles_published_total", type="created") == ARTICLES
    assert value(w, "newswire_extraction_duration_seconds_count") == ARTICLES
    assert value(w, "newswire_extraction_duration_seconds_sum") > 0
    assert value(w, "newswire_fetch_duration_seconds_count", kind="page", result="ok") == ARTICLES
    assert value(w, "newswire_fetch_duration_seconds_count", kind="page", result="http_status") == 1
    assert value(w, "newswire_fetch_bytes_total", kind="page") > 0
    assert value(w, "newswire_dead_letters_total", type="article.failed", reason="http_status") == 1
    assert value(wb, "newswire_tasks_total", outcome="created") == 0
    assert value(w, "newswire_build_info", version="0.1.0", role="worker") == 1

    # every metric the dashboard and the alerts use is exported by some role
    names = {name for scraped in (p, w) for name, _labels in scraped}
    for metric in EXPORTED:
        assert metric in names or f"{metric}_count" in names, f"{metric} is not exported"

    for env in topology.values():
        port = int(env["NEWSWIRE_METRICS_PORT"])
        assert get(port, "/readyz")[0] == 200
        assert get(port, "/livez")[0] == 200

    assert_task_logs_carry_context(tmp_path / "worker.log")


def _moved(
    scraped: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str
) -> bool:
    return value(scraped, name, **labels) > 0


def compose_contract() -> dict[str, Any]:
    from tests.deploy.helpers import load_yaml

    doc: dict[str, Any] = load_yaml(REPO / "docs" / "asyncapi.yaml")
    return doc


def assert_task_logs_carry_context(log: Path) -> None:
    """The worker logs JSON (NEWSWIRE_LOG_FORMAT=json from the image and compose); every line
    logged inside a task carries task_id, feed and url."""
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    assert lines, "no JSON log lines"
    in_tasks = [line for line in lines if "task_id" in line]
    done = [line for line in in_tasks if line["event"] == "article_done"]
    assert len(done) == ARTICLES
    for line in in_tasks:
        assert line["url"].startswith("http"), line
        assert re.match(r"http://127\.0\.0\.1:\d+/feed\.xml$", line["feed"]), line
        assert line["task_id"], line
