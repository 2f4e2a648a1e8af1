"""newswire_consumer.consume on a real Redis: ack after the handler, redelivery, reclaiming,
tolerant parsing, trimmed entries, SIGTERM; and the package standing on its own."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import pytest
import redis

from newswire_consumer import ArticleEvent, BadEvent, UnsupportedSchemaVersion, consume
from service.embedded_redis import EmbeddedRedis
from service.settings import Settings
from service.streams import Streams
from tests.integration.test_streams import make_article
from tests.support.processes import REPO

STREAM = "newswire:articles"


def publish(redis_client: redis.Redis, settings: Settings, n: int) -> list[str]:
    streams = Streams(redis_client, settings)
    ids = []
    for i in range(n):
        article = make_article(f"Body {i}.", f"h{i}").model_copy(update={"id": f"id{i:03d}"})
        published = streams.publish(article)
        assert published.entry_id
        ids.append(published.entry_id)
    return ids


def run(client: redis.Redis, handler: object, **options: object) -> int:
    defaults: dict[str, object] = {
        "client": client,
        "group": "g",
        "consumer": "c1",
        "start": "0",
        "block": 0.05,
        "idle_exit": 0.2,
        "handle_signals": False,
    }
    return consume(handler, **{**defaults, **options})  # type: ignore[arg-type]


def test_events_are_parsed_handled_in_order_and_acknowledged_after_the_handler(
    redis_client: redis.Redis, settings: Settings
) -> None:
    publish(redis_client, settings, 5)
    seen: list[ArticleEvent] = []

    def handler(event: ArticleEvent) -> None:
        # not acknowledged while the handler runs
        assert redis_client.xpending(STREAM, "g")["pending"] == 1
        seen.append(event)

    assert run(redis_client, handler, batch=1) == 5
    assert [e.article.id for e in seen] == [f"id{i:03d}" for i in range(5)]
    assert [e.type for e in seen] == ["article.created"] * 5
    assert seen[0].article.text == "Body 0."
    assert redis_client.xpending(STREAM, "g")["pending"] == 0


def test_a_failing_handler_leaves_the_entry_pending_and_it_comes_back_first(
    redis_client: redis.Redis, settings: Settings
) -> None:
    ids = publish(redis_client, settings, 3)

    def fail_on_second(event: ArticleEvent) -> None:
        if event.article.id == "id001":
            raise RuntimeError("index down")

    with pytest.raises(RuntimeError, match="index down"):
        run(redis_client, fail_on_second, batch=1)
    pending = redis_client.xpending_range(STREAM, "g", min="-", max="+", count=10)
    assert [p["message_id"] for p in pending] == [ids[1]]
    again: list[str] = []
    assert run(redis_client, lambda e: again.append(e.article.id)) == 2
    assert again == ["id001", "id002"]  # the unacknowledged one first, then the rest
    assert redis_client.xpending(STREAM, "g")["pending"] == 0


def test_entries_of_a_dead_consumer_are_taken_over(
    redis_client: redis.Redis, settings: Settings
) -> None:
    publish(redis_client, settings, 4)

    def die(_event: ArticleEvent) -> None:
        raise SystemExit("killed")

    with pytest.raises(SystemExit):
        run(redis_client, die, consumer="dead", batch=4)
    taken: list[str] = []
    # not yet idle long enough: nothing to take over; then it is
    assert run(redis_client, taken.append, consumer="alive", reclaim_after=60) == 0
    time.sleep(0.15)
    assert run(redis_client, lambda e: taken.append(e.article.id), reclaim_after=0.1) == 4
    assert taken == ["id000", "id001", "id002", "id003"]


def test_unknown_fields_are_tolerated_and_bad_entries_refused(
    redis_client: redis.Redis, settings: Settings
) -> None:
    data = json.loads(make_article().model_dump_json())
    data["a_field_of_the_future"] = {"x": 1}
    base = {"type": "article.created", "id": "x", "schema_version": "1", "content_hash": "h"}
    redis_client.xadd(STREAM, {**base, "data": json.dumps(data)})
    got: list[ArticleEvent] = []
    assert run(redis_client, got.append) == 1
    assert got[0].article.title == "T"
    redis_client.xadd(STREAM, {**base, "schema_version": "2", "data": json.dumps(data)})
    with pytest.raises(UnsupportedSchemaVersion, match="schema_version 2"):
        run(redis_client, got.append)
    redis_client.xtrim(STREAM, maxlen=0, approximate=False)
    redis_client.xgroup_destroy(STREAM, "g")
    redis_client.xadd(STREAM, {**base, "data": '{"title": "no id"}'})
    with pytest.raises(BadEvent, match="not an Article"):
        run(redis_client, got.append)
    assert redis_client.xpending(STREAM, "g")["pending"] == 1  # kept, not dropped


def test_entries_trimmed_before_the_group_read_them_are_reported(
    redis_client: redis.Redis, settings: Settings
) -> None:
    run(redis_client, lambda e: None, start="$")  # the group exists, at the end
    publish(redis_client, settings, 30)
    redis_client.xtrim(STREAM, maxlen=10, approximate=False)
    lost: list[int] = []
    assert run(redis_client, lambda e: None, on_trimmed=lost.append) == 10
    assert lost == [20]


def test_stop_makes_consume_return_within_its_block_time(
    redis_client: redis.Redis, settings: Settings
) -> None:
    stop = threading.Event()
    threading.Timer(0.3, stop.set).start()
    started = time.monotonic()
    assert run(redis_client, lambda e: None, idle_exit=None, block=0.5, stop=stop) == 0
    assert time.monotonic() - started < 5


CONSUMER_SCRIPT = """
import sys
from newswire_consumer import consume
n = consume(lambda e: print(e.article.id, flush=True), redis_url=sys.argv[1],
            group="g", consumer="proc", start="0", block=1.0)
print("returned", n, flush=True)
"""


def test_sigterm_returns_cleanly(
    redis_server: EmbeddedRedis, redis_client: redis.Redis, settings: Settings
) -> None:
    publish(redis_client, settings, 2)
    proc = subprocess.Popen(
        [sys.executable, "-c", CONSUMER_SCRIPT, redis_server.url],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert [proc.stdout.readline().strip() for _ in range(2)] == ["id000", "id001"]
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=10)
    assert out.strip() == "returned 2"
    assert proc.returncode == 0


def test_the_package_stands_on_its_own(tmp_path: Path) -> None:
    """Its wheel holds newswire_consumer only and needs redis and pydantic only; importing
    it loads neither the service nor its heavy dependencies."""
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
         "-w", str(tmp_path), str(REPO / "clients" / "python")],
        check=True,
    )  # fmt: skip
    (wheel,) = tmp_path.glob("newswire_consumer-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = next(archive.read(n).decode() for n in names if n.endswith("METADATA"))
    top = {n.split("/")[0] for n in names}
    assert {t for t in top if not t.endswith(".dist-info")} == {"newswire_consumer"}
    requires = sorted(
        line.split()[1].split(">")[0].split("<")[0]
        for line in metadata.splitlines()
        if line.startswith("Requires-Dist:")
    )
    assert requires == ["pydantic", "redis"]
    probe = (
        "import sys, newswire_consumer; "
        "heavy = {'service', 'workers', 'celery', 'trafilatura', 'lxml', 'kombu'}; "
        "print(sorted(heavy & {m.split('.')[0] for m in sys.modules}))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert loaded.stdout.strip() == "[]"
