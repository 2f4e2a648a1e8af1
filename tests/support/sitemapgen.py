"""Generated sitemaps for tests and benches: news sitemaps, ordinary ones, indexes."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from html import escape

URLSET = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
    'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">\n'
)


def news_url(loc: str, *, title: str, published: datetime, language: str = "en") -> str:
    return (
        f"<url><loc>{escape(loc)}</loc><news:news><news:publication>"
        f"<news:name>Test Gazette</news:name><news:language>{language}</news:language>"
        f"</news:publication><news:publication_date>{published.isoformat()}"
        f"</news:publication_date><news:title>{escape(title)}</news:title>"
        "</news:news></url>\n"
    )


def plain_url(loc: str, *, lastmod: datetime) -> str:
    return f"<url><loc>{escape(loc)}</loc><lastmod>{lastmod.isoformat()}</lastmod></url>\n"


def urlset(urls: Iterable[str]) -> str:
    return URLSET + "".join(urls) + "</urlset>\n"


def index(children: Iterable[tuple[str, datetime | None]]) -> str:
    parts = [
        f"<sitemap><loc>{escape(loc)}</loc>"
        + (f"<lastmod>{lastmod.isoformat()}</lastmod>" if lastmod else "")
        + "</sitemap>\n"
        for loc, lastmod in children
    ]
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        + "".join(parts)
        + "</sitemapindex>\n"
    )


def bare_article(i: int) -> str:
    """An article page with no title, date or language of its own (hints must supply them)."""
    paragraphs = "".join(
        f"<p>Paragraph {p} of sitemap story {i}: residents of the valley discussed the new "
        f"railway timetable, the river crossing and the budget at length on Tuesday.</p>"
        for p in range(5)
    )
    head = "<!doctype html><html><head><meta charset='utf-8'></head>"
    return f"{head}<body><div>{paragraphs}</div></body></html>"
