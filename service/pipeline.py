"""The per-article pipeline: fetch safely, extract, structure. Shared by workers and the CLI."""

from __future__ import annotations

from service.extraction import Story, extract_story
from service.fetching import Fetcher
from service.fetching.client import address_guard
from service.models import Article, FeedEntry, FetchedPage
from service.settings import Settings


def extract_page(page: FetchedPage, entry: FeedEntry | None, settings: Settings) -> Article:
    """A fetched page (and its feed entry, if any) to an Article, with the settings' bounds."""
    return extract_page_story(page, entry, settings).article


def extract_page_story(page: FetchedPage, entry: FeedEntry | None, settings: Settings) -> Story:
    """:func:`extract_page`, with the page's cross-site canonical claim (a duplicate hint)."""
    return extract_story(
        page,
        entry,
        min_text_chars=settings.min_text_chars,
        max_depth=settings.max_html_depth,
        links=address_guard(settings),
        max_text_chars=settings.max_text_chars,
    )


def fetch_and_extract(
    fetcher: Fetcher, url: str, entry: FeedEntry | None, settings: Settings
) -> Article:
    """One URL in, one Article out; raises only service.errors classes."""
    return extract_page(fetcher.fetch(url, kind="page"), entry, settings)
