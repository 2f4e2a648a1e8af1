"""Documentation that must not drift: the settings (generated from the model), the operator
guide's sections, the consumer guide, and the sizing benchmark behind the guide's figures."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bench import redis_footprint
from service import settings_doc
from service.settings import Settings
from tests.deploy.helpers import REPO

OPERATIONS = REPO / "docs" / "operations.md"


def test_settings_docs_are_up_to_date() -> None:
    """Fails after a change to service/settings.py until `python -m service.settings_doc`."""
    for path, expected in settings_doc.expected().items():
        assert path.read_text(encoding="utf-8") == expected, (
            f"{path.relative_to(REPO)} is stale: run `python -m service.settings_doc`"
        )
    assert settings_doc.main(["--check"]) == 0


def test_every_setting_is_documented_with_its_default() -> None:
    text = OPERATIONS.read_text()
    for doc in settings_doc.collect():
        assert f"| `{doc.env}` |" in text
    assert "| `NEWSWIRE_METRICS_PORT` | integer (optional) | `unset` |" in text
    assert "| `NEWSWIRE_LOG_FORMAT` | one of: `auto`, `json`, `console` | `auto` |" in text


def test_splice_needs_its_markers() -> None:
    with pytest.raises(ValueError, match="markers"):
        settings_doc.splice("no markers here", "x")


@pytest.mark.parametrize(
    "heading",
    [
        "## Deploying with Docker Compose",
        "## Deploying on Kubernetes",
        "## Health, metrics and logs",
        "## Sizing",
        "## Retention and trimming",
        "## Scaling",
        "## The visibility timeout trade-off",
        "## Upgrading",
        "## Settings",
    ],
)
def test_operations_guide_sections(heading: str) -> None:
    assert re.search(rf"^{re.escape(heading)}$", OPERATIONS.read_text(), re.MULTILINE)


def test_consuming_guide_has_python_node_and_redis_cli() -> None:
    text = (REPO / "docs" / "consuming.md").read_text()
    for needle in ("```python", "```js", "redis-cli XREADGROUP"):
        assert needle in text
    assert "examples/node-consumer/" in text
    assert (REPO / "docs" / "examples" / "node-consumer" / "package-lock.json").exists()


def test_sizing_benchmark_runs_and_matches_the_guide() -> None:
    """A small run of bench/redis_footprint.py: the per-article figure of the guide holds."""
    rows = {
        name: per
        for name, per, _note in redis_footprint.run(articles=300, words=700, feeds=1000, seen=5000)
    }
    article = rows["article (stream entry + dedup record)"]
    assert 5_200 < article < 7_600  # the guide says ≈ 6,400
    assert 600 < rows["feed (registry, schedule, state)"] < 1_200  # ≈ 890
    assert 200 < rows["seen entry (50 per feed)"] < 500  # ≈ 345 to 370
    assert Settings().stream_maxlen == 100_000  # the worked example's default


_LINK = re.compile(r"\]\(([^)\s#]+)(?:#[^)]*)?\)")
_MARKDOWN = sorted([REPO / "README.md", *(REPO / "docs").glob("*.md")])


@pytest.mark.parametrize("document", _MARKDOWN, ids=lambda p: p.name)
def test_relative_links_point_at_files_of_the_repo(document: Path) -> None:
    """Every relative link of the README and docs/ names a file that exists."""
    targets = [
        t
        for t in _LINK.findall(document.read_text())
        if "://" not in t and not t.startswith("mailto:")
    ]
    missing = [t for t in targets if not (document.parent / t).exists()]
    assert missing == []
