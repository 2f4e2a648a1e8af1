"""The corpus split of bench.quality: by publisher, deterministic, both halves sizeable."""

from __future__ import annotations

from collections import defaultdict

from bench.body_benchmark import f1_score, page_counts
from bench.quality import HALVES, Case, half_of
from tests.conftest import corpus_dir


def test_every_publisher_is_in_one_half_and_both_halves_are_sizeable() -> None:
    names = [path.name.removesuffix(".html.gz") for path in corpus_dir("pages").glob("*.html.gz")]
    halves: dict[str, set[str]] = defaultdict(set)
    counts = dict.fromkeys(HALVES, 0)
    for name in names:
        case = Case(name, b"", {"url": "https://x.example/"})
        halves[case.publisher].add(case.half)
        counts[case.half] += 1
    assert all(len(found) == 1 for found in halves.values())
    assert min(counts.values()) >= len(names) // 3


def test_the_half_depends_on_the_name_only() -> None:
    assert half_of("DerStandard") == half_of("derstandard") in HALVES
    assert {half_of(f"Publisher{i}") for i in range(20)} == set(HALVES)


def test_shingle_f1_of_the_public_benchmark() -> None:
    same = page_counts("one two three four five", "one two three four five")
    assert same == (1.0, 0.0, 0.0)
    disjoint = page_counts("one two three four five", "six seven eight nine ten")
    assert disjoint[0] == 0.0
    half = page_counts("a b c d e f g h", "a b c d x y z w")
    f1, precision, recall = f1_score([same, half])
    assert 0.5 < f1 < 1.0
    assert precision == recall
    assert f1_score([same])[0] == 1.0
