"""Feed dates as aware UTC datetimes, keeping the publisher's offset right.

The raw string is parsed first (RFC 822, then ISO 8601, then dateutil, which must find a
full date in it: no field is ever filled from the clock). Only when that fails do we fall
back to the ``struct_time`` feedparser derived (already in UTC).
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from email.utils import parsedate_to_datetime

from dateutil import parser as dateutil_parser

MAX_RAW_LENGTH = 100
MIN_YEAR, MAX_YEAR = 1970, 2200

# Abbreviations seen in feeds that are not ambiguous (IST, for one, is left out).
# fmt: off
_ZONES: dict[str, float] = {
    "UT": 0, "UTC": 0, "GMT": 0, "Z": 0, "WET": 0,
    "EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7, "MDT": -6,
    "PST": -8, "PDT": -7, "AKST": -9, "AKDT": -8, "HST": -10,
    "BST": 1, "CET": 1, "CEST": 2, "MET": 1, "MEST": 2, "WEST": 1, "EET": 2, "EEST": 3,
    "MSK": 3, "HKT": 8, "SGT": 8, "AWST": 8, "JST": 9, "KST": 9,
    "ACST": 9.5, "AEST": 10, "AEDT": 11, "NZST": 12, "NZDT": 13,
}
# fmt: on
_RFC822 = re.compile(
    r"(?:[A-Za-z]{3,9},?\s*)?\d{1,2}\s+[A-Za-z]{3,9}\.?\s+\d{2,4}\s+\d{1,2}:\d{2}(?::\d{2})?"
    r"(?:\s*(?P<zone>[+-]\d{4}|[A-Za-z]{1,5}))?\Z"
)
_EMAIL_ZONES = frozenset(
    {"UT", "UTC", "GMT", "Z", "AST", "ADT", "EST", "EDT", "CST", "CDT", "MST", "MDT", "PST", "PDT"}
)
# Two defaults that differ in every date field: a string that lacks one is refused.
_DEFAULT_A = datetime(2000, 1, 1)
_DEFAULT_B = datetime(2001, 2, 2)


def parse_date(raw: str | None, parsed: time.struct_time | None = None) -> datetime | None:
    """The date in ``raw`` (or feedparser's UTC ``parsed`` as a fallback), in UTC."""
    value = _parse_raw(raw.strip()) if raw and len(raw.strip()) <= MAX_RAW_LENGTH else None
    if value is None and parsed is not None:
        value = _from_struct(parsed)
    if value is None:
        return None
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value if MIN_YEAR <= value.year <= MAX_YEAR else None


def _parse_raw(raw: str) -> datetime | None:
    for parse in (_rfc822, _iso8601, _dateutil):
        try:
            value = parse(raw)
        except (ValueError, TypeError, OverflowError, IndexError):
            continue
        if value is not None:
            return value
    return None


def _rfc822(raw: str) -> datetime | None:
    """Strict RFC 822 only: ``email.utils`` is lenient, ignores AM/PM and silently drops
    zone names it does not know (those go to dateutil, which is told about them)."""
    match = _RFC822.match(raw)
    if match is None:
        return None
    zone = match.group("zone")
    if zone and zone[0].isalpha() and zone.upper() not in _EMAIL_ZONES:
        return None
    return parsedate_to_datetime(raw)


def _iso8601(raw: str) -> datetime | None:
    return datetime.fromisoformat(raw)


def _dateutil(raw: str) -> datetime | None:
    first = dateutil_parser.parse(raw, default=_DEFAULT_A, tzinfos=_zone)
    second = dateutil_parser.parse(raw, default=_DEFAULT_B, tzinfos=_zone)
    if first.date() != second.date():
        return None  # year, month or day missing
    return first


def _zone(name: str | None, offset: int | None) -> tzinfo | None:
    """dateutil's ``tzinfos`` callback: never the local zone, never a warning."""
    if offset is not None:
        return timezone(timedelta(seconds=offset))
    hours = _ZONES.get((name or "").upper())
    return None if hours is None else timezone(timedelta(hours=hours))


def _from_struct(parsed: time.struct_time) -> datetime | None:
    try:
        return datetime(*parsed[:6], tzinfo=UTC)
    except (ValueError, TypeError, OverflowError):
        return None
