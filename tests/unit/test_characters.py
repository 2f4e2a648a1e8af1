"""One set of invisible characters for feed fields, article text and OPML (service.characters)."""

from __future__ import annotations

from service.extraction.text import clean_inline, clean_lines
from service.feeds.text import clean_text, xml_safe
from service.opml import read_feed_list

# soft hyphen, zero-width space, a bidi override, a C1 control, a byte-order mark
MARKED = "Ge\u00adschichte\u200b \u202ebericht\x85 \ufeffneu"


def test_feed_fields_and_article_text_drop_the_same_characters() -> None:
    assert clean_text(MARKED) == clean_inline(MARKED) == "Geschichte bericht neu"


def test_carriage_return_is_whitespace_not_removed() -> None:
    assert clean_lines("one\rtwo\r\nthree") == ["one", "two", "three"]
    assert clean_text("one\rtwo") == "one two"


def test_xml_safe_keeps_what_xml_allows() -> None:
    assert xml_safe("a\x00b\tc\u00ad") == "ab\tc\u00ad"


def test_feed_list_drops_invisible_characters() -> None:
    line = "https://a.example/feed\u200b \x9bNews\n".encode()
    assert read_feed_list(line) == [("https://a.example/feed", "News")]
