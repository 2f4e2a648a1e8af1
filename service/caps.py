"""Size caps of what travels and what is published (pure).

``text`` of an Article (``NEWSWIRE_MAX_TEXT_CHARS``) is cut at the last paragraph boundary
before the cap; a feed entry's ``content_html`` (``NEWSWIRE_MAX_ENTRY_CONTENT_CHARS``), which
travels in every task message, at the last tag boundary before it.
"""

from __future__ import annotations

from service.models import FeedEntry


def cap_text(text: str, limit: int) -> str:
    """``text`` at most ``limit`` characters, cut after a paragraph (else a word)."""
    if len(text) <= limit:
        return text
    head = text[:limit]
    for sep in ("\n\n", "\n", " "):
        cut = head.rfind(sep)
        if cut > limit // 2:
            return head[:cut].rstrip()
    return head.rstrip()


def cap_html(html: str, limit: int) -> str:
    """``html`` at most ``limit`` characters, cut before a tag (never inside one)."""
    if len(html) <= limit:
        return html
    head = html[:limit]
    cut = head.rfind("<")
    return head[:cut] if cut > 0 else head


def capped_entry(entry: FeedEntry, max_content_chars: int) -> FeedEntry:
    """The entry with its ``content_html`` within ``max_content_chars``."""
    content = entry.content_html
    if content is None or len(content) <= max_content_chars:
        return entry
    return entry.model_copy(update={"content_html": cap_html(content, max_content_chars)})
