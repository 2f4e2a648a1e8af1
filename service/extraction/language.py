"""The article's language as an ISO 639-1 code: declared by the page, checked by detection."""

from __future__ import annotations

import re
from functools import cache

from py3langid.langid import MODEL_FILE, LanguageIdentifier

_CODE = re.compile(r"^([a-zA-Z]{2})(?:[-_][a-zA-Z0-9]{2,8})*$")
DETECT_CHARS = 1500  # enough text for a confident guess, bounded cost
MIN_LETTERS = 20  # less text than this: no guess at all
# A page's declaration is overruled only by a near-certain guess on enough text: templates
# often declare their default language on every page, whatever the story's language is.
OVERRULE_PROBABILITY = 0.99
OVERRULE_CHARS = 400


@cache
def _identifier() -> LanguageIdentifier:
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def language_code(tag: str | None) -> str | None:
    """``de-AT``/``de_DE``/``DE`` -> ``de``; ``None`` for anything that is not a 639-1 tag."""
    if not tag:
        return None
    match = _CODE.match(tag.strip())
    return match.group(1).lower() if match else None


def detect_language(text: str) -> tuple[str, float] | None:
    """py3langid's guess and its probability on the first characters of ``text``."""
    sample = text[:DETECT_CHARS]
    if sum(char.isalpha() for char in sample) < MIN_LETTERS:
        return None
    code, probability = _identifier().classify(sample)
    found = language_code(str(code))
    return (found, float(probability)) if found else None


def choose_language(declared: list[str | None], text: str) -> str | None:
    """The page's declared language, unless declarations disagree (detection decides) or
    detection is near-certain of another language on enough text."""
    codes = [code for code in (language_code(tag) for tag in declared) if code]
    guess = detect_language(text)
    if guess is None:
        return codes[0] if codes else None
    detected, probability = guess
    if not codes or (detected in codes and len(set(codes)) > 1):
        return detected
    sure = probability >= OVERRULE_PROBABILITY and len(text) >= OVERRULE_CHARS
    return detected if sure and detected not in codes else codes[0]
