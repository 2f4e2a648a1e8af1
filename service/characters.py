"""The characters text never keeps, as two sets for two purposes. Pure.

``NOT_XML`` holds what XML 1.0 forbids and libxml2 refuses in a document (C0 controls but tab,
newline and carriage return; lone surrogates; U+FFFE, U+FFFF): removed from a string before it
is handed to lxml or serialised as XML.

``INVISIBLE`` holds ``NOT_XML`` and every other character that is invisible in text or only
formatting (DEL and C1 controls, zero-width and bidi marks, soft hyphen, byte-order mark,
non-characters, interlinear annotation): removed from every text the service publishes (feed
fields, article metadata and body, OPML titles and URLs). Tab, newline and carriage return are
whitespace, never removed: the cleaners turn them into spaces or line breaks.
"""

from __future__ import annotations

import re

_XML_FORBIDDEN = "\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff"
NOT_XML = re.compile(f"[{_XML_FORBIDDEN}]")
INVISIBLE = re.compile(
    f"[{_XML_FORBIDDEN}\x7f-\x9f\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064"
    "\ufdd0-\ufdef\ufeff\ufff9-\ufffb]"
)
