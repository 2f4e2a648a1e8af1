"""Pipeline overhead per article: one worker process against bare trafilatura, same pages.

    python -m bench.pipeline [--pages N] [--rounds R] [--smoke]

The corpus pages are served by the local origin (``bench.origin``). Each round runs, one
after the other on the same pages: bare ``trafilatura.bare_extraction`` on the HTML in this
process (twice: defaults, i.e. text only; and with its metadata, the like-for-like product),
then ``newswire worker --pool prefork -c 1`` doing fetch -> extract -> structure -> publish
for every page, enqueued through the real producer (``service.queue.Enqueuer``) and timed
from the first enqueue to the last ``XADD`` on ``newswire:articles``. The ratio of pages per
second is taken per round; the median round is reported.

Then one pass in this process with timers splits a page's cost into fetch, decode + parse,
trafilatura's text extraction, metadata/fusion/cleaning, JSON and the Redis publish; what
the worker spends beyond that is the Celery round trip and the task's own bookkeeping.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import redis
import trafilatura

import service.extraction.article as article_module
import service.extraction.body as body_module
from bench.common import (
    FastOrigin,
    Page,
    bench_env,
    cpu_seconds,
    drained,
    load_pages,
    median,
    redis_server,
    stream_span,
    table,
    wait_until,
    worker,
)
from service.errors import IngestError
from service.extraction import extract_article
from service.fetching import Fetcher
from service.models import FeedEntry
from service.queue import Enqueuer
from service.settings import Settings
from service.streams import Streams, article_json


def page_url(origin: FastOrigin, key: str, page: Page) -> str:
    return f"{origin.base()}/page/{key}/{page.name}"


def entry_for(url: str, page: Page) -> dict[str, Any]:
    """What the poller would hand the task: the feed entry that announced the page."""
    return FeedEntry(feed_url="http://127.0.0.1/feed.xml", entry_id=url, url=url,
                     title=page.name.replace("_", " ")).model_dump(mode="json")


def bare_round(pages: list[Page], **options: Any) -> tuple[float, float]:
    """Wall and CPU seconds of bare trafilatura over every page (the irreducible cost)."""
    start, cpu = time.perf_counter(), time.process_time()
    for page in pages:
        trafilatura.bare_extraction(page.html, url=page.url, **options)
    return time.perf_counter() - start, time.process_time() - cpu


def pipeline_round(client: redis.Redis, enqueuer: Enqueuer, origin: FastOrigin,
                   pages: list[Page], key: str, settings: Settings) -> tuple[float, int]:
    """Seconds from the first enqueue to the last article published, and articles written."""
    since = int(time.time() * 1000)
    start = time.time()
    for page in pages:
        url = page_url(origin, key, page)
        enqueuer.enqueue(url, "http://127.0.0.1/feed.xml", entry_for(url, page))

    def done() -> bool:
        return drained(client)

    wait_until(done, timeout=60 + 2 * len(pages), what="the worker to drain its queue")
    written, last = stream_span(client, settings.articles_stream, since)
    dead, last_dead = stream_span(client, settings.dead_stream, since)
    return max(last, last_dead) - start, written + dead


# --- in-process breakdown ------------------------------------------------------------------
class Timers:
    """Seconds spent per stage; ``wrap`` times calls of a module attribute."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)

    @contextmanager
    def time(self, stage: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[stage] += time.perf_counter() - start

    @contextmanager
    def wrap(self, module: Any, name: str, stage: str) -> Iterator[None]:
        original: Callable[..., Any] | None = getattr(module, name, None)
        if original is None:  # the extraction code moved on: that stage is not split out
            yield
            return

        def timed(*args: Any, **kwargs: Any) -> Any:
            with self.time(stage):
                return original(*args, **kwargs)

        setattr(module, name, timed)
        try:
            yield
        finally:
            setattr(module, name, original)


def breakdown(pages: list[Page], origin: FastOrigin, settings: Settings,
              client: redis.Redis) -> dict[str, float]:
    """Seconds per stage over all pages, the whole pipeline run in this process."""
    timers = Timers()
    streams = Streams(client, settings)
    with (Fetcher(settings) as fetcher,
          timers.wrap(article_module, "decode_html", "decode + parse HTML (once)"),
          timers.wrap(article_module, "parse_html", "decode + parse HTML (once)"),
          timers.wrap(trafilatura, "bare_extraction", "trafilatura main text"),
          timers.wrap(body_module, "find_date", "fallbacks: htmldate, bylines"),
          timers.wrap(body_module, "extract_author", "fallbacks: htmldate, bylines")):
        for page in pages:
            url = page_url(origin, "inproc", page)
            entry = FeedEntry.model_validate(entry_for(url, page))
            with timers.time("fetch (HTTP, local origin)"):
                fetched = fetcher.fetch(url, kind="page")
            try:
                with timers.time("extract_article"):
                    article = extract_article(fetched, entry, min_text_chars=50,
                                              max_depth=settings.max_html_depth)
            except IngestError:
                continue
            with timers.time("Article -> JSON"):
                article_json(article)
            with timers.time("publish (JSON + Redis Lua XADD)"):
                streams.publish(article)
    out = dict(timers.seconds)
    inner = sum(out.get(k, 0.0) for k in ("decode + parse HTML (once)", "trafilatura main text",
                                           "fallbacks: htmldate, bylines"))
    out["metadata, fusion, cleaning, model"] = out.pop("extract_article") - inner
    out["Redis publish (Lua XADD)"] = (out.pop("publish (JSON + Redis Lua XADD)")
                                       - out["Article -> JSON"])
    return out


# --- the benchmark -------------------------------------------------------------------------
def run(*, pages_n: int | None, rounds: int) -> str:
    pages = load_pages(pages_n)
    log_dir = Path(tempfile.mkdtemp(prefix="nw-bench-pipeline-"))
    with redis_server() as server, FastOrigin(hosts=1) as origin:
        env = bench_env(server.url)
        settings = Settings(redis_url=server.url, allowed_networks="127.0.0.0/8",  # type: ignore[arg-type]
                            min_text_chars=50)
        client = redis.Redis.from_url(server.url)
        enqueuer = Enqueuer(settings)
        results: dict[str, list[float]] = defaultdict(list)
        assert server.process is not None
        redis_pid, n = server.process.pid, len(pages)
        with worker(env, 1, log_dir) as proc:
            warm = pages[:3]
            pipeline_round(client, enqueuer, origin, warm, "warm", settings)
            bare_round(warm)
            for r in range(rounds):
                wall, cpu = bare_round(pages)
                results["bare_wall"].append(wall / n)
                results["bare_cpu"].append(cpu / n)
                wall, cpu = bare_round(pages, with_metadata=True, include_comments=False)
                results["meta_wall"].append(wall / n)
                results["meta_cpu"].append(cpu / n)
                before = (proc.cpu(), cpu_seconds(redis_pid), cpu_seconds(origin.pid))
                wall, written = pipeline_round(client, enqueuer, origin, pages, f"r{r}",
                                               settings)
                after = (proc.cpu(), cpu_seconds(redis_pid), cpu_seconds(origin.pid))
                results["pipe_wall"].append(wall / n)
                results["pipe_cpu"].append((after[0] - before[0]) / n)
                results["redis_cpu"].append((after[1] - before[1]) / n)
                results["origin_cpu"].append((after[2] - before[2]) / n)
                results["cpu_ratio"].append(results["bare_cpu"][-1] / results["pipe_cpu"][-1])
                results["cpu_ratio_meta"].append(
                    results["meta_cpu"][-1] / results["pipe_cpu"][-1])
                results["wall_ratio"].append(results["bare_wall"][-1] / results["pipe_wall"][-1])
                results["written"].append(written)
        stages = breakdown(pages, origin, settings, client)
        enqueuer.close()
        client.close()
    return report(n, rounds, results, stages)


def report(n: int, rounds: int, results: dict[str, list[float]],
           stages: dict[str, float]) -> str:
    m = {key: median(values) for key, values in results.items()}
    ms = 1000.0

    def row(name: str, key: str) -> list[object]:
        wall, cpu = m[f"{key}_wall"], m[f"{key}_cpu"]
        return [name, 1 / wall, wall * ms, cpu * ms, 1 / cpu, m["bare_cpu"] / cpu]

    rows: list[list[object]] = [
        row("bare trafilatura, defaults (text only)", "bare"),
        row("bare trafilatura, with_metadata=True", "meta"),
        row("newswire worker -c 1 (fetch, extract, structure, publish)", "pipe"),
        ["  + redis-server CPU (broker + publish)", "", "", m["redis_cpu"] * ms, "", ""],
        ["  + local origin CPU (serving the page)", "", "", m["origin_cpu"] * ms, "", ""],
    ]
    inproc = sum(stages.values()) / n
    split: list[list[object]] = [
        [f"  {name}", ms * sec / n, f"{100 * sec / n / m['pipe_wall']:.0f} %"]
        for name, sec in sorted(stages.items(), key=lambda kv: -kv[1])]
    split.append(["  Celery round trip + task bookkeeping (worker wall - in-process)",
                  ms * (m["pipe_wall"] - inproc), f"{100 * (1 - inproc / m['pipe_wall']):.0f} %"])
    first = table("Where a worker's time per page goes (in-process timers, same pages)",
                  ["stage", "ms/page", "share of worker wall time"], split,
                  f"articles published per round: {min(results['written']):.0f} of {n}")
    second = table(
        f"Pipeline throughput, {n} corpus pages, {rounds} round(s), median round",
        ["what", "pages/s (wall)", "wall ms/page", "CPU ms/page", "pages per CPU-s",
         "÷ bare (CPU)"], rows,
        f"wall-clock pages/s ÷ bare (defaults): {m['wall_ratio']:.2f}; "
        f"pages per CPU-second ÷ bare with metadata: {m['cpu_ratio_meta']:.2f}")
    headline = (f"HEADLINE newswire worker ÷ bare trafilatura (defaults), pages per CPU-second: "
                f"{m['cpu_ratio']:.2f} (target ≥ 0.90)")
    return f"{first}\n\n{second}\n{headline}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--pages", type=int, default=None, help="corpus pages (default: all)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--smoke", action="store_true", help="8 pages, 1 round")
    args = parser.parse_args()
    if args.smoke:
        args.pages, args.rounds = 8, 1
    print(run(pages_n=args.pages, rounds=args.rounds), flush=True)


if __name__ == "__main__":
    main()
