"""newswire's extraction next to the other article extractors, same pages, same core.

    python -m bench.peers [--corpus DIR] [--limit N] [--repeat R] [--core K]

Runs, in this one process pinned to one core, on every corpus page (the HTML already in
memory, no network): newswire's ``extract_article``, trafilatura with its defaults (text
only) and with its metadata, newspaper4k, goose3 and readability-lxml (+ the metadata each
has). For each: pages per CPU-second, median and p95 CPU ms per page, and the quality figures
of ``bench.quality`` (one implementation of the metrics): body ROUGE-L F1, title, authors
(people), date. A figure an extractor does not produce (trafilatura's text-only mode and
readability have no authors or date) shows as "—". The extractors alternate on each page;
the CPU time is the minimum over ``--repeat`` runs.

The peers are development-only dependencies: ``pip install -e '.[peers]'`` (``make bench``
installs them).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import socket
import statistics
import time
from collections.abc import Callable
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import trafilatura
from dateutil import parser as date_parser
from lxml import html as lxml_html

from bench.quality import (
    DEFAULT_CORPUS,
    Case,
    Result,
    authors_ok,
    body_f1,
    date_ok,
    load_cases,
    run_newswire,
    run_trafilatura,
    title_ok,
)

Extractor = Callable[[Case], Result]
# The fields each extractor yields at all (the others are not scored).
ALL_FIELDS = ("title", "authors", "date")
_BLOCKS = ("p", "div", "li", "h1", "h2", "h3", "h4", "blockquote", "pre", "tr", "br")


def run_trafilatura_text(case: Case) -> Result:
    document = trafilatura.bare_extraction(case.html, url=case.url)
    return Result(text=(document.text or "") if document is not None else "")


def run_newspaper(case: Case) -> Result:
    import newspaper  # a peer: imported only when measured (the `peers` extra)

    article = newspaper.Article(case.url, fetch_images=False)
    article.download(input_html=case.html.decode("utf-8", "replace"))
    article.parse()
    return Result(article.title, _names(article.authors), _day(article.publish_date), article.text)


@cache
def _goose() -> Any:
    """One Goose (its configuration and parsers) for the run; it never fetches images."""
    from goose3 import Goose

    return Goose({"enable_image_fetching": False, "http_timeout": 0.01})


def run_goose(case: Case) -> Result:
    found = _goose().extract(raw_html=case.html.decode("utf-8", "replace"))
    return Result(
        found.title, _names(found.authors), _day(found.publish_date), found.cleaned_text or ""
    )


def run_readability(case: Case) -> Result:
    from readability import Document

    document = Document(case.html.decode("utf-8", "replace"), url=case.url)
    body = lxml_html.fromstring(document.summary(html_partial=True))
    for element in body.iter(*_BLOCKS):
        element.tail = "\n" + (element.tail or "")
    return Result(title=document.short_title(), text=body.text_content())


def _names(value: object) -> list[str]:
    """A peer's authors as a flat list of strings (goose3 nests lists on some pages)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [name for item in value for name in _names(item)]
    return []


def _day(value: object) -> datetime | date | None:
    """A peer's publication time: aware datetimes as they are, naive ones as their day."""
    if isinstance(value, str) and value.strip():
        try:
            value = date_parser.parse(value)
        except (ValueError, OverflowError):
            return None
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.date()
    return value if isinstance(value, date) else None


# name -> (extractor, fields it yields)
PEERS: dict[str, tuple[Extractor, tuple[str, ...]]] = {
    "newswire": (run_newswire, ALL_FIELDS),
    "trafilatura (defaults, text only)": (run_trafilatura_text, ()),
    "trafilatura (with metadata)": (run_trafilatura, ALL_FIELDS),
    "newspaper4k": (run_newspaper, ALL_FIELDS),
    "goose3": (run_goose, ALL_FIELDS),
    "readability-lxml": (run_readability, ("title",)),
}


PEER_MODULES = {"newspaper4k": "newspaper", "goose3": "goose3", "readability-lxml": "readability"}


def installed() -> tuple[dict[str, tuple[Extractor, tuple[str, ...]]], list[str]]:
    """The extractors whose library is installed, and the names of those that are not."""
    found = {
        name: peer
        for name, peer in PEERS.items()
        if name not in PEER_MODULES or importlib.util.find_spec(PEER_MODULES[name]) is not None
    }
    return found, [name for name in PEERS if name not in found]


def guarded(extractor: Extractor) -> Extractor:
    """A peer's crash on a page is that page's miss, not the end of the run."""

    def run(case: Case) -> Result:
        try:
            return extractor(case)
        except Exception as exc:  # third-party code: any failure is a miss
            return Result(error=f"{type(exc).__name__}: {exc}"[:200])

    return run


def no_network() -> None:
    """Every peer works on the HTML in memory: a connection attempt is refused, not made."""

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise OSError("bench.peers: no network")

    socket.socket.connect = refuse  # type: ignore[method-assign,assignment]
    socket.create_connection = refuse  # type: ignore[assignment]


def measure(
    cases: list[Case], repeat: int
) -> tuple[dict[str, list[Result]], dict[str, list[float]]]:
    """Every extractor on every page, alternating order, ``repeat`` times; min CPU s a page."""
    runs = {name: guarded(extractor) for name, (extractor, _fields) in installed()[0].items()}
    for run in runs.values():  # warm-up: imports, models, caches
        run(cases[0])
    results: dict[str, list[Result]] = {name: [] for name in runs}
    cpu: dict[str, list[float]] = {name: [] for name in runs}
    for index, case in enumerate(cases):
        best = dict.fromkeys(runs, float("inf"))
        for attempt in range(repeat):
            order = list(runs.items())
            shift = (index + attempt) % len(order)
            for name, run in order[shift:] + order[:shift]:
                start = time.process_time()
                result = run(case)
                best[name] = min(best[name], time.process_time() - start)
                if attempt == 0:
                    results[name].append(result)
        for name in runs:
            cpu[name].append(best[name])
    return results, cpu


def report(cases: list[Case], results: dict[str, list[Result]], cpu: dict[str, list[float]]) -> str:
    names = list(results)
    metrics: list[tuple[str, str, Callable[[Case, Result], float]]] = [
        ("body ROUGE-L F1", "body", body_f1),
        ("title match %", "title", title_ok),
        ("authors match (people) %", "authors", authors_ok),
        ("date same day %", "date", date_ok),
    ]
    lines = [
        f"### Extractors side by side: {len(cases)} corpus pages, one process, one core",
        "",
        "| | " + " | ".join(names) + " |",
        "| --- |" + " ---: |" * len(names),
    ]

    def cells(values: list[str]) -> str:
        return " | ".join(values) + " |"

    total = {name: sum(cpu[name]) for name in names}
    lines.append(
        "| pages per CPU-second | " + cells([f"{len(cases) / total[n]:.1f}" for n in names])
    )
    for label, q in (("median CPU ms/page", 0.5), ("p95 CPU ms/page", 0.95)):
        lines.append(f"| {label} | " + cells([f"{1000 * quantile(cpu[n], q):.1f}" for n in names]))
    for label, key, metric in metrics:
        row = []
        for name in names:
            fields = PEERS[name][1]
            if key != "body" and key not in fields:
                row.append("—")
                continue
            row.append(f"{100 * statistics.fmean(map(metric, cases, results[name])):.1f}")
        lines.append(f"| {label} | " + cells(row))
    failed = [f"{n} {sum(1 for r in results[n] if r.error)}" for n in names]
    lines += ["", "pages an extractor failed on (counted as misses): " + ", ".join(failed)]
    ratio = total["trafilatura (defaults, text only)"] / total["newswire"]
    lines.append(
        f"HEADLINE newswire pages per CPU-second ÷ bare trafilatura (defaults), "
        f"extraction alone: {ratio:.2f}"
    )
    return "\n".join(lines)


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else None)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--limit", type=int, default=None, help="first N pages (smoke run)")
    parser.add_argument("--step", type=int, default=1, help="every STEP-th page (a spread sample)")
    parser.add_argument("--repeat", type=int, default=1, help="timing runs per page")
    parser.add_argument(
        "--core",
        type=int,
        default=None,
        help="the CPU to pin this process to (default: the first allowed)",
    )
    args = parser.parse_args(argv)
    core = args.core if args.core is not None else min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {core})
    no_network()
    cases = load_cases(args.corpus)[:: max(1, args.step)][: args.limit]
    missing = installed()[1]
    if missing:
        print(f"not installed, left out: {', '.join(missing)} (pip install -e '.[peers]')")
    results, cpu = measure(cases, max(1, args.repeat))
    print(report(cases, results, cpu), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
