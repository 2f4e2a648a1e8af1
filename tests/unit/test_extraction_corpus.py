"""extract_article on the real-page corpus (tests/data/corpus/pages), with quality guards.

Every page is extracted once per module. Each page must come out as a sound Article; the
aggregate figures (defined in ``bench/quality.py``, measured in ``docs/quality.md``) must not
fall below guards set a little under the measured values, so a regression fails here.
"""

from __future__ import annotations

import statistics
from pathlib import Path

import pytest

from bench.quality import (
    Case,
    Result,
    authors_ok,
    body_f1,
    date_ok,
    load_cases,
    page_of,
    reference_text,
    title_ok,
)
from service.extraction import extract_article
from service.extraction.boilerplate import is_chrome
from service.extraction.text import clean_lines
from service.hashing import short_hash
from service.models import Article
from service.urls import article_id
from tests.conftest import corpus_dir

# measured: title 89.3 %, authors (people) 92.6 %, date 99.2 %, body ROUGE-L 96.6
GUARDS = {"title": 87.5, "authors": 90.5, "date": 97.5, "body": 95.5}
MIN_PAGE_BODY_F1 = 0.5
PAGE_NAMES = sorted(
    path.name.removesuffix(".html.gz") for path in corpus_dir("pages").glob("*.html.gz")
)


@pytest.fixture(scope="module")
def cases() -> dict[str, Case]:
    found = {case.name: case for case in load_cases(corpus_dir("pages"))}
    assert len(found) >= 100, "the corpus should hold 121 pages"
    return found


@pytest.fixture(scope="module")
def articles(cases: dict[str, Case]) -> dict[str, Article]:
    return {name: extract_article(page_of(case)) for name, case in cases.items()}


def as_result(article: Article) -> Result:
    return Result(article.title, article.authors, article.published_at, article.text)


def test_corpus_is_beside_the_repo() -> None:
    assert len(PAGE_NAMES) >= 100, f"corpus pages missing in {corpus_dir('pages')}"


@pytest.mark.parametrize("name", PAGE_NAMES)
def test_page_extracts_to_a_sound_article(
    name: str, cases: dict[str, Case], articles: dict[str, Article]
) -> None:
    case, article = cases[name], articles[name]
    assert article.title.strip()
    assert "\n" not in article.title
    assert len(article.text) >= 200
    assert "\n\n\n" not in article.text
    assert article.text == article.text.strip()
    assert not [line for line in article.text.split("\n\n") if is_chrome(line)]
    assert article.content_hash == short_hash(article.text)
    assert article.id == article_id(article.canonical_url)
    assert article.canonical_url.startswith(("https://", "http://"))
    assert article.published_at is not None
    assert article.published_at.tzinfo is not None
    assert article.language is None or len(article.language) == 2
    assert article.image is None or article.image.startswith(("https://", "http://"))
    assert body_f1(case, as_result(article)) >= MIN_PAGE_BODY_F1, reference_text(case)[:200]


@pytest.fixture(scope="module")
def scores(cases: dict[str, Case], articles: dict[str, Article]) -> dict[str, float]:
    pairs = [(cases[name], as_result(articles[name])) for name in cases]
    count = len(pairs)
    return {
        "title": 100 * sum(title_ok(case, result) for case, result in pairs) / count,
        "authors": 100 * sum(authors_ok(case, result) for case, result in pairs) / count,
        "date": 100 * sum(date_ok(case, result) for case, result in pairs) / count,
        "body": 100 * statistics.fmean(body_f1(case, result) for case, result in pairs),
    }


@pytest.mark.parametrize("metric", sorted(GUARDS))
def test_quality_does_not_regress(metric: str, scores: dict[str, float]) -> None:
    assert scores[metric] >= GUARDS[metric], scores


def test_chrome_filter_spares_every_expected_paragraph(cases: dict[str, Case]) -> None:
    flagged = [
        (name, line)
        for name, case in cases.items()
        for paragraph in [*case.expected.get("summary", []), *case.expected["paragraphs"]]
        for line in clean_lines(paragraph)
        if is_chrome(line)
    ]
    assert not flagged


def test_corpus_dir_fails_loudly_when_missing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("NEWSWIRE_CORPUS", str(tmp_path / "nowhere"))
    with pytest.raises(pytest.fail.Exception):
        corpus_dir("pages")
