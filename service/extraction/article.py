"""``extract_article``: one fetched page (and its feed entry) in, one Article v1 out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from lxml.html import HtmlElement

from service import __version__
from service.addresses import PUBLIC_ONLY, AddressGuard
from service.caps import cap_text
from service.dates import parse_date
from service.errors import PermanentError, Reason
from service.extraction.authors import split_authors
from service.extraction.boilerplate import drop_chrome
from service.extraction.bylines import (
    read_author_links,
    read_bold_byline,
    read_labelled_byline,
)
from service.extraction.fusion import (
    choose_authors,
    choose_dates,
    choose_free,
    choose_image_notes,
    choose_section,
    choose_summary,
    choose_tags,
    choose_title,
    first_value,
)
from service.extraction.html import decode_html, drop_inert, parse_html
from service.extraction.jsonld import read_jsonld
from service.extraction.jsonstate import state_scripts, state_text
from service.extraction.language import choose_language
from service.extraction.links import (
    choose_canonical,
    choose_image,
    foreign_canonical,
    registered_domain,
    site_domain,
)
from service.extraction.metadata import (
    Hints,
    PageMarkup,
    collect_meta,
    read_entry,
    read_markup,
    read_meta,
)
from service.extraction.standfirst import find_standfirst
from service.extraction.text import clean_lines, comparable, join_paragraphs, word_count
from service.extraction.titles import site_keys, trailer_date
from service.extraction.trafilatura_adapter import (
    TRAFILATURA_VERSION,
    extract_text,
    fragment_text,
    read_bylines,
    search_date,
)
from service.hashing import short_hash
from service.models import Article, ExtractorInfo, FeedEntry, FeedRef, FetchedPage, SiteRef
from service.urls import article_id, is_http_url

EXTRACTOR = ExtractorInfo(
    name="newswire+trafilatura", version=f"{__version__}+{TRAFILATURA_VERSION}"
)
MAX_FALLBACK_TITLE = 120
MIN_PARAGRAPH_CHARS = 60


@dataclass(slots=True)
class _Page:
    """What every source says about the article, before fusion."""

    jsonld: Hints
    meta: Hints
    markup: PageMarkup
    feed: Hints
    trafilatura: Hints | None = None

    def sources(self) -> list[Hints]:
        extra = [self.trafilatura] if self.trafilatura is not None else []
        return [self.jsonld, self.meta, self.feed, *extra]

    def descriptions(self) -> list[str]:
        found = (self.jsonld.description, self.meta.description, self.feed.description)
        return [text for text in found if text]


@dataclass(frozen=True, slots=True)
class _Site:
    """Who published the page: canonical URL, domain, name, and keys to recognise it."""

    canonical: str
    domain: str
    name: str | None
    keys: set[str]  # for site-suffix removal from titles and publisher removal from authors
    claimed: str | None = None  # a canonical URL on another site (not trusted for the id)


@dataclass(slots=True)
class _Fields:
    title: str | None
    authors: list[str]
    published: datetime | None
    updated: datetime | None


@dataclass(frozen=True, slots=True)
class Story:
    """An extracted article and what the page claims beyond it: a canonical URL on another
    site, untrusted for the id, a hint for ``duplicate_of`` (service.identity)."""

    article: Article
    claimed_canonical: str | None = None


def extract_article(
    page: FetchedPage,
    entry: FeedEntry | None = None,
    *,
    min_text_chars: int = 200,
    max_depth: int = 200,
    links: AddressGuard = PUBLIC_ONLY,
    max_text_chars: int | None = None,
) -> Article:
    """Structure one fetched page as an Article (see :func:`extract_story`)."""
    return extract_story(
        page,
        entry,
        min_text_chars=min_text_chars,
        max_depth=max_depth,
        links=links,
        max_text_chars=max_text_chars,
    ).article


def extract_story(
    page: FetchedPage,
    entry: FeedEntry | None = None,
    *,
    min_text_chars: int = 200,
    max_depth: int = 200,
    links: AddressGuard = PUBLIC_ONLY,
    max_text_chars: int | None = None,
) -> Story:
    """Structure one fetched page as an Article, using the feed entry's hints.

    Pure: no network, no clock. Raises only ``PermanentError``: ``parse_error`` (not
    text, not parseable), ``hostile_content`` (nesting deeper than ``max_depth``),
    ``extraction_empty`` (under ``min_text_chars`` of text, the feed's content included),
    ``bad_url`` (a page URL that is no http(s) URL). ``links`` decides which addresses the
    links handed on (the image) may point at: public ones only unless told otherwise.
    ``text`` is cut (at a paragraph boundary) to ``max_text_chars`` when given.
    """
    if not is_http_url(page.url):
        raise PermanentError(f"page URL is not http(s): {page.url[:100]!r}", reason=Reason.BAD_URL)
    tree = parse_html(decode_html(page.content, page.encoding), max_depth=max_depth)
    info = _read_page(tree, entry)
    site = _read_site(page.url, info, entry)
    fields = _choose_fields(info, site)
    lines: list[str] = []
    standfirst = None
    scripts = state_scripts(tree) if tree is not None else []  # for a client-rendered page
    if tree is not None:
        drop_inert(tree)  # every reader of scripts (JSON-LD, inline JSON) has run above
        lines = _without_headline(
            drop_chrome(clean_lines(extract_text(tree, page.url))), fields.title
        )
        standfirst = find_standfirst(
            tree, first_body_line=_first_paragraph(lines), descriptions=info.descriptions()
        )
        fields, byline_line = _complete_fields(fields, tree, page, info, site, lines)
        lines = [line for line in lines if line is not byline_line]
    text = _compose_text(lines, standfirst)
    if len(text) < max(min_text_chars, 1) and scripts:  # a client-rendered page?
        text = max(text, state_text(scripts, max_depth=max_depth), key=len)
    if len(text) < max(min_text_chars, 1):
        text = _feed_fallback(entry, text, min_text_chars=min_text_chars, max_depth=max_depth)
    if max_text_chars is not None:
        text = cap_text(text, max_text_chars)
    article = _assemble(page, entry, info, site, fields, text, standfirst, links, tree)
    return Story(article, site.claimed)


def _assemble(
    page: FetchedPage,
    entry: FeedEntry | None,
    info: _Page,
    site: _Site,
    fields: _Fields,
    text: str,
    standfirst: str | None,
    links: AddressGuard,
    tree: HtmlElement | None,
) -> Article:
    title = fields.title or _title_from_text(text)
    declared_languages = [
        info.jsonld.language,
        info.markup.html_lang,
        info.meta.language,
        entry.language if entry else None,  # a news sitemap's news:language
    ]
    sources = info.sources()
    image = choose_image(page.url, [hint.image for hint in sources], permits=links.permits_link)
    caption, credit = choose_image_notes(sources, tree, image)
    return Article(
        id=article_id(site.canonical),
        url=page.url,
        canonical_url=site.canonical,
        feed=FeedRef(url=entry.feed_url, title=entry.feed_title) if entry else None,
        site=SiteRef(name=site.name, domain=site.domain),
        title=title,
        authors=fields.authors,
        published_at=fields.published,
        updated_at=fields.updated,
        language=choose_language(declared_languages, text),
        summary=choose_summary(info.descriptions(), standfirst, title),
        text=text,
        word_count=word_count(text),
        image=image,
        image_caption=caption,
        image_credit=credit,
        tags=choose_tags(sources),
        section=choose_section(sources),
        is_accessible_for_free=choose_free(sources),
        content_hash=short_hash(text),
        fetched_at=page.fetched_at,
        extractor=EXTRACTOR,
    )


def _read_page(tree: HtmlElement | None, entry: FeedEntry | None) -> _Page:
    if tree is None:
        empty = Hints(source="page")
        return _Page(empty, empty, PageMarkup(), read_entry(entry))
    values = collect_meta(tree)
    return _Page(read_jsonld(tree), read_meta(values), read_markup(tree, values), read_entry(entry))


def _read_site(url: str, info: _Page, entry: FeedEntry | None) -> _Site:
    candidates = [*info.markup.canonical_links, info.jsonld.url]
    canonical = choose_canonical(url, candidates)
    name = first_value(info.meta.site_name, info.jsonld.site_name, info.markup.app_name)
    names = [
        value
        for value in (
            name,
            info.jsonld.publisher,
            info.markup.app_name,
            info.meta.site_name,
            entry.feed_title if entry else None,
        )
        if value
    ]
    domain = site_domain(canonical)
    keys = site_keys(names, domain, registered_domain(canonical))
    claimed = foreign_canonical(url, candidates)
    return _Site(canonical, domain, name, keys | {comparable(value) for value in names}, claimed)


def _choose_fields(info: _Page, site: _Site) -> _Fields:
    sources = info.sources()
    published, updated = choose_dates(sources)
    return _Fields(
        title=choose_title(sources, info.markup, site.keys),
        authors=choose_authors(sources, site.keys),
        published=published,
        updated=updated,
    )


def _complete_fields(
    fields: _Fields,
    tree: HtmlElement,
    page: FetchedPage,
    info: _Page,
    site: _Site,
    lines: list[str],
) -> tuple[_Fields, str | None]:
    """Fill in authors and date from the markup (bylines, htmldate) when no metadata source
    had them; these searches cost more, so they only run when needed. Also returns the
    body line that turned out to be the byline, if one did."""
    if fields.authors and fields.published:
        return fields, None
    extra = Hints(source="markup")
    byline_line = None
    if not fields.authors:
        extra.authors, byline_line = _visible_bylines(tree, lines, site.keys)
    if not fields.published:  # a date in the title's trailer, else htmldate's search
        extra.published = _title_date(info, page.fetched_at) or search_date(
            tree, page.url, not_after=page.fetched_at
        )
    info.trafilatura = extra
    return _choose_fields(info, site), byline_line


def _title_date(info: _Page, not_after: datetime) -> str | None:
    found = trailer_date([info.markup.html_title, info.meta.title])
    parsed = parse_date(found)
    return found if parsed is not None and parsed <= not_after else None


def _visible_bylines(
    tree: HtmlElement, lines: list[str], exclude: set[str]
) -> tuple[list[str], str | None]:
    """Bylines in the markup, best first: trafilatura's search (``class="author"``...),
    links to author pages, a bold name at the top or the end of the body."""
    links = read_author_links(tree)
    exclude = exclude | {comparable(name) for name in links.placeholders}
    for found in (read_bylines(tree), links.names):
        if split_authors(found, exclude=exclude):
            return found, None
    for found_line in (read_bold_byline(tree, lines), read_labelled_byline(lines)):
        if found_line is not None and split_authors([found_line[0]], exclude=exclude):
            return [found_line[0]], found_line[1]
    return [], None


def _without_headline(lines: list[str], title: str | None) -> list[str]:
    """``lines`` without the headline repeated at the top of the body."""
    if lines and title and comparable(lines[0]) == comparable(title):
        return lines[1:]
    return lines


def _first_paragraph(lines: list[str]) -> str | None:
    """The first real paragraph of the body (not a section label or a short kicker)."""
    return next((line for line in lines if len(line) >= MIN_PARAGRAPH_CHARS), None)


def _compose_text(lines: list[str], standfirst: str | None) -> str:
    """Body paragraphs, with the standfirst first if the body lacks it."""
    if standfirst:
        key = comparable(standfirst)
        if key and key not in comparable("\n".join(lines)):
            lines = [standfirst, *lines]
    return join_paragraphs(lines)


def _feed_fallback(
    entry: FeedEntry | None, text: str, *, min_text_chars: int, max_depth: int
) -> str:
    """The feed's full content (or summary) when the page gave too little text."""
    candidates: list[str] = []
    if entry is not None and entry.content_html:
        fragment = parse_html(
            f"<html><body>{entry.content_html}</body></html>", max_depth=max_depth
        )
        if fragment is not None:
            candidates.append(join_paragraphs(drop_chrome(clean_lines(fragment_text(fragment)))))
    if entry is not None and entry.summary:
        candidates.append(join_paragraphs(drop_chrome(clean_lines(entry.summary))))
    for candidate in candidates:
        if len(candidate) >= max(min_text_chars, 1) and len(candidate) > len(text):
            return candidate
    raise PermanentError(
        f"no article text: {len(text)} characters extracted, at least {min_text_chars} needed",
        reason=Reason.EXTRACTION_EMPTY,
    )


def _title_from_text(text: str) -> str:
    first = text.split("\n", 1)[0]
    if len(first) <= MAX_FALLBACK_TITLE:
        return first
    return first[:MAX_FALLBACK_TITLE].rsplit(" ", 1)[0] + "…"
