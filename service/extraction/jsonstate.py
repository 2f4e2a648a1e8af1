"""The article text of client-rendered pages, from the JSON state inline in the page.

Read only when the DOM gave too little text: Next.js ``__NEXT_DATA__``, ``application/json``
scripts, ``window.__INITIAL_STATE__ = {...}``-style assignments, JSON-LD ``articleBody``.
The longest HTML/text field under a body-like key is the article. Hostile input: each
script is bounded in size, the walk in nodes and depth, a parser error ends that script.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

import orjson
from lxml.html import HtmlElement

from service.errors import PermanentError
from service.extraction.boilerplate import drop_chrome
from service.extraction.html import parse_html
from service.extraction.text import clean_lines, join_paragraphs
from service.extraction.trafilatura_adapter import fragment_text

MAX_SCRIPT_CHARS = 2_000_000  # a larger state blob is not read
MAX_SCRIPTS = 30
MAX_NODES = 200_000  # JSON values visited per page
MAX_DEPTH = 64
MIN_FIELD_CHARS = 200
# ``window.__INITIAL_STATE__ =``, ``self.__PRELOADED_STATE__=``, ``var __APP_DATA__ =``
_ASSIGNMENT = re.compile(
    r"^\s*(?:(?:var|let|const)\s+)?(?:window\.|self\.|globalThis\.)?"
    r"(?:\[[\"'])?(\w*(?:state|data|props|store|apollo)\w*)(?:[\"']\])?\s*=\s*(?=[{\[])",
    re.IGNORECASE,
)
# keys whose text is article body: articleBody, body, bodyHtml, content, contentHtml, text...
_BODY_KEY = re.compile(r"body|content|text|html|story", re.IGNORECASE)
_NOT_BODY_KEY = re.compile(r"meta|seo|teaser|summary|caption|title|alt|json", re.IGNORECASE)
_TAG = re.compile(r"<(?:p|div|br|h[1-6]|li|section|span|a|strong|em)\b", re.IGNORECASE)


def state_scripts(tree: HtmlElement) -> list[HtmlElement]:
    """The page's script elements, taken before anything strips scripts from the tree (the
    elements stay readable after their removal: lxml keeps nodes a Python object holds)."""
    return list(tree.iter("script"))


def state_text(scripts: Iterable[HtmlElement], *, max_depth: int) -> str:
    """The longest article text in the inline JSON state of ``scripts`` (see
    :func:`state_scripts`), or ''."""
    best = ""
    budget = [MAX_NODES]
    for data in _documents(scripts):
        for field in _body_fields(data, budget):
            if len(field) <= len(best):
                continue
            text = _as_text(field, max_depth=max_depth)
            if len(text) > len(best):
                best = text
    return best


def _documents(scripts: Iterable[HtmlElement]) -> Iterator[Any]:
    count = 0
    for script in scripts:
        text = script.text or ""
        if count >= MAX_SCRIPTS:
            return
        if len(text) < MIN_FIELD_CHARS or len(text) > MAX_SCRIPT_CHARS:
            continue
        kind = (script.get("type") or "").strip().lower()
        if kind in ("application/json", "application/ld+json") or script.get("id") == (
            "__NEXT_DATA__"
        ):
            count += 1
            yield _load(text)
        elif kind in ("", "text/javascript", "module", "application/javascript"):
            match = _ASSIGNMENT.match(text)
            if match is not None:
                count += 1
                yield _load(text[match.end() :])


def _load(text: str) -> Any:
    """One JSON value; for an assignment, the value before the ``;`` that ends it."""
    text = text.strip().removesuffix(";").strip()
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        pass
    try:
        return json.JSONDecoder(strict=False).raw_decode(text)[0]
    except (ValueError, RecursionError):
        return None


def _body_fields(data: Any, budget: list[int]) -> Iterator[str]:
    """String values under body-like keys, depth-first, within the node budget."""
    stack: list[tuple[Any, int, str]] = [(data, 0, "")]
    while stack and budget[0] > 0:
        value, depth, key = stack.pop()
        budget[0] -= 1
        if isinstance(value, str):
            if (
                len(value) >= MIN_FIELD_CHARS
                and _BODY_KEY.search(key)
                and not _NOT_BODY_KEY.search(key)
            ):
                yield value
        elif depth < MAX_DEPTH and isinstance(value, dict):
            stack.extend((item, depth + 1, str(name)) for name, item in value.items())
        elif depth < MAX_DEPTH and isinstance(value, list):
            stack.extend((item, depth + 1, key) for item in value)


def _as_text(field: str, *, max_depth: int) -> str:
    """A field's text: paragraphs of its HTML, or its lines if it is plain text; '' for
    HTML nested deeper than ``max_depth`` (that field is skipped, not the page)."""
    if _TAG.search(field):
        try:
            tree = parse_html(f"<html><body>{field}</body></html>", max_depth=max_depth)
        except PermanentError:
            return ""
        field = fragment_text(tree) if tree is not None else ""
    return join_paragraphs(drop_chrome(clean_lines(field)))
