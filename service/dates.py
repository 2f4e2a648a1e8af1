"""Dates as publishers write them (feeds, sitemaps, article pages), as aware UTC datetimes.

One parser with one rule for every source:

- a string is read as a Unix timestamp (10 or 13 digits), strict RFC 822, ISO 8601, then
  dateutil, which must find a full date in it: no field is ever filled in from the clock or a
  default (``3 May`` and ``May 2024`` are refused); a string longer than ``MAX_RAW_LENGTH``
  is refused, not cut (a cut string can read as another date);
- the publisher's offset is kept; a naive value is taken as UTC; a zone abbreviation is read
  from ``_ZONES`` only, never from the machine's local zone. ``IST`` is read as India
  (+05:30): it is the zone news sites write it for by far (the Irish and Israeli ``IST`` are
  rare in feeds and pages), and dropping it would read those dates as UTC, 5 h 30 wrong;
- years outside ``MIN_YEAR`` to ``MAX_YEAR`` are parsing accidents: 1990 is before any web
  publication and refuses the zero timestamps (1970-01-01) that broken CMSes emit; 2100 is
  past any date a publisher means today. Pure code has no clock, so the bounds are fixed.
"""

from __future__ import annotations

import re
import time
import warnings
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from email.utils import parsedate_to_datetime

from dateutil import parser as dateutil_parser

MAX_RAW_LENGTH = 100
MIN_YEAR, MAX_YEAR = 1990, 2100

# fmt: off
_ZONES: dict[str, float] = {
    "UT": 0, "UTC": 0, "GMT": 0, "Z": 0, "WET": 0,
    "EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7, "MDT": -6,
    "PST": -8, "PDT": -7, "AKST": -9, "AKDT": -8, "HST": -10,
    "BST": 1, "CET": 1, "CEST": 2, "MET": 1, "MEST": 2, "MEZ": 1, "MESZ": 2, "WEST": 1,
    "WAT": 1, "EET": 2, "EEST": 3, "SAST": 2, "CAT": 2, "EAT": 3, "MSK": 3,
    "IST": 5.5, "ICT": 7, "WIB": 7, "HKT": 8, "SGT": 8, "AWST": 8, "JST": 9, "KST": 9,
    "ACST": 9.5, "AEST": 10, "AEDT": 11, "NZST": 12, "NZDT": 13,
}
# fmt: on
_EPOCH = re.compile(r"\d{10}(?:\d{3})?")
_HAS_TIME = re.compile(r"\d{1,2}:\d{2}")
_DAY_FIRST = re.compile(r"\b\d{1,2}\.\s?\d{1,2}\.\s?\d{2,4}\b")
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


def parse_date(
    value: str | datetime | None, parsed: time.struct_time | None = None
) -> datetime | None:
    """``value`` in UTC (or feedparser's UTC ``parsed`` as a fallback); ``None`` if unusable."""
    if isinstance(value, datetime):
        result: datetime | None = value
    else:
        raw = (value or "").strip()
        result = _parse_raw(raw) if raw and len(raw) <= MAX_RAW_LENGTH else None
    if result is None and parsed is not None:
        result = _from_struct(parsed)
    if result is None:
        return None
    if result.tzinfo is None or result.utcoffset() is None:
        result = result.replace(tzinfo=UTC)
    else:
        result = result.astimezone(UTC)
    return result if MIN_YEAR <= result.year <= MAX_YEAR else None


def has_time(value: str | datetime | None) -> bool:
    """Whether ``value`` states a time of day, not just a calendar date."""
    if isinstance(value, datetime):
        return True
    return bool(value and (_HAS_TIME.search(value) or _EPOCH.fullmatch(value.strip())))


def _parse_raw(raw: str) -> datetime | None:
    for parse in (_epoch, _rfc822, _iso8601, _dateutil):
        try:
            value = parse(raw)
        except (ValueError, TypeError, OverflowError, IndexError):
            continue
        if value is not None:
            return value
    return None


def _epoch(raw: str) -> datetime | None:
    if not _EPOCH.fullmatch(raw):
        return None
    return datetime.fromtimestamp(int(raw) / (1000 if len(raw) == 13 else 1), UTC)


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
    dayfirst = bool(_DAY_FIRST.search(raw))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        first = dateutil_parser.parse(raw, dayfirst=dayfirst, default=_DEFAULT_A, tzinfos=_zone)
        second = dateutil_parser.parse(raw, dayfirst=dayfirst, default=_DEFAULT_B, tzinfos=_zone)
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
