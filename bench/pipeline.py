"""Pipeline overhead per article: one worker process against bare trafilatura, same pages.

    python -m bench.pipeline [--pages N] [--rounds R] [--smoke] [--profile N]

The corpus pages are served by the local origin (``bench.origin``). Each round runs, one
after the other on the same pages: bare ``trafilatura.bare_extraction`` on the HTML in this
process (twice: defaults, i.e. text only; and with its metadata, the like-for-like product),
then ``newswire worker --pool prefork -c 1`` doing fetch -> extract -> structure -> publish
for every page, enqueued through the real producer (``service.queue.Enqueuer``) and timed
from the first enqueue to the last ``XADD`` on ``newswire:articles``. The ratio of pages per
second is taken per round; the median round is reported. Light pages (under 300 KB) and
heavy ones (full publisher pages with scripts and inline JSON) are measured separately, the
"all" rows are their sums.

Then, after a warm-up on a few pages (language model, connections), one pass in this process
with timers splits a page's cost into fetch, decode + parse, the metadata readers,
trafilatura's text extraction, the fallbacks, language, the rest of the structuring, JSON and
the Redis publish, light and heavy pages apart; what the worker spends beyond that is the
Celery round trip and the task's own bookkeeping. ``--profile N`` only runs cProfile over
``extract_article`` on the pages (warm) and prints the top N functions.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import tempfile
import time
from collections import defaultdict
from contextlib import ExitStack, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import redis
import trafilatura

import service.extraction.article as article_module
from bench.common import (
    FastOrigin,
    Page,
    Timers,
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
from service.models import FeedEntry, FetchedPage
from service.queue import Enqueuer
from service.settings import Settings
from service.streams import Streams, article_json


def page_url(origin: FastOrigin, key: str, page: Page) -> str:
    return f"{origin.base()}/page/{key}/{page.name}"


def entry_for(url: str, page: Page) -> dict[str, Any]:
    """What the poller would hand the task: the feed entry that announced the page."""
    return FeedEntry(
        feed_url="http://127.0.0.1/feed.xml",
        entry_id=url,
        url=url,
        title=page.name.replace("_", " "),
    ).model_dump(mode="json")


def bare_round(pages: list[Page], **options: Any) -> tuple[float, float]:
    """Wall and CPU seconds of bare trafilatura over every page (the irreducible cost)."""
    start, cpu = time.perf_counter(), time.process_time()
    for page in pages:
        trafilatura.bare_extraction(page.html, url=page.url, **options)
    return time.perf_counter() - start, time.process_time() - cpu


def pipeline_round(
    client: redis.Redis,
    enqueuer: Enqueuer,
    origin: FastOrigin,
    pages: list[Page],
    key: str,
    settings: Settings,
) -> tuple[float, int]:
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
HEAVY_BYTES = 300_000  # a "heavy" page: a full publisher page with scripts and inline JSON
CLASSES = ("light", "heavy")
# Stages timed inside extract_article (module attributes wrapped while the pass runs; a
# name the extraction code no longer has is simply not split out).
STAGES: list[tuple[Any, str, str]] = [
    (article_module, "decode_html", "decode + parse HTML (once)"),
    (article_module, "parse_html", "decode + parse HTML (once)"),
    (article_module, "_read_page", "metadata readers (JSON-LD, meta, markup)"),
    (article_module, "drop_inert", "drop scripts, styles, SVG"),
    (trafilatura, "bare_extraction", "trafilatura main text"),
    (article_module, "find_standfirst", "standfirst"),
    (article_module, "_complete_fields", "fallbacks: bylines, htmldate"),
    (article_module, "choose_language", "language"),
]


def page_class(page: Page) -> str:
    return "heavy" if len(page.html) >= HEAVY_BYTES else "light"


def one_page(
    page: Page,
    origin: FastOrigin,
    settings: Settings,
    fetcher: Fetcher,
    streams: Streams,
    timers: Timers,
) -> None:
    url = page_url(origin, "inproc", page)
    entry = FeedEntry.model_validate(entry_for(url, page))
    with timers.time("fetch (HTTP, local origin)"):
        fetched = fetcher.fetch(url, kind="page")
    try:
        with timers.time("extract_article"):
            article = extract_article(
                fetched, entry, min_text_chars=50, max_depth=settings.max_html_depth
            )
    except IngestError:
        return
    with timers.time("Article -> JSON"):
        article_json(article)
    with timers.time("publish (JSON + Redis Lua XADD)"):
        streams.publish(article)


def breakdown(
    pages: list[Page], origin: FastOrigin, settings: Settings, client: redis.Redis
) -> dict[str, dict[str, float]]:
    """Seconds per stage over all pages of each class, the whole pipeline in this process.

    A first pass over a few pages warms the process (language model, connections, caches)
    so that no stage is charged a one-off start-up cost.
    """
    streams = Streams(client, settings)
    out: dict[str, dict[str, float]] = {}
    with Fetcher(settings) as fetcher:
        for page in pages[:5]:
            one_page(page, origin, settings, fetcher, streams, Timers())
        for name in CLASSES:
            timers = Timers()
            with ExitStack() as stack:
                for module, attr, stage in STAGES:
                    stack.enter_context(timers.wrap(module, attr, stage))
                for page in pages:
                    if page_class(page) == name:
                        one_page(page, origin, settings, fetcher, streams, timers)
            out[name] = split_stages(dict(timers.seconds))
    return out


def split_stages(seconds: dict[str, float]) -> dict[str, float]:
    inner = {stage for _m, _a, stage in STAGES}
    seconds["fusion, cleaning, Article model (rest of extract_article)"] = seconds.pop(
        "extract_article"
    ) - sum(v for k, v in seconds.items() if k in inner)
    seconds["Redis publish (Lua XADD)"] = (
        seconds.pop("publish (JSON + Redis Lua XADD)") - seconds["Article -> JSON"]
    )
    return seconds


def profile(pages: list[Page], top: int) -> str:
    """cProfile of ``extract_article`` over the pages (warm), by cumulative time."""
    now = datetime.now(UTC)
    fetched = [
        FetchedPage(
            requested_url=p.url, url=p.url, content=p.html, content_type="text/html", fetched_at=now
        )
        for p in pages
    ]
    for page in fetched[:5]:
        with suppress(IngestError):
            extract_article(page)
    profiler = cProfile.Profile()
    profiler.enable()
    for page in fetched:
        with suppress(IngestError):
            extract_article(page)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(top)
    return out.getvalue()


# --- the benchmark -------------------------------------------------------------------------
def run(*, pages_n: int | None, rounds: int) -> str:
    pages = load_pages(pages_n)
    groups = {name: [p for p in pages if page_class(p) == name] for name in CLASSES}
    groups = {name: group for name, group in groups.items() if group}
    log_dir = Path(tempfile.mkdtemp(prefix="nw-bench-pipeline-"))
    with redis_server() as server, FastOrigin(hosts=1) as origin:
        env = bench_env(server.url)
        settings = Settings(
            redis_url=server.url,
            allowed_networks="127.0.0.0/8",  # type: ignore[arg-type]
            min_text_chars=50,
        )
        client = redis.Redis.from_url(server.url)
        enqueuer = Enqueuer(settings)
        results: dict[str, list[float]] = defaultdict(list)
        assert server.process is not None
        redis_pid = server.process.pid
        with worker(env, 1, log_dir) as proc:
            warm = pages[:3]
            pipeline_round(client, enqueuer, origin, warm, "warm", settings)
            bare_round(warm)
            for r in range(rounds):
                for name, group in groups.items():
                    one_round(
                        results, name, group, r, proc, redis_pid, origin, client, enqueuer, settings
                    )
                totals(results, groups)
        stages = breakdown(pages, origin, settings, client)
        enqueuer.close()
        client.close()
    return report({name: len(group) for name, group in groups.items()}, rounds, results, stages)


def one_round(
    results: dict[str, list[float]],
    name: str,
    pages: list[Page],
    r: int,
    proc: Any,
    redis_pid: int,
    origin: FastOrigin,
    client: redis.Redis,
    enqueuer: Enqueuer,
    settings: Settings,
) -> None:
    """Bare trafilatura (both ways) and the worker on one class of pages; seconds in total."""
    wall, cpu = bare_round(pages)
    results[f"{name}/bare_wall"].append(wall)
    results[f"{name}/bare_cpu"].append(cpu)
    wall, cpu = bare_round(pages, with_metadata=True, include_comments=False)
    results[f"{name}/meta_wall"].append(wall)
    results[f"{name}/meta_cpu"].append(cpu)
    before = (proc.cpu(), cpu_seconds(redis_pid), cpu_seconds(origin.pid))
    wall, written = pipeline_round(client, enqueuer, origin, pages, f"r{r}{name}", settings)
    after = (proc.cpu(), cpu_seconds(redis_pid), cpu_seconds(origin.pid))
    results[f"{name}/pipe_wall"].append(wall)
    results[f"{name}/pipe_cpu"].append(after[0] - before[0])
    results[f"{name}/redis_cpu"].append(after[1] - before[1])
    results[f"{name}/origin_cpu"].append(after[2] - before[2])
    results[f"{name}/written"].append(written)


def totals(results: dict[str, list[float]], groups: dict[str, list[Page]]) -> None:
    """This round's figures over all pages (the classes summed), and its ratios."""
    for key in (
        "bare_wall",
        "bare_cpu",
        "meta_wall",
        "meta_cpu",
        "pipe_wall",
        "pipe_cpu",
        "redis_cpu",
        "origin_cpu",
        "written",
    ):
        results[f"all/{key}"].append(sum(results[f"{name}/{key}"][-1] for name in groups))
    for name in ("all", *groups):
        cpu = results[f"{name}/pipe_cpu"][-1]
        results[f"{name}/cpu_ratio"].append(results[f"{name}/bare_cpu"][-1] / cpu)
        results[f"{name}/cpu_ratio_meta"].append(results[f"{name}/meta_cpu"][-1] / cpu)
        results[f"{name}/wall_ratio"].append(
            results[f"{name}/bare_wall"][-1] / results[f"{name}/pipe_wall"][-1]
        )


def report(
    counts: dict[str, int],
    rounds: int,
    results: dict[str, list[float]],
    stages: dict[str, dict[str, float]],
) -> str:
    m = {key: median(values) for key, values in results.items()}
    ms, n = 1000.0, sum(counts.values())
    sizes = {"all": n, **counts}

    def row(label: str, name: str, key: str) -> list[object]:
        wall, cpu = m[f"{name}/{key}_wall"] / sizes[name], m[f"{name}/{key}_cpu"] / sizes[name]
        return [
            label,
            1 / wall,
            wall * ms,
            cpu * ms,
            1 / cpu,
            m[f"{name}/bare_cpu"] / sizes[name] / cpu,
        ]

    rows: list[list[object]] = []
    for name in sizes:
        rows += [
            row(f"{name}: bare trafilatura, defaults (text only)", name, "bare"),
            row(f"{name}: bare trafilatura, with_metadata=True", name, "meta"),
            row(f"{name}: newswire worker -c 1 (fetch, extract, structure, publish)", name, "pipe"),
            [
                f"{name}:   + redis-server CPU / + origin CPU",
                "",
                "",
                f"{m[f'{name}/redis_cpu'] / sizes[name] * ms:.2f} / "
                f"{m[f'{name}/origin_cpu'] / sizes[name] * ms:.2f}",
                "",
                "",
            ],
        ]
    first = stage_table(counts, m, stages)
    second = table(
        f"Pipeline throughput, {n} corpus pages ({counts.get('light', 0)} light, "
        f"{counts.get('heavy', 0)} heavy >= {HEAVY_BYTES // 1000} KB), {rounds} round(s), "
        "median round",
        [
            "what",
            "pages/s (wall)",
            "wall ms/page",
            "CPU ms/page",
            "pages per CPU-s",
            "÷ bare (CPU)",
        ],
        rows,
        "pages per CPU-second ÷ bare (defaults), light / heavy: "
        + " / ".join(f"{m[f'{name}/cpu_ratio']:.2f}" for name in counts)
        + f"; wall-clock ÷ bare: {m['all/wall_ratio']:.2f}; "
        f"÷ bare with metadata: {m['all/cpu_ratio_meta']:.2f}; "
        f"articles published per round: {min(results['all/written']):.0f} of {n}",
    )
    headline = (
        f"HEADLINE newswire worker ÷ bare trafilatura (defaults), pages per CPU-second: "
        f"{m['all/cpu_ratio']:.2f} (target ≥ 1.0)"
    )
    return f"{first}\n\n{second}\n{headline}"


def stage_table(
    counts: dict[str, int], m: dict[str, float], stages: dict[str, dict[str, float]]
) -> str:
    ms = 1000.0
    names = [name for name in CLASSES if name in counts]
    order = sorted(
        {stage for name in names for stage in stages[name]},
        key=lambda stage: -sum(stages[name].get(stage, 0.0) for name in names),
    )
    rows: list[list[object]] = [
        [f"  {stage}", *(ms * stages[name].get(stage, 0.0) / counts[name] for name in names)]
        for stage in order
    ]
    rows.append(
        [
            "  sum of the stages (in-process)",
            *(ms * sum(stages[name].values()) / counts[name] for name in names),
        ]
    )
    rows.append(
        [
            "  Celery round trip + task bookkeeping (worker CPU - in-process sum)",
            *(
                ms * (m[f"{name}/pipe_cpu"] - sum(stages[name].values())) / counts[name]
                for name in names
            ),
        ]
    )
    rows.append(
        [
            "  worker CPU ms/page (median round)",
            *(ms * m[f"{name}/pipe_cpu"] / counts[name] for name in names),
        ]
    )
    return table(
        "Where a worker's time per page goes (in-process timers after a warm-up, same pages)",
        ["stage", *(f"{name} CPU ms/page" for name in names)],
        rows,
        "stages: " + ", ".join(f"{name} {counts[name]} pages" for name in names),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--pages", type=int, default=None, help="corpus pages (default: all)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--smoke", action="store_true", help="8 pages, 1 round")
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="N",
        help="only profile extract_article in this process (cProfile, warm), "
        "print the top N functions by cumulative time",
    )
    args = parser.parse_args()
    if args.profile:
        print(profile(load_pages(args.pages), args.profile), flush=True)
        return
    if args.smoke:
        args.pages, args.rounds = 8, 1
    print(run(pages_n=args.pages, rounds=args.rounds), flush=True)


if __name__ == "__main__":
    main()
