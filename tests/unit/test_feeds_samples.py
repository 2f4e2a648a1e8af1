"""Sample feeds next to their expected output: ``tests/data/feeds/<name>.<ext>`` +
``<name>.expected.json`` (the ParsedFeed as JSON).

Regenerate the expected files after an intended change, then review the diff:

    python -m tests.unit.test_feeds_samples
"""

from __future__ import annotations

import sys
from pathlib import Path

import orjson
import pytest

from service.feeds import parse_feed

DATA = Path(__file__).resolve().parent.parent / "data" / "feeds"
SAMPLES = sorted(p for p in DATA.iterdir() if ".expected." not in p.name)


def _expected_path(sample: Path) -> Path:
    return sample.with_name(f"{sample.stem}.expected.json")


def _parse(sample: Path) -> dict[str, object]:
    feed = parse_feed(sample.read_bytes(), url=f"https://example.com/feeds/{sample.name}")
    result: dict[str, object] = feed.model_dump(mode="json")
    return result


def test_samples_exist() -> None:
    names = {p.name for p in SAMPLES}
    assert {"rss20_content.xml", "atom10.xml", "jsonfeed11.json"} <= names
    for sample in SAMPLES:
        assert _expected_path(sample).is_file(), f"run python -m {__name__} to create it"


@pytest.mark.parametrize("sample", SAMPLES, ids=[p.name for p in SAMPLES])
def test_sample_matches_expected(sample: Path) -> None:
    expected = orjson.loads(_expected_path(sample).read_bytes())
    assert _parse(sample) == expected


def regenerate() -> None:
    for sample in SAMPLES:
        output = orjson.dumps(_parse(sample), option=orjson.OPT_INDENT_2) + b"\n"
        _expected_path(sample).write_bytes(output)
        sys.stdout.write(f"wrote {_expected_path(sample)}\n")


if __name__ == "__main__":
    regenerate()
