"""Stable hashes used for ids and change detection."""

from __future__ import annotations

import hashlib


def short_hash(text: str, *, size: int = 16) -> str:
    """A hex BLAKE2b digest of ``text`` (``size`` bytes, 32 hex characters by default)."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=size).hexdigest()
