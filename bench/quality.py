"""Extraction quality and cost on the real-page corpus: newswire next to bare trafilatura.

    python -m bench.quality [--corpus tests/data/corpus/pages] [--limit N] [--repeat R] [--misses]
    python -m bench.quality --benchmark DIR   # body F1 on the article-extraction-benchmark

The corpus is split by publisher into a development half and a check half (``half_of``: a
hash of the publisher's name, never chosen by hand); every figure is reported on both
halves and on the whole. Rules are developed on the first half and kept only if they do
not lose on the second.

Metrics (each page counts once; a page whose extraction fails counts as a miss everywhere):
- title: exact match after Unicode NFKC, case folding and whitespace collapsing;
- authors (people): the *set* of author names equals the expected set, names compared
  after the same normalisation, order ignored, an expected empty set needs an empty result
  -- after removing from both sets the names of the publisher itself (the page's
  og:site_name/application-name, its JSON-LD publisher names, its host name), because
  Article v1 lists people and agencies, not the publisher (that is ``site.name``);
- authors (raw): the same without removing publisher names (fundus lists e.g. "BBC News");
- date: the calendar day of the extracted publication time, read in the UTC offset the
  expected timestamp states (UTC when it states none), equals the expected day;
  trafilatura only yields a day (its htmldate output), which is compared as is;
- body: ROUGE-L F1 (longest common subsequence of word tokens, lower-cased NFKC; CJK
  characters count as one token each) of the extracted text against the expected
  ``summary`` + ``paragraphs``, averaged over pages, x100;
- cost: wall time of one extraction per page, minimum over ``--repeat`` runs, the two
  extractors alternating on the same page; the last line is the ratio of total times.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import re
import statistics
import sys
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import trafilatura
from lxml import html as lxml_html

from service.errors import IngestError
from service.extraction import extract_article
from service.models import FetchedPage
from tests.support.corpus import corpus_root

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = corpus_root() / "pages"
FETCHED_AT = datetime(2030, 1, 1, tzinfo=UTC)  # after every page of the corpus
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN = re.compile(f"[{_CJK}]|[^\\W{_CJK}]+")


@dataclass(frozen=True)
class Case:
    """One corpus page and what fundus' hand-written parser says it holds."""

    name: str
    html: bytes
    expected: dict[str, Any]

    @property
    def url(self) -> str:
        return str(self.expected["url"])

    @property
    def publisher(self) -> str:
        """The publisher, from the file name ``<country>_<Publisher>_<yyyy>_<mm>_<dd>``."""
        parts = self.name.split("_")
        return parts[1] if len(parts) > 1 else self.name

    @property
    def half(self) -> str:
        return half_of(self.publisher)


HALVES = ("dev", "check")


def half_of(publisher: str) -> str:
    """``dev`` or ``check``: the parity of the first byte of the name's SHA-256, so every
    page of a publisher falls in the same half and nobody picks the halves."""
    digest = hashlib.sha256(publisher.casefold().encode()).digest()
    return HALVES[digest[0] % 2]


@dataclass
class Result:
    """What one extractor found on one page, reduced to the measured fields."""

    title: str | None = None
    authors: list[str] = field(default_factory=list)
    published: datetime | date | None = None
    text: str = ""
    error: str | None = None


def load_cases(corpus: Path, limit: int | None = None) -> list[Case]:
    """The corpus pages (``*.html.gz`` + ``*.json``), sorted by name."""
    pages = sorted(corpus.glob("*.html.gz"))[:limit]
    if not pages:
        raise SystemExit(f"no pages in {corpus}")
    return [
        Case(
            path.name.removesuffix(".html.gz"),
            gzip.decompress(path.read_bytes()),
            json.loads(path.with_name(path.name.replace(".html.gz", ".json")).read_text()),
        )
        for path in pages
    ]


def page_of(case: Case) -> FetchedPage:
    return FetchedPage(
        requested_url=case.url,
        url=case.url,
        content=case.html,
        content_type="text/html",
        fetched_at=FETCHED_AT,
    )


def run_newswire(case: Case) -> Result:
    try:
        article = extract_article(page_of(case))
    except IngestError as exc:
        return Result(error=str(exc))
    return Result(article.title, article.authors, article.published_at, article.text)


def run_trafilatura(case: Case) -> Result:
    document = trafilatura.bare_extraction(
        case.html, url=case.url, with_metadata=True, include_comments=False
    )
    if document is None:
        return Result(error="no result")
    day = None
    if document.date:
        try:
            day = date.fromisoformat(document.date[:10])
        except ValueError:
            day = None
    authors = [name.strip() for name in (document.author or "").split(";") if name.strip()]
    return Result(document.title, authors, day, document.text or "")


# --- metrics -----------------------------------------------------------------------------


def norm(text: str | None) -> str:
    return " ".join(unicodedata.normalize("NFKC", text or "").casefold().split())


def title_ok(case: Case, result: Result) -> bool:
    return bool(result.title) and norm(result.title) == norm(case.expected["title"])


def authors_raw_ok(case: Case, result: Result) -> bool:
    return {norm(name) for name in result.authors} == {
        norm(name) for name in case.expected["authors"]
    }


def authors_ok(case: Case, result: Result) -> bool:
    publisher = publisher_keys(case)
    found = {norm(name) for name in result.authors if _letters(name) not in publisher}
    wanted = {norm(name) for name in case.expected["authors"] if _letters(name) not in publisher}
    return found == wanted


def _letters(text: str) -> str:
    return "".join(char for char in norm(text) if char.isalnum())


def publisher_keys(case: Case) -> set[str]:
    """Letters-only keys of the publisher's names as the page declares them, and its host."""
    tree = lxml_html.fromstring(case.html)
    names = [
        str(value)
        for value in tree.xpath(
            '//meta[@property="og:site_name" or @name="application-name"]/@content'
        )
    ]
    for script in tree.xpath('//script[@type="application/ld+json"]/text()'):
        try:
            names.extend(_publisher_names(json.loads(script, strict=False)))
        except ValueError:
            continue
    host = (urlsplit(case.url).hostname or "").removeprefix("www.")
    return {_letters(name) for name in [*names, host, host.split(".")[0]] if _letters(name)}


def _publisher_names(value: Any) -> list[str]:
    if isinstance(value, list):
        return [name for item in value for name in _publisher_names(item)]
    if not isinstance(value, dict):
        return []
    names = _publisher_names(value.get("@graph", []))
    publisher = value.get("publisher")
    for item in publisher if isinstance(publisher, list) else [publisher]:
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            names.append(item["name"])
    return names


def expected_time(case: Case) -> datetime | None:
    raw = case.expected.get("published")
    return datetime.fromisoformat(raw) if raw else None


def date_ok(case: Case, result: Result) -> bool:
    expected = expected_time(case)
    found = result.published
    if expected is None or found is None:
        return expected is None and found is None
    if isinstance(found, datetime):
        found = found.astimezone(expected.tzinfo or UTC).date()
    return found == expected.date()


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(unicodedata.normalize("NFKC", text).casefold())


def lcs_length(a: list[str], b: list[str]) -> int:
    """Length of the longest common subsequence, bit-parallel (Allison-Dix/Hyyro)."""
    if not a or not b:
        return 0
    masks: dict[str, int] = {}
    for position, token in enumerate(b):
        masks[token] = masks.get(token, 0) | (1 << position)
    full = (1 << len(b)) - 1
    row = full
    for token in a:
        match = row & masks.get(token, 0)
        row = ((row + match) | (row - match)) & full
    return len(b) - row.bit_count()


def rouge_l(candidate: str, reference: str) -> float:
    """ROUGE-L F1 of word tokens (0..1)."""
    found, wanted = tokens(candidate), tokens(reference)
    common = lcs_length(found, wanted)
    if not common:
        return 0.0
    precision, recall = common / len(found), common / len(wanted)
    return 2 * precision * recall / (precision + recall)


def reference_text(case: Case) -> str:
    return "\n".join([*case.expected.get("summary", []), *case.expected.get("paragraphs", [])])


def body_f1(case: Case, result: Result) -> float:
    return rouge_l(result.text, reference_text(case))


# --- the run -----------------------------------------------------------------------------

Extractor = Callable[[Case], Result]
EXTRACTORS: dict[str, Extractor] = {"newswire": run_newswire, "trafilatura": run_trafilatura}


Measured = tuple[dict[str, list[Result]], dict[str, list[float]]]


def measure(cases: list[Case], repeat: int) -> Measured:
    """Every extractor on every page, alternating, ``repeat`` times; minimum time per page."""
    for extractor in EXTRACTORS.values():  # warm-up: imports, models, caches
        extractor(cases[0])
    results: dict[str, list[Result]] = {name: [] for name in EXTRACTORS}
    times: dict[str, list[float]] = {name: [] for name in EXTRACTORS}
    for index, case in enumerate(cases):
        best = {name: float("inf") for name in EXTRACTORS}
        for run in range(repeat):
            order = list(EXTRACTORS.items())
            if (index + run) % 2:
                order.reverse()
            for name, extractor in order:
                start = time.perf_counter()
                result = extractor(case)
                best[name] = min(best[name], time.perf_counter() - start)
                if run == 0:
                    results[name].append(result)
        for name in EXTRACTORS:
            times[name].append(best[name] * 1000)
    return results, times


def scores(cases: list[Case], results: list[Result]) -> dict[str, float]:
    count = len(cases)
    return {
        "title": 100 * sum(map(title_ok, cases, results)) / count,
        "authors": 100 * sum(map(authors_ok, cases, results)) / count,
        "authors_raw": 100 * sum(map(authors_raw_ok, cases, results)) / count,
        "date": 100 * sum(map(date_ok, cases, results)) / count,
        "body": 100 * statistics.fmean(map(body_f1, cases, results)),
    }


_LABELS = {
    "title": "title match",
    "authors": "authors match (people)",
    "authors_raw": "authors match (raw)",
    "date": "date same day",
    "body": "body ROUGE-L F1",
}


def report(
    cases: list[Case], results: dict[str, list[Result]], times: dict[str, list[float]]
) -> None:
    """The figures on the whole corpus and on each half, then the cost."""
    subsets = {"all": [True] * len(cases)}
    subsets.update({half: [case.half == half for case in cases] for half in HALVES})
    counts = ", ".join(f"{name} {sum(keep)}" for name, keep in subsets.items())
    print(f"{len(cases)} pages ({counts})\n")
    columns: list[tuple[str, dict[str, float]]] = []
    for subset, keep in subsets.items():
        chosen = [case for case, kept in zip(cases, keep, strict=True) if kept]
        for name, found in results.items():
            picked = [result for result, kept in zip(found, keep, strict=True) if kept]
            if chosen:
                columns.append((f"{name} {subset}", scores(chosen, picked)))
    print(f"| metric | {' | '.join(label for label, _ in columns)} |")
    print(f"| --- | {' | '.join('---:' for _ in columns)} |")
    for metric, label in _LABELS.items():
        unit = "" if metric == "body" else "%"
        cells = " | ".join(f"{table[metric]:.1f}{unit}" for _, table in columns)
        print(f"| {label} | {cells} |")
    print(
        f"\n| cost | {' | '.join(EXTRACTORS)} |\n| --- | {' | '.join('---:' for _ in EXTRACTORS)} |"
    )
    for label, pick in (("median ms/page", 0.5), ("p95 ms/page", 0.95)):
        cells = " | ".join(f"{_quantile(times[name], pick):.1f}" for name in EXTRACTORS)
        print(f"| {label} | {cells} |")
    ratio = sum(times["newswire"]) / sum(times["trafilatura"])
    print(f"\ncost ratio newswire/trafilatura (total time): {ratio:.2f}x")


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def print_misses(cases: list[Case], results: list[Result]) -> None:
    """Every newswire miss, for reading failures (``--misses``)."""
    for case, result in zip(cases, results, strict=True):
        name = f"[{case.half}] {case.name}"
        if result.error:
            print(f"{name}: ERROR {result.error}")
            continue
        if not title_ok(case, result):
            print(f"{name}: title {result.title!r} != {case.expected['title']!r}")
        if not authors_ok(case, result):
            print(f"{name}: authors {result.authors!r} != {case.expected['authors']!r}")
        if not date_ok(case, result):
            print(f"{name}: date {result.published} != {case.expected['published']}")
        f1 = body_f1(case, result)
        if f1 < 0.9:
            print(f"{name}: body ROUGE-L {f1:.3f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--limit", type=int, default=None, help="first N pages (smoke run)")
    parser.add_argument("--repeat", type=int, default=3, help="timing runs per page")
    parser.add_argument("--misses", action="store_true", help="list newswire's misses")
    parser.add_argument(
        "--benchmark",
        type=Path,
        default=None,
        help="instead: body F1 on a benchmark checkout (html/, ground-truth.json)",
    )
    args = parser.parse_args(argv)
    if args.benchmark is not None:
        from bench.body_benchmark import run_benchmark  # it imports this module

        return run_benchmark(args.benchmark, args.limit, EXTRACTORS)
    cases = load_cases(args.corpus, args.limit)
    results, times = measure(cases, max(1, args.repeat))
    if args.misses:
        print_misses(cases, results["newswire"])
        print()
    report(cases, results, times)
    return 0


if __name__ == "__main__":
    sys.exit(main())
