"""The workers' error policy on real parts: tasks sent through the real broker (redis-server)
to real `newswire worker` processes, pages from the local origin."""

from __future__ import annotations

import os
import re
import subprocess
import urllib.request
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
import redis

from service.embedded_redis import EmbeddedRedis, free_port
from service.fetching.hostslots import HostSlots
from service.models import DeadLetter
from service.queue import FETCH_ARTICLE, Enqueuer
from service.settings import Settings
from service.streams import Streams
from tests.support.faults import count_events, dead_letters
from tests.support.origin import Origin
from tests.support.processes import newswire_env, running, wait_for
from tests.support.sitegen import article_html

pytestmark = pytest.mark.timeout(180)


@pytest.fixture
def env(redis_server: EmbeddedRedis, redis_client: redis.Redis) -> dict[str, str]:
    return newswire_env(
        redis_server.url,
        task_max_retries=1,
        visibility_timeout=8,
        fetch_timeout=3,
        task_soft_time_limit=5,
        task_time_limit=6,
    )


@pytest.fixture
def sender(settings: Settings) -> Iterator[Enqueuer]:
    enqueuer = Enqueuer(settings)
    yield enqueuer
    enqueuer.close()


def send(sender: Enqueuer, **kwargs: object) -> None:
    """A task message as any producer (maybe of another version) could send it."""
    sender.app.send_task(FETCH_ARTICLE, kwargs=kwargs, queue=sender.settings.article_queue)


def worker(
    env: dict[str, str], log: Path, *args: str
) -> AbstractContextManager[subprocess.Popen[bytes]]:
    return running(["worker", "--pool", "prefork", *args], env, log)


def letters(client: redis.Redis, settings: Settings) -> list[dict[str, str]]:
    return dead_letters(client, settings.dead_stream)


def test_malformed_payloads_are_dead_lettered_as_bad_task(
    env: dict[str, str],
    sender: Enqueuer,
    origin: Origin,
    redis_client: redis.Redis,
    settings: Settings,
    tmp_path: Path,
) -> None:
    """A rolling upgrade: messages this version cannot read end as `bad_task`, not lost."""
    good = origin.url("/news/1")
    origin.add("/news/1", article_html(1, base=origin.url("")))
    send(sender, url=good, feed_url="http://f.test/", entry={"title": "no feed_url, no id"})
    send(sender, url=None, feed_url="http://f.test/")
    send(sender, url=origin.url("/news/2"), feed_url=None, entry=None, priority="high")
    send(sender, url=good, feed_url="http://f.test/")
    with worker(env, tmp_path / "worker.log", "-c", "1"):
        wait_for(
            lambda: (
                len(letters(redis_client, settings)) >= 3
                and redis_client.xlen(settings.articles_stream) >= 1
            ),
            timeout=60,
            message="three dead letters and one article",
        )
    found = letters(redis_client, settings)
    assert [d["reason"] for d in found] == ["bad_task"] * 3
    assert "feed entry does not validate" in found[0]["detail"]
    assert found[1]["url"] == "None"
    assert "priority" in found[2]["detail"]
    assert origin.count("/news/2") == 0


def test_a_redis_refusal_is_dead_lettered_at_once_not_requeued_until_worker_lost(
    env: dict[str, str],
    sender: Enqueuer,
    origin: Origin,
    redis_client: redis.Redis,
    settings: Settings,
    tmp_path: Path,
) -> None:
    """The publish script fails (WRONGTYPE: the stream key holds a string): a bug, not an
    outage. Before, it was requeued and counted as a delivery until `worker_lost`."""
    redis_client.set(settings.articles_stream, "not a stream")
    origin.add("/news/1", article_html(1, base=origin.url("")))
    send(sender, url=origin.url("/news/1"), feed_url="http://f.test/")
    with worker(env, tmp_path / "worker.log", "-c", "1"):
        wait_for(lambda: letters(redis_client, settings), timeout=60, message="a dead letter")
    (letter,) = letters(redis_client, settings)
    assert letter["reason"] == "internal_error"
    assert "WRONGTYPE" in letter["detail"]
    assert letter["attempts"] == "1"
    assert origin.count("/news/1") == 1


def test_each_failure_streak_of_an_item_is_reported_once(
    env: dict[str, str],
    sender: Enqueuer,
    origin: Origin,
    redis_client: redis.Redis,
    settings: Settings,
    tmp_path: Path,
) -> None:
    """Two tasks for one failing page on one day (two polls found it): two dead letters."""
    origin.add("/gone", "gone", status=410)
    with worker(env, tmp_path / "worker.log", "-c", "1"):
        send(sender, url=origin.url("/gone"), feed_url="http://f.test/")
        wait_for(lambda: len(letters(redis_client, settings)) == 1, timeout=60, message="one")
        send(sender, url=origin.url("/gone"), feed_url="http://f.test/")
        wait_for(lambda: len(letters(redis_client, settings)) == 2, timeout=60, message="two")
    assert [d["attempts"] for d in letters(redis_client, settings)] == ["1", "1"]


def test_one_streak_is_written_once_and_letters_without_a_streak_always(
    redis_server: EmbeddedRedis, redis_client: redis.Redis, settings: Settings
) -> None:
    streams = Streams(redis.Redis.from_url(redis_server.url), settings)
    letter = DeadLetter.model_validate(
        {
            "type": "feed.failed",
            "url": "http://f.test/",
            "reason": "timeout",
            "detail": "d",
            "attempts": 5,
            "failed_at": "2026-12-01T10:00:00Z",
        }
    )
    assert streams.dead_letter(letter, streak="task-1") is not None
    assert streams.dead_letter(letter, streak="task-1") is None  # a redelivery
    later = letter.model_copy(update={"failed_at": letter.failed_at.replace(hour=15)})
    assert streams.dead_letter(letter) is not None  # the poller's once-per-streak report
    assert streams.dead_letter(later) is not None  # its next streak, same day, same count
    assert redis_client.xlen(settings.dead_stream) == 3


def _scrape(port: int) -> str:
    """The worker's /metrics ('' while its endpoint is not up yet)."""
    url = f"http://127.0.0.1:{port}/metrics"
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return str(resp.read().decode())
    except OSError:
        return ""


def _dead_letter_tasks(text: str) -> float:
    found = re.search(r'^newswire_tasks_total\{outcome="dead_letter"\} (\S+)$', text, re.M)
    return float(found.group(1)) if found else 0.0


def test_metrics_directory_stays_bounded_over_many_child_recycles(
    env: dict[str, str],
    sender: Enqueuer,
    origin: Origin,
    redis_client: redis.Redis,
    settings: Settings,
    tmp_path: Path,
) -> None:
    """24 tasks, a new pool process for each: files of live children plus one archive per
    type remain (before: two more files per task), and no count is lost."""
    tasks, mpdir, port = 24, tmp_path / "metrics", free_port()
    recycling = {
        **env,
        "NEWSWIRE_WORKER_MAX_TASKS_PER_CHILD": "1",
        "NEWSWIRE_METRICS_PORT": str(port),
        "NEWSWIRE_METRICS_HOST": "127.0.0.1",
        "PROMETHEUS_MULTIPROC_DIR": str(mpdir),
    }
    origin.add("/gone", "gone", status=404)
    for i in range(tasks):
        send(sender, url=origin.url(f"/gone?i={i}"), feed_url="http://f.test/")
    with worker(recycling, tmp_path / "worker.log", "-c", "2"):
        # A message prefetched by a recycling child may be redelivered (visibility timeout):
        # it runs twice, is dead-lettered once (one streak) and counted twice.
        wait_for(
            lambda: (
                len(letters(redis_client, settings)) == tasks
                and _dead_letter_tasks(_scrape(port)) >= tasks
            ),
            timeout=120,
            interval=0.5,
            message=f"{tasks} dead letters, and as many tasks counted",
        )
        files = sorted(p.name for p in mpdir.glob("*.db"))
        # 2 live children x (counter, histogram) + the archives (+ the parent's own).
        assert len(files) <= 8, files
        assert {"counter_archive.db", "histogram_archive.db"} <= set(files)
        scrape = _scrape(port)
    assert _dead_letter_tasks(scrape) >= tasks
    durations = re.search(r"^newswire_task_duration_seconds_count (\S+)$", scrape, re.M)
    assert durations is not None
    assert float(durations.group(1)) >= tasks
    assert os.environ.get("PROMETHEUS_MULTIPROC_DIR") != str(mpdir)


def test_article_fetches_per_host_are_bounded_across_workers(
    env: dict[str, str],
    sender: Enqueuer,
    origin: Origin,
    redis_client: redis.Redis,
    settings: Settings,
    tmp_path: Path,
) -> None:
    """Two workers of three processes each, one site of 12 slow pages, two slots per host:
    the origin never sees more than two requests at once (before: up to six)."""
    pages = 12
    for i in range(pages):
        origin.add(f"/news/{i}", article_html(i, base=origin.url("")), delay=0.3)
        send(sender, url=origin.url(f"/news/{i}"), feed_url="http://f.test/")
    polite = {
        **env,
        "NEWSWIRE_ARTICLE_PER_HOST": "2",
        "NEWSWIRE_ARTICLE_HOST_WAIT": "30",
        "NEWSWIRE_TASK_SOFT_TIME_LIMIT": "40",
        "NEWSWIRE_TASK_TIME_LIMIT": "45",
        "NEWSWIRE_VISIBILITY_TIMEOUT": "60",
    }
    with (
        worker(polite, tmp_path / "w1.log", "-c", "3"),
        worker(polite, tmp_path / "w2.log", "-c", "3"),
    ):
        wait_for(
            lambda: redis_client.xlen(settings.articles_stream) >= pages,
            timeout=120,
            message=f"{pages} articles",
        )
    assert letters(redis_client, settings) == []
    assert origin.peak_total() == 2


def test_a_task_without_a_host_slot_is_deferred_not_failed(
    env: dict[str, str],
    sender: Enqueuer,
    origin: Origin,
    redis_client: redis.Redis,
    settings: Settings,
    tmp_path: Path,
) -> None:
    """Both slots of the host are held elsewhere: the task is sent again for later, without
    using up its retries (none allowed here), and published once a slot is free."""
    slots = HostSlots(redis.Redis.from_url(settings.effective_redis_url), settings)
    seconds, _micros = redis_client.time()
    held = {"elsewhere-1": seconds + 600, "elsewhere-2": seconds + 600}  # long fetches
    redis_client.zadd(slots.key("127.0.0.1"), held)  # type: ignore[arg-type]
    origin.add("/news/1", article_html(1, base=origin.url("")))
    busy = {**env, "NEWSWIRE_TASK_MAX_RETRIES": "0", "NEWSWIRE_ARTICLE_HOST_WAIT": "0.2"}
    log = tmp_path / "worker.log"
    with worker(busy, log, "-c", "1"):
        send(sender, url=origin.url("/news/1"), feed_url="http://f.test/")
        wait_for(lambda: count_events(log, "task_deferred") >= 2, timeout=60, message="defers")
        assert origin.count("/news/1") == 0
        slots.give_back("127.0.0.1", "elsewhere-1")
        wait_for(
            lambda: redis_client.xlen(settings.articles_stream) == 1, timeout=60, message="article"
        )
    assert letters(redis_client, settings) == []
    assert origin.count("/news/1") == 1
