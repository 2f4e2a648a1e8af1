"""The CLI as a user runs it: feeds in, `newswire run`, articles out through `newswire tail`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import redis

from service.embedded_redis import free_port
from service.settings import Settings
from service.streams import Streams
from tests.integration.test_streams import make_article
from tests.support.origin import Origin
from tests.support.processes import REPO, newswire_env, running, wait_for
from tests.support.sitegen import serve_site

pytestmark = pytest.mark.timeout(180)


def newswire(
    *args: str, env: dict[str, str], timeout: float = 60, stdin: bytes | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "service.cli.entry", *args],
        env=env,
        cwd=REPO,
        timeout=timeout,
        capture_output=True,
        text=stdin is None,
        input=stdin,
        check=False,
    )


def test_run_with_embedded_redis_then_tail_json(origin: Origin, tmp_path: Path) -> None:
    feed = serve_site(origin, 4)
    feeds_file = tmp_path / "feeds.txt"
    feeds_file.write_text(f"# my feeds\n{feed}\n")
    port = free_port()
    env = newswire_env("unused", data_dir=tmp_path / "data", embedded_redis_port=port)
    del env["NEWSWIRE_REDIS_URL"]  # no Redis configured: `run` starts an embedded one
    with running(["run", "--feeds", str(feeds_file), "-c", "1"], env, tmp_path / "run.log"):
        client_env = {**env, "NEWSWIRE_REDIS_URL": f"redis://127.0.0.1:{port}/0"}
        wait_for(
            lambda: "4 entries" in newswire("status", env=client_env).stdout,
            timeout=90,
            message="4 articles in the stream",
        )
        tailed = newswire("tail", "--json", "--from-start", "--count", "4", env=client_env)
        status = newswire("status", "--json", env=client_env)
    assert tailed.returncode == 0, tailed.stderr
    events = [json.loads(line) for line in tailed.stdout.splitlines()]
    assert [e["type"] for e in events] == ["article.created"] * 4
    assert {e["data"]["url"] for e in events} == {origin.url(f"/news/{i}") for i in range(4)}
    assert all(e["schema_version"] == 1 for e in events)
    feeds = json.loads(status.stdout)["feeds"]
    assert [f["url"] for f in feeds] == [feed]
    assert (tmp_path / "data" / "redis" / "appendonlydir").is_dir()  # AOF on
    assert "embedded Redis" in (tmp_path / "run.log").read_text()


def test_feeds_commands_round_trip(redis_server: object, tmp_path: Path) -> None:
    env = newswire_env(redis_server.url, key_prefix="clitest")  # type: ignore[attr-defined]
    added = newswire(
        "feeds", "add", "https://a.example/rss", "https://b.example/atom", "ftp://nope", env=env
    )
    assert added.returncode == 1
    assert "added 2" in added.stdout
    assert "skipped (not an http(s) URL): ftp://nope" in added.stderr
    again = newswire("feeds", "add", "https://a.example/rss", env=env)
    assert "added 0, already registered 1" in again.stdout
    exported = newswire("feeds", "export", env=env)
    opml = tmp_path / "feeds.opml"
    opml.write_text(exported.stdout)
    assert (
        newswire(
            "feeds", "remove", "https://a.example/rss", "https://b.example/atom", env=env
        ).returncode
        == 0
    )
    assert newswire("feeds", "list", env=env).stdout == ""
    assert "added 2" in newswire("feeds", "import", str(opml), env=env).stdout
    assert newswire("feeds", "list", env=env).stdout.split() == [
        "https://a.example/rss",
        "https://b.example/atom",
    ]


def test_extract_prints_json_lines_and_reports_failures(origin: Origin, tmp_path: Path) -> None:
    serve_site(origin, 1)
    origin.add("/missing", status=404)
    env = newswire_env("redis://127.0.0.1:1/0")  # extract never touches Redis
    result = newswire("extract", origin.url("/news/0"), origin.url("/missing"), env=env)
    assert result.returncode == 1
    article = json.loads(result.stdout.splitlines()[0])
    assert article["title"] == "Story number 0 about the council"
    assert article["url"] == origin.url("/news/0")
    assert f"{origin.url('/missing')}: http_status:" in result.stderr
    page = tmp_path / "page.html"
    page.write_bytes(origin.routes["/news/0"].response.body)  # type: ignore[union-attr]
    from_file = newswire("extract", str(page), env=env)
    assert from_file.returncode == 0, from_file.stderr
    assert json.loads(from_file.stdout)["canonical_url"] == origin.url("/news/0")
    piped = newswire(
        "extract", "-", "--url", "https://example.org/story", env=env, stdin=page.read_bytes()
    )
    assert json.loads(piped.stdout)["url"] == "https://example.org/story"


def test_tail_group_takes_over_what_a_dead_consumer_left_pending(
    redis_client: redis.Redis, settings: Settings
) -> None:
    streams = Streams(redis_client, settings)
    for n in range(5):
        streams.publish(make_article(text=f"Body {n}.", content_hash=f"h{n}"))
    stream = settings.articles_stream
    redis_client.xgroup_create(stream, "indexer", id="0")
    # a consumer that read two entries and died before XACK
    taken = redis_client.xreadgroup("indexer", "dead-one", {stream: ">"}, count=2)[0][1]
    env = newswire_env(settings.redis_url)
    tailed = newswire(
        "tail",
        "--json",
        "--group",
        "indexer",
        "--consumer",
        "survivor",
        "--reclaim-after",
        "0.05",
        "--count",
        "5",
        env=env,
    )
    assert tailed.returncode == 0, tailed.stderr
    ids = [json.loads(line)["stream_id"] for line in tailed.stdout.splitlines()]
    assert ids[:2] == [entry_id for entry_id, _ in taken]  # the dead one's entries first
    assert sorted(ids) == [entry_id for entry_id, _ in redis_client.xrange(stream)]
    assert redis_client.xpending(stream, "indexer")["pending"] == 0  # all acknowledged
    again = newswire(
        "tail",
        "--json",
        "--group",
        "indexer",
        "--consumer",
        "survivor",
        "--idle-exit",
        "0.5",
        env=env,
    )
    assert again.stdout == ""  # nothing left for the group: each entry delivered once
