"""Body F1 on the public article-extraction-benchmark (ScrapingHub, 181 pages).

    python -m bench.quality --benchmark DIR [--limit N]

``DIR`` is a checkout the user provides (nothing of it is in this repository): ``html/``
with ``<id>.html.gz`` pages and ``ground-truth.json`` mapping each ``<id>`` to its
``url`` and ``articleBody``. The metric is the benchmark's own definition, written anew
here: per page, the 4-token shingles (``\\w+`` tokens, case kept) of the expected and the
extracted body are matched as multisets, giving true/false positives and false negatives,
normalised so every page weighs the same; precision and recall are averaged over pages
(a page with nothing predicted and nothing expected scores 1), F1 comes from the means.
An extraction that fails counts as an empty body.
"""

from __future__ import annotations

import gzip
import json
import re
import statistics
import time
from collections import Counter
from pathlib import Path

from bench.quality import Case, Extractor

SHINGLE = 4
_TOKEN = re.compile(r"\w+")


def load_benchmark(directory: Path, limit: int | None = None) -> list[tuple[Case, str]]:
    """``(page, expected body)`` pairs, sorted by page id."""
    truth_file = directory / "ground-truth.json"
    if not truth_file.is_file():
        raise SystemExit(f"no ground-truth.json in {directory}")
    truth = json.loads(truth_file.read_text(encoding="utf-8"))
    pairs = []
    for key in sorted(truth)[:limit]:
        page = directory / "html" / f"{key}.html.gz"
        if not page.is_file():
            raise SystemExit(f"missing page {page}")
        expected = {"url": truth[key].get("url") or "https://example.com/", "title": None}
        case = Case(key, gzip.decompress(page.read_bytes()), expected)
        pairs.append((case, str(truth[key].get("articleBody") or "")))
    return pairs


def _shingles(text: str) -> Counter[tuple[str, ...]]:
    words = _TOKEN.findall(text)
    return Counter(
        tuple(words[start : start + SHINGLE])
        for start in range(max(1, len(words) - SHINGLE + 1))
        if words[start : start + SHINGLE]
    )


def page_counts(expected: str, found: str) -> tuple[float, float, float]:
    """Normalised (true positives, false positives, false negatives) of one page."""
    wanted, got = _shingles(expected), _shingles(found)
    tp = fp = fn = 0
    for key in wanted.keys() | got.keys():
        tp += min(wanted[key], got[key])
        fp += max(0, got[key] - wanted[key])
        fn += max(0, wanted[key] - got[key])
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total else (0.0, 0.0, 0.0)


def f1_score(counts: list[tuple[float, float, float]]) -> tuple[float, float, float]:
    """(F1, precision, recall) over pages, as the benchmark defines them."""

    def ratio(hit: float, miss: float, other: float) -> float:
        if miss == other == 0:
            return 1.0
        return hit / (hit + miss) if hit + miss else 0.0

    precision = statistics.fmean(ratio(tp, fp, fn) for tp, fp, fn in counts if tp + fp > 0)
    recall = statistics.fmean(ratio(tp, fn, fp) for tp, fp, fn in counts if tp + fn > 0)
    return 2 * precision * recall / (precision + recall), precision, recall


def run_benchmark(directory: Path, limit: int | None, extractors: dict[str, Extractor]) -> int:
    pairs = load_benchmark(directory, limit)
    counts: dict[str, list[tuple[float, float, float]]] = {name: [] for name in extractors}
    seconds = dict.fromkeys(extractors, 0.0)
    failed = dict.fromkeys(extractors, 0)
    for extractor in extractors.values():  # warm-up: imports, models, caches
        extractor(pairs[0][0])
    for index, (case, expected) in enumerate(pairs):
        order = list(extractors.items())
        if index % 2:  # alternate which runs first, as bench.quality does
            order.reverse()
        for name, extractor in order:
            start = time.perf_counter()
            result = extractor(case)
            seconds[name] += time.perf_counter() - start
            failed[name] += result.error is not None
            counts[name].append(page_counts(expected, result.text if not result.error else ""))
    print(f"{len(pairs)} pages of {directory}\n")
    print("| extractor | F1 | precision | recall | no result | ms/page |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name in extractors:
        f1, precision, recall = f1_score(counts[name])
        ms = 1000 * seconds[name] / len(pairs)
        print(f"| {name} | {f1:.3f} | {precision:.3f} | {recall:.3f} | {failed[name]} | {ms:.1f} |")
    ratio = seconds["newswire"] / seconds["trafilatura"]
    print(f"\ncost ratio newswire/trafilatura (total time, one run): {ratio:.2f}x")
    return 0
