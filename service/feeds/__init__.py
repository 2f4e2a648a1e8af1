"""Feed documents to :class:`ParsedFeed`: PURE (no I/O, no clock, no settings).

``parse_feed`` reads RSS 0.9x/1.0/2.0 and Atom (through feedparser, on bytes only) and JSON
Feed 1.0/1.1 (our own parser), and normalises every entry the same way. Its one error policy:
it raises :class:`PermanentError` only, with

- ``TOO_LARGE``        the body is over ``max_bytes`` (checked before anything else);
- ``HOSTILE_CONTENT``  ENTITY declarations or a DOCTYPE internal subset (refused before any
  parser sees them), JSON nested deeper than 1024 levels;
- ``NOT_A_FEED``       empty body, an HTML page, JSON that is no JSON Feed, XML that is no feed;
- ``PARSE_ERROR``      JSON that does not parse;
- ``INTERNAL``         an unforeseen failure inside a library or here (a bug: the tests
  assert it never happens on the corpus or on fuzzed input).

``parse_feed_update`` does the same for a feed parsed before, skipping the items it met then
(:mod:`service.feeds.memory`): the poller's path.

Malformed XML that feedparser can still read (truncated, undefined entities, bad encodings)
yields what could be read: a broken feed half-read is better than none.
"""

from __future__ import annotations

from service.addresses import PUBLIC_ONLY, AddressGuard
from service.errors import PermanentError, Reason
from service.feeds import prescreen
from service.feeds.jsonfeed import read_json
from service.feeds.memory import EMPTY, FeedMemory, FeedUpdate
from service.feeds.normalise import build_feed
from service.feeds.xmlfeed import read_xml
from service.models import ParsedFeed

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_ITEMS",
    "FeedMemory",
    "FeedUpdate",
    "parse_feed",
    "parse_feed_update",
]

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_ITEMS = 200


def parse_feed(
    content: bytes,
    *,
    url: str,
    content_type: str | None = None,
    max_items: int = DEFAULT_MAX_ITEMS,
    max_bytes: int = DEFAULT_MAX_BYTES,
    links: AddressGuard = PUBLIC_ONLY,
    encoding: str | None = None,
) -> ParsedFeed:
    """The feed in ``content``, fetched from ``url`` (the base for relative links).

    ``content_type`` (the HTTP header) lends its charset to a document that declares none;
    ``encoding``, the fetcher's (``FetchedPage.encoding``), takes its place when known.
    At most ``max_items`` entries are returned: the newest ones (by date when the items have
    dates, else the first in document order; see :mod:`service.feeds.newest`), in document
    order. Image and content links whose host ``links`` does not permit (literal private,
    loopback, link-local … addresses, ``localhost``) are dropped; an entry's own link is
    kept, for the fetcher to refuse with a visible ``blocked_address`` dead letter.
    """
    return parse_feed_update(
        content,
        url=url,
        content_type=content_type,
        max_items=max_items,
        max_bytes=max_bytes,
        links=links,
        encoding=encoding,
    ).feed


def parse_feed_update(
    content: bytes,
    *,
    url: str,
    content_type: str | None = None,
    max_items: int = DEFAULT_MAX_ITEMS,
    max_bytes: int = DEFAULT_MAX_BYTES,
    links: AddressGuard = PUBLIC_ONLY,
    memory: FeedMemory = EMPTY,
    encoding: str | None = None,
) -> FeedUpdate:
    """:func:`parse_feed` for a feed parsed before: the items whose bytes ``memory`` (what
    the last parse of the same feed returned) holds are skipped (:mod:`service.feeds.memory`).

    ``update.feed.entries`` are exactly the entries :func:`parse_feed` gives for the other
    items; ``update.memory`` goes to the next parse of this feed.
    """
    prescreen.check_size(content, max_bytes)
    context = _context(url, links)
    try:
        if prescreen.sniff_kind(content) == "json":
            raw = read_json(content, max_items=max_items, memory=memory, context=context)
        else:
            raw = read_xml(
                content,
                url=url,
                content_type=content_type,
                max_items=max_items,
                memory=memory,
                context=context,
                encoding=encoding,
            )
        return build_feed(raw, url=url, max_items=max_items, links=links)
    except PermanentError:
        raise
    except RecursionError as exc:
        raise PermanentError("document nested too deeply", reason=Reason.HOSTILE_CONTENT) from exc
    except Exception as exc:  # one error policy at the boundary: a bug, reported as such
        raise PermanentError(
            f"feed parser failed: {type(exc).__name__}: {exc}"[:500], reason=Reason.INTERNAL
        ) from exc


def _context(url: str, links: AddressGuard) -> bytes:
    """What every item hash of this feed depends on besides the item: the feed URL (the base
    of its links) and which links may be kept."""
    policy = [str(links.allow_private), *(str(n) for n in links.allowed_networks)]
    return "\x1f".join([url, *policy]).encode("utf-8", "surrogatepass")
