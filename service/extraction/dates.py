"""Dates as publishers write them, made timezone-aware and converted to UTC."""

from __future__ import annotations

import re
import warnings
from datetime import UTC, datetime, timedelta, timezone

from dateutil import parser as dateutil_parser

MIN_YEAR, MAX_YEAR = 1990, 2100  # outside: a parsing accident (no clock in pure code)
_NO_DEFAULT = datetime(1, 1, 1)  # a date without a year then fails the MIN_YEAR check
_EPOCH = re.compile(r"\d{10}(?:\d{3})?")
_HAS_TIME = re.compile(r"\d{1,2}:\d{2}")
_DAY_FIRST = re.compile(r"\b\d{1,2}\.\s?\d{1,2}\.\s?\d{2,4}\b")
_ZONES = {
    name: timezone(timedelta(hours=hours), name)
    for name, hours in (
        ("UTC", 0),
        ("GMT", 0),
        ("Z", 0),
        ("WET", 0),
        ("BST", 1),
        ("CET", 1),
        ("MEZ", 1),
        ("WEST", 1),
        ("CEST", 2),
        ("MESZ", 2),
        ("EET", 2),
        ("EEST", 3),
        ("MSK", 3),
        ("IST", 5.5),
        ("ICT", 7),
        ("WIB", 7),
        ("HKT", 8),
        ("SGT", 8),
        ("JST", 9),
        ("KST", 9),
        ("AEST", 10),
        ("AEDT", 11),
        ("EST", -5),
        ("EDT", -4),
        ("CST", -6),
        ("CDT", -5),
        ("MST", -7),
        ("MDT", -6),
        ("PST", -8),
        ("PDT", -7),
        ("SAST", 2),
        ("CAT", 2),
        ("EAT", 3),
        ("WAT", 1),
    )
}


def parse_date(value: str | datetime | None) -> datetime | None:
    """``value`` as an aware UTC datetime (naive values are taken as UTC); ``None`` if unusable."""
    if value is None:
        return None
    parsed = value if isinstance(value, datetime) else _parse_text(value.strip()[:100])
    if parsed is None or not MIN_YEAR <= parsed.year <= MAX_YEAR:
        return None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def has_time(value: str | datetime | None) -> bool:
    """Whether ``value`` states a time of day, not just a calendar date."""
    if isinstance(value, datetime):
        return True
    return bool(value and (_HAS_TIME.search(value) or _EPOCH.fullmatch(value.strip())))


def _parse_text(text: str) -> datetime | None:
    if not text:
        return None
    if _EPOCH.fullmatch(text):
        seconds = int(text) / (1000 if len(text) == 13 else 1)
        return datetime.fromtimestamp(seconds, UTC)
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return dateutil_parser.parse(
                text, dayfirst=bool(_DAY_FIRST.search(text)), default=_NO_DEFAULT, tzinfos=_ZONES
            )
    except (ValueError, OverflowError, TypeError):
        return None
