"""The committed JSON Schema of Article v1 is current and describes real extracted articles."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from service.extraction import extract_article
from service.models import FeedEntry, FetchedPage
from service.schema import SCHEMA_PATH, article_schema, is_current, main, render_schema

PAGE = Path(__file__).resolve().parent.parent / "data" / "pages" / "chrome_story.html"


def test_committed_schema_is_current() -> None:
    assert is_current(), "docs/schema/article.v1.json is stale: run `python -m service.schema`"


def test_schema_is_a_valid_2020_12_schema() -> None:
    Draft202012Validator.check_schema(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))


def test_check_mode_reports_a_stale_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "article.v1.json"
    assert main(["--check", "--output", str(target)]) == 1  # missing
    target.write_text('{"stale": true}\n', encoding="utf-8")
    assert main(["--check", "--output", str(target)]) == 1
    assert "stale" in capsys.readouterr().err
    assert main(["--output", str(target)]) == 0
    assert target.read_text(encoding="utf-8") == render_schema()
    assert main(["--check", "--output", str(target)]) == 0


def test_rendering_is_stable() -> None:
    assert render_schema() == render_schema()
    assert render_schema().endswith("}\n")


def test_extracted_article_validates_against_the_schema() -> None:
    entry = FeedEntry(
        feed_url="https://www.daily-example.co.uk/rss", feed_title="Daily Example", entry_id="1"
    )
    page = FetchedPage(
        requested_url="https://www.daily-example.co.uk/news/harbour-wall-approved",
        url="https://www.daily-example.co.uk/news/harbour-wall-approved",
        content=PAGE.read_bytes(),
        fetched_at=datetime(2026, 3, 15, tzinfo=UTC),
    )
    document = json.loads(extract_article(page, entry).model_dump_json())
    validator = Draft202012Validator(article_schema())
    assert not list(validator.iter_errors(document))
    assert document["published_at"] == "2026-03-14T07:30:00Z"


def test_schema_rejects_a_broken_article() -> None:
    validator = Draft202012Validator(article_schema())
    assert list(validator.iter_errors({"id": "x", "title": 3}))
