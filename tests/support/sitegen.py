"""Generated news sites for integration tests: article pages and the feeds that list them."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape

WORDS = [
    "council",
    "river",
    "budget",
    "storm",
    "harbour",
    "election",
    "museum",
    "festival",
    "railway",
    "school",
    "hospital",
    "market",
    "bridge",
    "library",
    "orchestra",
    "stadium",
    "tunnel",
    "airport",
    "village",
    "forest",
]


def story(i: int, version: int = 1) -> list[str]:
    """Five distinct paragraphs for story ``i`` (``version`` changes the text). Words drawn
    at random (seeded by story, paragraph and version) so that two stories are different
    texts, never near-duplicates of each other (story identity would link them)."""
    out = []
    for p in range(5):
        pick = random.Random(f"{i}:{p}:{version}")  # test text, not crypto
        words = [pick.choice(WORDS) for _ in range(14)]
        out.append(
            f"Paragraph {p + 1} of story {i} (revision {version}): the "
            + " ".join(words)
            + " were discussed at length by residents on Tuesday."
        )
    return out


def article_html(i: int, *, base: str, version: int = 1) -> str:
    title = f"Story number {i} about the {WORDS[i % len(WORDS)]}"
    published = (datetime(2026, 11, 1, 8, 0, tzinfo=UTC) + timedelta(hours=i)).isoformat()
    paras = "\n".join(f"<p>{escape(p)}</p>" for p in story(i, version))
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{escape(title)} | Test Gazette</title>
<link rel="canonical" href="{base}/news/{i}">
<meta property="og:site_name" content="Test Gazette">
<meta property="article:published_time" content="{published}">
<meta name="author" content="Reporter {i}">
</head><body><nav><a href="/">Home</a> <a href="/world">World</a></nav>
<article><h1>{escape(title)}</h1>{paras}</article>
<footer>Copyright Test Gazette</footer></body></html>"""


def rss_feed(items: list[int], *, base: str, title: str = "Test Gazette") -> str:
    entries = []
    for i in items:
        when = format_datetime(datetime(2026, 11, 1, 8, 0, tzinfo=UTC) + timedelta(hours=i))
        entries.append(f"""<item><title>Story number {i}</title>
<link>{base}/news/{i}</link><guid>{base}/news/{i}</guid><pubDate>{when}</pubDate>
<description>Summary of story {i}.</description></item>""")
    return f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>{escape(title)}</title><link>{base}/</link>
<description>test</description>{"".join(entries)}</channel></rss>"""


def serve_site(origin: object, n: int, *, feed_path: str = "/feed.xml", start: int = 0) -> str:
    """Register ``n`` article pages and a feed listing them; returns the feed URL."""
    base = origin.url("")  # type: ignore[attr-defined]
    for i in range(start, start + n):
        origin.add(f"/news/{i}", article_html(i, base=base))  # type: ignore[attr-defined]
    origin.add(
        feed_path,
        rss_feed(list(range(start, start + n)), base=base),  # type: ignore[attr-defined]
        content_type="application/rss+xml",
    )
    return str(origin.url(feed_path))  # type: ignore[attr-defined]
