"""Pure: an article's text to the hashed word shingles its signature is made of.

Normalisation: Unicode NFKC, case folded, punctuation dropped; a token is a run of letters
and digits, except in scripts written without spaces (Chinese, Japanese kana, Thai...) where
every character is a token, so that their shingles are character shingles. Paragraph breaks
are ignored (a paragraph split or merged changes no shingle). A shingle is ``SHINGLE_SIZE``
consecutive tokens; its hash is 32 bits, computed from the tokens' CRC-32s with numpy (one C
call per token, not one hash object per shingle: this is the worker's fast path).
"""

from __future__ import annotations

import re
import unicodedata
import zlib

import numpy as np
import numpy.typing as npt

SHINGLE_SIZE = 4
# Scripts written without spaces between words: one token per character.
_UNSPACED = (
    "\u0e00-\u0e7f"  # Thai
    "\u0e80-\u0eff"  # Lao
    "\u1000-\u109f"  # Myanmar
    "\u1780-\u17ff"  # Khmer
    "\u3040-\u30ff"  # Hiragana, Katakana
    "\u3400-\u4dbf"  # CJK extension A
    "\u4e00-\u9fff"  # CJK unified ideographs
    "\uf900-\ufaff"  # CJK compatibility ideographs
)
_TOKEN = re.compile(f"[{_UNSPACED}]|[^\\W{_UNSPACED}]+")
_MIX = np.uint64(0x9E3779B97F4A7C15)  # odd multipliers of the shingle mix (golden ratio)
_MIX2 = np.uint64(0xC2B2AE3D27D4EB4F)


def tokens(text: str) -> list[str]:
    """The normalised tokens of ``text`` (see the module docstring)."""
    return _TOKEN.findall(unicodedata.normalize("NFKC", text).casefold())


def shingle_hashes(toks: list[str], *, size: int = SHINGLE_SIZE) -> npt.NDArray[np.uint32]:
    """The distinct 32-bit hashes of the ``size``-token shingles of ``toks``.

    A text shorter than ``size`` tokens has one shingle (all of it); no tokens, none.
    """
    if not toks:
        return np.zeros(0, dtype=np.uint32)
    known = {t: zlib.crc32(t.encode("utf-8", "surrogatepass")) for t in set(toks)}
    token_hashes = np.array([known[t] for t in toks], dtype=np.uint64)
    width = max(1, len(toks) - size + 1)
    mixed = np.zeros(width, dtype=np.uint64)
    with np.errstate(over="ignore"):  # multiplication modulo 2**64 is the point
        for offset in range(min(size, len(toks))):
            mixed = (mixed ^ token_hashes[offset : offset + width]) * _MIX
        mixed ^= mixed >> np.uint64(29)
        mixed *= _MIX2
        mixed ^= mixed >> np.uint64(32)
    return np.unique((mixed & np.uint64(0xFFFFFFFF)).astype(np.uint32))
