"""The one date rule shared by feeds, sitemaps and article pages (``service.dates``)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from service.dates import parse_date


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # IST is India's +05:30 wherever the date comes from (feeds used to drop it: UTC).
        ("Wed, 01 May 2024 08:30:00 IST", datetime(2024, 5, 1, 3, 0, tzinfo=UTC)),
        ("1 May 2024 08:30 IST", datetime(2024, 5, 1, 3, 0, tzinfo=UTC)),
        # A Unix timestamp and a day-first date are read in feeds too.
        ("1714751262", datetime(2024, 5, 3, 15, 47, 42, tzinfo=UTC)),
        ("03.05.2024 17:47 CEST", datetime(2024, 5, 3, 15, 47, tzinfo=UTC)),
        # Years 1990 to 2100 only, for pages as for feeds (a zero timestamp is an accident).
        ("1970-01-01T00:00:00Z", None),
        ("1989-12-31T00:00:00Z", None),
        ("1990-01-01T00:00:00Z", datetime(1990, 1, 1, tzinfo=UTC)),
        ("2150-01-01T00:00:00Z", None),
        # A date missing its day is refused for pages too (never filled in from a default).
        ("May 2024", None),
        # Too long to be a date: refused, never cut.
        ("2024-05-01 " + "x" * 100, None),
    ],
)
def test_one_rule_for_every_source(raw: str, expected: datetime | None) -> None:
    assert parse_date(raw) == expected
