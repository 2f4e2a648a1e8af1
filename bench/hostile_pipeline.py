"""Hostile article pages through the whole service: each dead-lettered within 60 s of the
poll that found it. Run as ``python -m bench.hostile --pipeline`` (or this module).

One feed on the local test origin lists a normal page and one page per hostile input; a
real poller and one ``newswire worker`` (2 pool processes) with the deployed defaults
(20 s fetch deadline, 2 fetches per host, robots.txt on, minimum rate 1,024 bytes/s after
5 s, retries with 5 s back-off) and a private redis-server. Per input: the dead letter's
reason and when it was written (its stream entry id) minus the moment the origin served the
feed to the poller (the worker is started and ready before the poller).
Exit status 1 when a reason is not the expected one, a letter took over 60 s, or the
normal page was not published.
"""

from __future__ import annotations

import tempfile
import time
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import redis

from bench.common import Role, bench_env, redis_server, table, wait_until, worker
from service.registry import Registry
from service.settings import Settings
from tests.support.origin import Origin, Response
from tests.support.sitegen import article_html, rss_feed

BOUND = 60.0
DEFAULTS = Settings()
DEPLOYED = {  # what the test environment shortens, back to the defaults
    "fetch_timeout": DEFAULTS.fetch_timeout,
    "connect_timeout": DEFAULTS.connect_timeout,
    "retry_backoff": DEFAULTS.retry_backoff,
    "min_text_chars": DEFAULTS.min_text_chars,
}


def _endless() -> Iterator[bytes]:
    yield b"<html><body><p>"
    while True:
        yield b"endless " * 8192


def _stall() -> Iterator[bytes]:
    yield b"<!doctype html><html><head><title>stall</title></head><body>" + b" " * 1000
    time.sleep(300)  # never sends the rest; cut long before


def _gzip_bomb() -> Iterator[bytes]:
    squeeze = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    zeros = b"\0" * (1 << 20)
    for _ in range(1024):  # 1 GiB of zeros, compressed on the fly while it is read
        yield squeeze.compress(zeros)
    yield squeeze.flush()


def _nested() -> bytes:
    return b"<html><body>" + b"<div>" * 100_000 + b"deep" + b"</div>" * 100_000 + b"</body></html>"


Serve = Callable[[Origin, str], None]


def _add(body: bytes = b"", **how: Any) -> Serve:
    return lambda origin, path: origin.add(path, body, **how)


def _redirect(location: str) -> Serve:
    return lambda origin, path: origin.redirect(path, location)


def _loop(origin: Origin, path: str) -> None:
    origin.redirect(path, path + "-again")
    origin.redirect(path + "-again", path)


def _page(**how: Any) -> Serve:
    def serve(origin: Origin, path: str) -> None:
        origin.add(path, article_html(7, base=origin.url("")), **how)

    return serve


def _bomb(origin: Origin, path: str) -> None:
    origin.add_handler(
        path,
        lambda _req: Response(
            headers={"Content-Type": "text/html", "Content-Encoding": "gzip"}, stream=_gzip_bomb
        ),
    )


# name, expected reason, how the origin serves it (the path is /h/<name>)
CASES: list[tuple[str, str, Serve]] = [
    ("drip-1-byte-a-second", "too_slow", _page(drip=1.0, drip_chunk=1)),
    ("header-drip", "too_slow", _page(header_drip=1.0)),
    ("stall-after-first-kb", "too_slow", _add(stream=_stall)),
    ("gzip-bomb-1-gib", "too_large", _bomb),
    ("page-20mb", "too_large", _add(body=b"<html><body>" + b"x" * 20_000_000)),
    ("endless-chunked", "too_large", _add(stream=_endless)),
    ("nested-100k-divs", "hostile_content", _add(body=_nested())),
    ("redirect-metadata", "blocked_address", _redirect("http://169.254.169.254/latest/")),
    ("redirect-private", "blocked_address", _redirect("http://10.0.0.1/x")),
    ("redirect-loop", "too_many_redirects", _loop),
    ("pdf-as-article", "not_html", _add(body=b"%PDF-1.4", content_type="application/pdf")),
    ("private/disallowed", "blocked_by_robots", _page()),
]


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def run(log_dir: Path) -> tuple[list[list[object]], bool]:
    wall_offset = time.time() - time.monotonic()
    with redis_server() as server, Origin() as origin:
        origin.add(
            "/robots.txt", "User-agent: *\nDisallow: /h/private/\n", content_type="text/plain"
        )
        items = [f"/h/{name}" for name, _, _ in CASES]
        for (_name, _reason, serve), path in zip(CASES, items, strict=True):
            serve(origin, path)
        _page()(origin, "/normal")
        feed = rss_feed([0], base=origin.url("")).replace("/news/0", "/normal")
        for path in items:
            feed = feed.replace(
                "</channel>",
                f"<item><link>{origin.url(path)}</link>"
                f"<guid>{path}</guid><title>{path}</title></item></channel>",
            )
        origin.add("/hostile.xml", feed, content_type="application/rss+xml")
        settings = Settings(redis_url=server.url)
        client = redis.Redis.from_url(server.url)
        Registry(client, settings).add(origin.url("/hostile.xml"), None, now=0)
        env = bench_env(server.url, **DEPLOYED)
        with worker(env, 2, log_dir) as running:
            # The worker is up before the poll, so its start-up is not counted.
            wait_until(
                lambda: " ready." in running.log.read_text(),
                timeout=120,
                what="the worker",
                interval=0.2,
            )
            with Role(["poller"], env, log_dir / "poller.log"):
                wait_until(
                    lambda: (
                        client.xlen(settings.dead_stream) >= len(CASES)
                        and client.xlen(settings.articles_stream) >= 1
                    ),
                    timeout=240,
                    what="every hostile page dead-lettered",
                    interval=0.2,
                )
        polled = origin.times("/hostile.xml")[0] + wall_offset
        letters = {  # the entry id's milliseconds: when it was written (failed_at: seconds)
            _text(f[b"url"]): {"at": _text(i), **{_text(k): _text(v) for k, v in f.items()}}
            for i, f in client.xrange(settings.dead_stream)
        }
        published = int(client.xlen(settings.articles_stream))
        rows, ok = [], published == 1
        for (name, expected, _serve), path in zip(CASES, items, strict=True):
            letter = letters.get(origin.url(path), {})
            after = int(letter["at"].split("-")[0]) / 1000 - polled if letter else float("nan")
            good = letter.get("reason") == expected and after <= BOUND
            ok = ok and good
            rows.append(
                [
                    name,
                    expected,
                    letter.get("reason", "-"),
                    letter.get("attempts", "-"),
                    round(after, 1),
                    "yes" if good else "NO",
                ]
            )
        rows.append(
            [
                "normal page after them",
                "published",
                f"{published} article",
                "1",
                "",
                "yes" if published == 1 else "NO",
            ]
        )
        return rows, ok


def main() -> int:
    rows, ok = run(Path(tempfile.mkdtemp(prefix="nw-bench-hostile-pipeline-")))
    slowest = max(float(r[4]) for r in rows[:-1])
    print(
        table(
            "Hostile article pages: poller -> worker -> dead-letter stream, deployed defaults",
            ["input", "expected", "reason", "attempts", "s after the poll", f"within {BOUND:g} s"],
            rows,
            f"every hostile page dead-lettered within {slowest:.1f} s of the poll that found it"
            if ok
            else "FAILED: see the table",
        )
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
