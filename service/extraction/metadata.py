"""What the page's own markup says about the article: meta tags, OpenGraph, links, headings.

Every reader returns :class:`Hints` — one source's opinion on each field, raw but cleaned.
Fusion (``fusion.py``) decides between the sources.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from lxml.html import HtmlElement

from service.extraction.text import clean_inline, comparable
from service.models import FeedEntry

MAX_HEADINGS = 10
MAX_META = 2000  # meta elements read at most (a page with more is not worth reading fully)


@dataclass(slots=True)
class Hints:
    """One source's view of the article's metadata. Dates stay raw until ``service.dates``."""

    source: str
    title: str | None = None
    authors: list[str] = field(default_factory=list)
    published: str | datetime | None = None
    modified: str | datetime | None = None
    description: str | None = None
    image: str | None = None
    url: str | None = None
    site_name: str | None = None
    publisher: str | None = None
    keywords: list[str] = field(default_factory=list)
    language: str | None = None
    section: str | None = None
    free: bool | None = None  # isAccessibleForFree: False when any part is paywalled
    image_caption: str | None = None
    image_credit: str | None = None


@dataclass(slots=True)
class PageMarkup:
    """Parts of the HTML document used by fusion besides the meta tags."""

    html_title: str | None = None
    headings: list[str] = field(default_factory=list)
    html_lang: str | None = None
    app_name: str | None = None
    canonical_links: list[str] = field(default_factory=list)


def _first(values: dict[str, list[str]], *names: str) -> str | None:
    for name in names:
        for value in values.get(name, ()):
            cleaned = clean_inline(value)
            if cleaned:
                return cleaned
    return None


def _first_link(values: dict[str, list[str]], *names: str) -> str | None:
    """The first value that is an http(s) URL or a relative one (no javascript:, data:...)."""
    for name in names:
        for value in values.get(name, ()):
            link = value.strip()
            scheme = link.split(":", 1)[0].lower() if ":" in link.split("/", 1)[0] else ""
            if link and scheme in ("", "http", "https"):
                return link
    return None


def _all(values: dict[str, list[str]], *names: str) -> list[str]:
    out: list[str] = []
    for name in names:
        out.extend(clean_inline(value) for value in values.get(name, ()))
    return [value for value in out if value]


def collect_meta(tree: HtmlElement) -> dict[str, list[str]]:
    """``<meta>`` contents by lower-case name/property/itemprop, plus a few ``<link>``s."""
    values: dict[str, list[str]] = {}
    for element in tree.iter("meta", "link"):
        if len(values) > MAX_META:
            break
        if element.tag == "link":
            rels = (element.get("rel") or "").lower().split()
            for rel in rels:
                if rel in ("canonical", "image_src", "author"):
                    values.setdefault(f"link:{rel}", []).append(element.get("href") or "")
            continue
        content = element.get("content")
        if content is None:
            continue
        for attribute in ("property", "name", "itemprop", "http-equiv"):
            key = element.get(attribute)
            if key:
                values.setdefault(key.strip().lower(), []).append(content)
    return values


_PUBLISHED = (
    "article:published_time",
    "og:article:published_time",
    "datepublished",
    "article.published",
    "publishdate",
    "publish-date",
    "publish_date",
    "pubdate",
    "publication_date",
    "sailthru.date",
    "parsely-pub-date",
    "dc.date.issued",
    "dcterms.issued",
    "dc.date",
    "dcterms.date",
    "dcterms.created",
    "date",
    "cxenseparse:recs:publishtime",
    "og:published_time",
    "article:published",
)
_MODIFIED = (
    "article:modified_time",
    "og:article:modified_time",
    "datemodified",
    "og:updated_time",
    "dcterms.modified",
    "last-modified",
    "article:modified",
)
_AUTHORS = (
    "author",
    "article:author",
    "og:article:author",
    "dc.creator",
    "dcterms.creator",
    "sailthru.author",
    "parsely-author",
    "byl",
    "cxenseparse:author",
    "articleauthor",
)


def read_meta(values: dict[str, list[str]]) -> Hints:
    """Hints from meta tags: OpenGraph, ``article:*``, Twitter cards, Dublin Core, names."""
    keywords: list[str] = []
    for raw in _all(values, "keywords", "news_keywords", "article:tag", "og:article:tag"):
        keywords.extend(part.strip() for part in raw.split(","))
    return Hints(
        source="meta",
        title=_first(values, "og:title", "twitter:title", "dc.title", "headline", "title"),
        authors=_all(values, *_AUTHORS),
        published=_first(values, *_PUBLISHED),
        modified=_first(values, *_MODIFIED),
        description=_first(
            values, "og:description", "twitter:description", "description", "dc.description"
        ),
        image=_first_link(
            values,
            "og:image:secure_url",
            "og:image",
            "og:image:url",
            "twitter:image",
            "twitter:image:src",
            "link:image_src",
            "image",
            "thumbnailurl",
        ),
        url=_first(values, "link:canonical", "og:url"),
        site_name=_first(values, "og:site_name"),
        section=_first(values, "article:section", "og:article:section", "section"),
        keywords=[keyword for keyword in keywords if keyword],
        language=_first(
            values, "og:locale", "content-language", "language", "dc.language", "inlanguage"
        ),
    )


def read_markup(tree: HtmlElement, values: dict[str, list[str]]) -> PageMarkup:
    """``<title>``, the ``<h1>`` headings, ``<html lang>``, application name, canonical links."""
    title_element = tree.find(".//title")
    html_title = clean_inline(title_element.text_content()) if title_element is not None else None
    headings = [heading for heading in map(clean_inline, _h1_texts(tree)) if heading]
    titles = [html_title, *headings[:1], _first(values, "og:title", "twitter:title")]
    app_name = _first(values, "application-name", "apple-mobile-web-app-title")
    if app_name and comparable(app_name) in {comparable(title) for title in titles if title}:
        app_name = None  # the headline put in a meta tag: no site name
    return PageMarkup(
        html_title=html_title,
        headings=headings,
        html_lang=clean_inline(tree.get("lang") or tree.get("xml:lang") or "") or None,
        app_name=app_name,
        canonical_links=[
            value.strip() for value in values.get("link:canonical", []) + values.get("og:url", [])
        ],
    )


def _h1_texts(tree: HtmlElement) -> list[str]:
    texts = []
    for heading in tree.iter("h1"):
        texts.append(heading.text_content())
        if len(texts) >= MAX_HEADINGS:
            break
    return texts


def read_entry(entry: FeedEntry | None) -> Hints:
    """Hints from the feed entry that announced the article."""
    if entry is None:
        return Hints(source="feed")
    return Hints(
        source="feed",
        title=clean_inline(entry.title) or None,
        authors=[clean_inline(author) for author in entry.authors],
        published=entry.published_at,
        modified=entry.updated_at,
        description=clean_inline(entry.summary) or None,
        image=entry.image,
        url=entry.url,
        site_name=None,
        keywords=[clean_inline(tag) for tag in entry.tags],
    )
