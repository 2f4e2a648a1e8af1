"""Real stories for identity tests: the corpus pages' expected paragraphs, served as article
pages of any site's template, and the feeds that list them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape

from tests.support.corpus import corpus_root

TEMPLATES = {
    "gazette": (
        "<header><a href='/'>Gazette</a> <a href='/world'>World</a></header>",
        "<footer>Copyright The Gazette</footer>",
    ),
    "tribune": (
        "<nav><a href='/'>Home</a> <a href='/news'>News</a></nav>"
        "<div class='share'>Share on Facebook Share on X</div>",
        "<div class='newsletter'>Get our newsletter. Subscribe now.</div>"
        "<footer>The Tribune, 1 Main Street</footer>",
    ),
}


def corpus_stories(n: int, *, min_words: int = 250) -> list[tuple[str, list[str]]]:
    """``n`` (headline, paragraphs) of the corpus, in file-name order."""
    out = []
    for path in sorted((corpus_root() / "pages").glob("*.json")):
        meta = json.loads(path.read_text())
        paras = [p for p in meta.get("paragraphs") or [] if p.strip()]
        if sum(len(p.split()) for p in paras) >= min_words and meta.get("title"):
            out.append((str(meta["title"]), paras))
        if len(out) == n:
            break
    return out


def story_page(headline: str, paras: list[str], *, url: str, template: str = "gazette") -> str:
    head, tail = TEMPLATES[template]
    body = "".join(f"<p>{escape(p)}</p>" for p in paras)
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{escape(headline)}</title><link rel='canonical' href='{url}'></head>"
        f"<body>{head}<article><h1>{escape(headline)}</h1>{body}</article>{tail}</body></html>"
    )


def feed_of(items: list[tuple[str, str]], *, title: str = "Stories") -> str:
    """An RSS feed of (url, headline) items."""
    entries = []
    for n, (url, headline) in enumerate(items):
        when = format_datetime(datetime(2026, 12, 1, 8, 0, tzinfo=UTC) + timedelta(minutes=n))
        entries.append(
            f"<item><title>{escape(headline)}</title><link>{url}</link><guid>{url}</guid>"
            f"<pubDate>{when}</pubDate></item>"
        )
    return (
        f"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
        f"<title>{escape(title)}</title><link>http://example.invalid/</link>"
        f"<description>test</description>{''.join(entries)}</channel></rss>"
    )
