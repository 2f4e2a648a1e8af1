"""``X-Hub-Signature`` of WebSub content distribution: PURE.

W3C WebSub §8: ``X-Hub-Signature: method=signature``, the HMAC of the body with the
subscription's ``hub.secret``, where method is one of ``sha1``, ``sha256``, ``sha384``,
``sha512``. Anything else — no header, another method, a malformed or wrong digest — does
not verify. Comparison in constant time.
"""

from __future__ import annotations

import hashlib
import hmac

ALGORITHMS = ("sha1", "sha256", "sha384", "sha512")
_MAX_HEADER = 300  # "sha512=" and 128 hex digits, with room


def sign(secret: str, body: bytes, method: str = "sha256") -> str:
    """The header value a hub sends for ``body``."""
    if method not in ALGORITHMS:
        raise ValueError(f"unknown WebSub signature method {method!r}")
    digest = hmac.new(secret.encode(), body, getattr(hashlib, method)).hexdigest()
    return f"{method}={digest}"


def verify(header: str | None, secret: str, body: bytes) -> bool:
    """True only when ``header`` is a valid signature of ``body`` with ``secret``."""
    if not header or len(header) > _MAX_HEADER or not secret:
        return False
    method, _, given = header.strip().partition("=")
    method = method.strip().lower()
    if method not in ALGORITHMS or not given:
        return False
    expected = hmac.new(secret.encode(), body, getattr(hashlib, method)).hexdigest()
    return hmac.compare_digest(expected, given.strip().lower())
