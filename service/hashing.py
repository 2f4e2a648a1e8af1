"""Stable hashes used for ids and change detection."""

from __future__ import annotations

import hashlib


def short_hash(text: str | bytes, *, size: int = 16) -> str:
    """A hex BLAKE2b digest of ``text`` (``size`` bytes, 32 hex characters by default);
    ``bytes`` are hashed as they are, ``str`` as UTF-8."""
    data = text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass")
    return hashlib.blake2b(data, digest_size=size).hexdigest()
