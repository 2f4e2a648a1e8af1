"""schema.org JSON-LD: the article node (``NewsArticle``, ``BlogPosting``...) and its publisher.

Handles ``@graph``, top-level lists, ``@id`` references and the usual malformed scripts
(raw newlines in strings, HTML comments or CDATA around the JSON).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import orjson
from lxml.html import HtmlElement

from service.extraction.authors import SYSTEM_ACCOUNTS
from service.extraction.metadata import Hints
from service.extraction.text import clean_inline

MAX_SCRIPT_CHARS = 1_000_000
MAX_NODES = 5000
MAX_NESTING = 12
_PAGE_TYPES = frozenset({"webpage", "itempage", "collectionpage", "medicalwebpage"})
_ARTICLE_TYPES = frozenset(
    {
        "blogposting",
        "liveblogposting",
        "socialmediaposting",
        "report",
        "newsarticle",
        "article",
        "posting",
        "creativework",
    }
)
_ORGANIZATION_TYPES = frozenset(
    {
        "organization",
        "newsmediaorganization",
        "corporation",
        "website",
        "onlinebusiness",
        "localbusiness",
    }
)
Node = dict[str, Any]


def read_jsonld(tree: HtmlElement) -> Hints:
    """Hints from the page's best article node (falling back to a ``WebPage`` node)."""
    nodes = list(_nodes(tree))
    index = {node["@id"]: node for node in nodes if isinstance(node.get("@id"), str)}
    article = _best_article(nodes)
    hints = Hints(source="jsonld", site_name=_site_name(nodes, index))
    if article is None:
        return hints
    publisher = _names(article.get("publisher"), index, persons_only=False)
    hints.publisher = publisher[0] if publisher else None
    hints.title = clean_inline(article.get("headline") or article.get("name")) or None
    hints.authors = _authors(article, index, publisher)
    hints.published = _text(article.get("datePublished") or article.get("dateCreated"))
    hints.modified = _text(article.get("dateModified"))
    hints.description = clean_inline(article.get("description")) or None
    image = article.get("image") or article.get("thumbnailUrl")
    hints.image = _image(image, index)
    hints.image_caption, hints.image_credit = _image_notes(image, index)
    hints.section = _text(article.get("articleSection"))
    hints.free = _accessible_for_free(article, index)
    hints.url = _url(article.get("url")) or _url(article.get("mainEntityOfPage"))
    hints.keywords = _keywords(article.get("keywords"))
    hints.language = _language(article.get("inLanguage"))
    return hints


def _scripts(tree: HtmlElement) -> Iterator[str]:
    for script in tree.iter("script"):
        if (script.get("type") or "").strip().lower() == "application/ld+json" and script.text:
            yield script.text[:MAX_SCRIPT_CHARS]


def _load(text: str) -> Any:
    text = text.strip()
    for wrapper in (("<!--", "-->"), ("<![CDATA[", "]]>"), ("//<![CDATA[", "//]]>")):
        text = text.removeprefix(wrapper[0]).removesuffix(wrapper[1]).strip()
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        pass
    try:  # strict=False accepts raw control characters (newlines) inside strings
        return json.loads(text, strict=False)
    except (ValueError, RecursionError):
        return None


def _nodes(tree: HtmlElement) -> Iterator[Node]:
    """Every JSON object in the page's JSON-LD scripts, depth-first, bounded."""
    budget = MAX_NODES
    for script in _scripts(tree):
        stack: list[tuple[Any, int]] = [(_load(script), 0)]
        while stack and budget > 0:
            value, depth = stack.pop()
            if isinstance(value, list):
                stack.extend((item, depth + 1) for item in reversed(value[:200]))
                continue
            if not isinstance(value, dict) or depth > MAX_NESTING:
                continue
            budget -= 1
            yield value
            for key in ("@graph", "mainEntity", "itemListElement", "hasPart"):
                if key in value:
                    stack.append((value[key], depth + 1))


def _types(node: Node) -> set[str]:
    value = node.get("@type")
    values = value if isinstance(value, list) else [value]
    return {item.rsplit("/", 1)[-1].lower() for item in values if isinstance(item, str)}


def _is_article(node: Node) -> bool:
    return any(kind in _ARTICLE_TYPES or kind.endswith("article") for kind in _types(node))


def _best_article(nodes: list[Node]) -> Node | None:
    articles = [node for node in nodes if _is_article(node)]
    if not articles:
        articles = [node for node in nodes if _types(node) & _PAGE_TYPES]

    def score(node: Node) -> int:
        return sum(key in node for key in ("headline", "datePublished", "author", "articleBody"))

    return max(articles, key=score, default=None)  # max keeps the first of equals


def _resolve(value: Any, index: dict[str, Node]) -> Any:
    if isinstance(value, dict) and set(value) <= {"@id", "@type"} and value.get("@id") in index:
        return index[value["@id"]]
    return value


def _names(value: Any, index: dict[str, Node], *, persons_only: bool) -> list[str]:
    """Names of the people/organisations in an ``author``/``publisher`` value."""
    items = value if isinstance(value, list) else [value]
    names: list[str] = []
    for item in items[:50]:
        item = _resolve(item, index)
        if isinstance(item, str):
            names.append(clean_inline(item))
        elif isinstance(item, dict):
            if persons_only and _types(item) & _ORGANIZATION_TYPES:
                names.append("\x00" + clean_inline(item.get("name")))  # marked: organisation
                continue
            if persons_only and _is_placeholder_account(item):
                continue
            name = item.get("name")
            if not name and (item.get("givenName") or item.get("familyName")):
                name = f"{item.get('givenName') or ''} {item.get('familyName') or ''}"
            names.append(clean_inline(name))
    return [name for name in names if name.strip("\x00")]


def _is_placeholder_account(person: Node) -> bool:
    """A CMS account such as ``/author/admin/`` whatever display name it was given."""
    for key in ("@id", "url"):
        value = person.get(key)
        if isinstance(value, str) and "/" in value:
            slug = value.split("#", 1)[0].rstrip("/").rsplit("/", 1)[-1]
            if slug.lower() in SYSTEM_ACCOUNTS:
                return True
    return False


def _authors(article: Node, index: dict[str, Node], publisher: list[str]) -> list[str]:
    """Author names; organisations only when they are not just the publisher again."""
    raw = _names(article.get("author") or article.get("creator"), index, persons_only=True)
    publishers = {name.casefold() for name in publisher}
    out = []
    for name in raw:
        if name.startswith("\x00"):
            name = name[1:]
            if name.casefold() in publishers:
                continue
        out.append(name)
    return out


def _site_name(nodes: list[Node], index: dict[str, Node]) -> str | None:
    for node in nodes:
        if _is_article(node) and node.get("publisher"):
            names = _names(node["publisher"], index, persons_only=False)
            if names:
                return names[0]
    for node in nodes:
        if _types(node) & _ORGANIZATION_TYPES and node.get("name"):
            return clean_inline(node["name"]) or None
    return None


def _text(value: Any) -> str | None:
    if isinstance(value, list) and value:
        value = value[0]
    return clean_inline(value) or None if isinstance(value, str) else None


def _url(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("@id") or value.get("url")
    return _text(value)


def _image(value: Any, index: dict[str, Node]) -> str | None:
    if isinstance(value, list):
        for item in value[:20]:
            found = _image(item, index)
            if found:
                return found
        return None
    value = _resolve(value, index)
    if isinstance(value, dict):
        value = value.get("url") or value.get("contentUrl")
    return _text(value)


def _image_notes(value: Any, index: dict[str, Node]) -> tuple[str | None, str | None]:
    """``(caption, credit)`` of the first image object that has either."""
    for item in (value if isinstance(value, list) else [value])[:20]:
        item = _resolve(item, index)
        if not isinstance(item, dict):
            continue
        caption = _text(item.get("caption")) or _text(item.get("description"))
        credit = _text(item.get("creditText")) or _text(item.get("copyrightNotice"))
        if credit is None:
            credits = _names(
                item.get("copyrightHolder") or item.get("author") or item.get("creator"),
                index,
                persons_only=False,
            )
            credit = credits[0] if credits else None
        if caption or credit:
            return caption, credit
    return None, None


def _flag(value: Any) -> bool | None:
    """A schema.org Boolean: ``true``/``false``, also as text ("False", "https://schema.org/True")."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        word = value.strip().rsplit("/", 1)[-1].lower()
        return {"true": True, "false": False}.get(word)
    return None


def _accessible_for_free(article: Node, index: dict[str, Node]) -> bool | None:
    """``isAccessibleForFree`` of the article, ``False`` when a part of it (``hasPart`` with a
    ``cssSelector``, Google's paywall markup) is declared not free."""
    parts = article.get("hasPart")
    for part in (parts if isinstance(parts, list) else [parts])[:50]:
        part = _resolve(part, index)
        if isinstance(part, dict) and _flag(part.get("isAccessibleForFree")) is False:
            return False
    return _flag(article.get("isAccessibleForFree"))


def _keywords(value: Any) -> list[str]:
    items = value if isinstance(value, list) else str(value or "").split(",")
    keywords = (clean_inline(item) for item in items[:100] if isinstance(item, str))
    return [keyword for keyword in keywords if keyword]


def _language(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("alternateName") or value.get("name")
    return _text(value)
