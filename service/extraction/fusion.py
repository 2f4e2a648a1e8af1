"""Pick the best value of each field from every source, best source first.

Sources, in order of trust: JSON-LD, meta tags (OpenGraph, ``article:*``, Twitter, names),
the page markup (``<h1>``, ``<title>``), the feed entry, trafilatura's own metadata.
"""

from __future__ import annotations

from datetime import datetime

from lxml.html import HtmlElement

from service.dates import has_time, parse_date
from service.extraction.authors import split_authors
from service.extraction.boilerplate import is_chrome
from service.extraction.captions import figure_caption
from service.extraction.metadata import Hints, PageMarkup
from service.extraction.text import clean_inline, comparable
from service.extraction.titles import (
    most_common_form,
    strip_site_name,
    without_kicker,
    without_lone_trailer,
    without_site_names,
    without_varying_kicker,
)

MAX_TAGS, MAX_TAG_CHARS = 30, 60
MIN_SUMMARY_CHARS = 20
_ELLIPSES = ("…", "...", "[…]", "[...]")


def choose_title(sources: list[Hints], markup: PageMarkup, keys: set[str]) -> str | None:
    """The headline: JSON-LD, then og/twitter, ``<h1>``, ``<title>``, feed, trafilatura.

    Site names are stripped from each; a kicker ("Kicker: Headline") goes when another
    metadata title is the headline alone, or when another source has a different kicker
    before the same headline; of spellings that differ in punctuation only, the one most
    sources use wins; a truncated candidate gives way to a longer one
    that it starts.
    """
    heading = markup.headings[0] if markup.headings else None
    raw = [hint.title for hint in sources[:2]] + [heading, markup.html_title]
    raw += [hint.title for hint in sources[2:]]
    keys = without_site_names(keys, [title for title in raw if title])
    stripped = [strip_site_name(title, keys) if title else "" for title in raw]
    candidates = [title for title in stripped if len(title) >= 3 and not is_chrome(title)]
    if not candidates:
        return None
    declared = [title for title in stripped[:2] if title]
    first = _displayed_headline(*stripped[:4]) or candidates[0]
    best = without_kicker(first, declared[1:])
    best = most_common_form(without_varying_kicker(best, candidates[1:]), candidates[1:])
    best = without_lone_trailer(best, candidates[1:])
    if best.endswith(_ELLIPSES):
        stem = comparable(best)
        for other in candidates[1:]:
            if len(other) > len(best) and comparable(other).startswith(stem):
                return other
    return best


def _displayed_headline(jsonld: str, og: str, heading: str, html_title: str) -> str | None:
    """og:title when the page has two headline pairs: JSON-LD ``headline`` = ``<title>``
    (the SEO pair) and og:title = ``<h1>`` (the one readers see), the pairs differing.
    The arguments are the candidates without site names, '' when missing."""
    if not (jsonld and og and heading and html_title):
        return None
    seo, shown = comparable(jsonld), comparable(og)
    if seo == comparable(html_title) and shown == comparable(heading) and seo != shown:
        return og
    return None


def choose_authors(sources: list[Hints], exclude: set[str]) -> list[str]:
    """The people of the first source that names any."""
    for hint in sources:
        names = split_authors(hint.authors, exclude=exclude)
        if names:
            return names
    return []


def choose_dates(sources: list[Hints]) -> tuple[datetime | None, datetime | None]:
    """``(published, updated)`` in UTC. A date-only value yields to a same-day timestamp."""
    published = _first_date(sources, "published")
    updated = _first_date(sources, "modified")
    if published is not None and updated is not None and updated < published:
        updated = None
    return published, updated


def _first_date(sources: list[Hints], field: str) -> datetime | None:
    found: datetime | None = None
    for hint in sources:
        raw = getattr(hint, field)
        value = parse_date(raw)
        if value is None:
            continue
        if has_time(raw):
            if found is None or found.date() == value.date():
                return value
        elif found is None:
            found = value
    return found


def choose_summary(
    descriptions: list[str], standfirst: str | None, title: str | None
) -> str | None:
    """The page's description unless it is missing, chrome or a cut-off standfirst."""
    title_key = comparable(title or "")
    for raw in descriptions:
        text = clean_inline(raw)
        if len(text) < MIN_SUMMARY_CHARS or is_chrome(text) or comparable(text) == title_key:
            continue
        if standfirst and text.endswith(_ELLIPSES):
            stem = comparable(text.rstrip("".join(_ELLIPSES) + " "))
            if comparable(standfirst).startswith(stem):
                return standfirst
        return text
    return standfirst


def choose_tags(sources: list[Hints]) -> list[str]:
    """Keywords of every source, deduplicated case-insensitively, bounded."""
    tags: list[str] = []
    seen: set[str] = set()
    for hint in sources:
        for keyword in hint.keywords:
            tag = clean_inline(keyword)
            key = tag.casefold()
            if tag and len(tag) <= MAX_TAG_CHARS and key not in seen:
                seen.add(key)
                tags.append(tag)
    return tags[:MAX_TAGS]


def first_value(*values: str | None) -> str | None:
    """The first non-empty value, cleaned."""
    for value in values:
        text = clean_inline(value)
        if text:
            return text
    return None


def choose_section(sources: list[Hints]) -> str | None:
    """The publisher's section of the first source that names one (bounded)."""
    section = first_value(*(hint.section for hint in sources))
    return section if section and len(section) <= MAX_TAG_CHARS else None


def choose_free(sources: list[Hints]) -> bool | None:
    """Whether the page declares the article free to read (``None``: it does not say)."""
    return next((hint.free for hint in sources if hint.free is not None), None)


def choose_image_notes(
    sources: list[Hints], tree: HtmlElement | None, image: str | None
) -> tuple[str | None, str | None]:
    """``(caption, credit)`` of the lead image: its metadata, else its ``<figure>``."""
    for hint in sources:
        if hint.image_caption or hint.image_credit:
            return hint.image_caption, hint.image_credit
    if tree is None or image is None:
        return None, None
    return figure_caption(tree, image)
