"""The one hardened lxml parse of untrusted XML (feeds, sitemaps, WebSub discovery). Pure.

libxml2 runs in recovery mode with no network, no DTD loading, no entity substitution and
its default size limits (``huge_tree`` off). Declarations are refused before this
(:func:`service.feeds.prescreen.refuse_declarations`).
"""

from __future__ import annotations

from lxml import etree

from service.errors import PermanentError, Reason


def parse_xml(
    data: bytes, *, drop_comments: bool = False
) -> tuple[etree._Element, etree._ListErrorLog]:
    """The root of ``data`` and the errors libxml2 recovered from; ``NOT_A_FEED`` when there
    is no document. ``drop_comments`` also drops comments and processing instructions."""
    parser = etree.XMLParser(
        recover=True,
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=drop_comments,
        remove_pis=drop_comments,
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise PermanentError(f"no XML document: {exc}", reason=Reason.NOT_A_FEED) from exc
    if root is None:
        raise PermanentError("no XML document", reason=Reason.NOT_A_FEED)
    return root, parser.error_log
