"""The article's language as an ISO 639-1 code: declared by the page, else detected."""

from __future__ import annotations

import re

import py3langid

_CODE = re.compile(r"^([a-zA-Z]{2})(?:[-_][a-zA-Z0-9]{2,8})*$")
DETECT_CHARS = 3000  # enough text for a confident guess, bounded cost


def language_code(tag: str | None) -> str | None:
    """``de-AT``/``de_DE``/``DE`` -> ``de``; ``None`` for anything that is not a 639-1 tag."""
    if not tag:
        return None
    match = _CODE.match(tag.strip())
    return match.group(1).lower() if match else None


def detect_language(text: str) -> str | None:
    """py3langid's guess on the first characters of ``text`` (``None`` for too little text)."""
    sample = text[:DETECT_CHARS]
    if sum(char.isalpha() for char in sample) < 20:
        return None
    code, _score = py3langid.classify(sample)
    return language_code(str(code))


def choose_language(declared: list[str | None], text: str) -> str | None:
    """The first declared language, unless declarations disagree: then the detected one."""
    codes = [code for code in (language_code(tag) for tag in declared) if code]
    if codes and len(set(codes)) == 1:
        return codes[0]
    detected = detect_language(text)
    if detected and (not codes or detected in codes):
        return detected
    return codes[0] if codes else detected
