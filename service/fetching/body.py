"""Reading a response body within byte caps, decompressing it ourselves (pure).

The cap applies twice: to the bytes on the wire (``Content-Length`` over the cap is refused
before reading; streamed bytes are counted) and to the bytes after decompression. gzip and
deflate (zlib-wrapped or raw) are inflated with ``zlib.decompressobj`` and ``max_length``,
so a decompression bomb is refused after ``cap + 1`` output bytes and never allocates more.
A feed or sitemap may also *be* a gzip file (``sitemap.xml.gz`` served as
``application/gzip``, without ``Content-Encoding``): with ``gzip_files`` such a body,
recognised by its first two bytes, is inflated the same way, within the same cap.
"""

from __future__ import annotations

import zlib
from typing import Protocol

from service.errors import PermanentError, Reason

ACCEPT_ENCODING = "gzip, deflate"
_GZIP = ("gzip", "x-gzip")
_DEFLATE = ("deflate",)
_IDENTITY = ("identity", "")
GZIP_MAGIC = b"\x1f\x8b"


class Decoder(Protocol):
    def decode(self, data: bytes, limit: int) -> bytes: ...
    def flush(self) -> bytes: ...


class Identity:
    def decode(self, data: bytes, limit: int) -> bytes:
        return data

    def flush(self) -> bytes:
        return b""


class Inflate:
    """gzip or deflate, output bounded per call; raw deflate detected on the first bytes."""

    def __init__(self, *, gzip: bool) -> None:
        self._gzip = gzip
        self._started = False
        self._obj = zlib.decompressobj(zlib.MAX_WBITS | 16 if gzip else zlib.MAX_WBITS)

    def decode(self, data: bytes, limit: int) -> bytes:
        """Inflate ``data``, producing at most ``limit + 1`` bytes (the caller refuses more)."""
        if not self._started and data and not self._gzip:
            self._started = True
            try:
                return self._inflate(data, limit)
            except zlib.error:  # "deflate" sent as raw deflate without the zlib header
                self._obj = zlib.decompressobj(-zlib.MAX_WBITS)
        self._started = True
        return self._inflate(data, limit)

    def _inflate(self, data: bytes, limit: int) -> bytes:
        out = bytearray()
        while data and not self._obj.eof and len(out) <= limit:
            out += self._obj.decompress(data, limit + 1 - len(out))
            data = self._obj.unconsumed_tail
        return bytes(out)

    def flush(self) -> bytes:
        return b"" if self._obj.eof else self._obj.flush()


def decoder_for(content_encoding: str | None, url: str) -> Decoder:
    """The decoder of a ``Content-Encoding`` header; unsupported codings are refused."""
    codings = [c.strip().lower() for c in (content_encoding or "").split(",")]
    codings = [c for c in codings if c not in _IDENTITY]
    if not codings:
        return Identity()
    if len(codings) == 1 and codings[0] in _GZIP + _DEFLATE:
        return Inflate(gzip=codings[0] in _GZIP)
    raise PermanentError(
        f"{url}: unsupported Content-Encoding {content_encoding!r}", reason=Reason.PARSE_ERROR
    )


def too_large(url: str, limit: int, where: str) -> PermanentError:
    return PermanentError(f"{url}: body over {limit} bytes ({where})", reason=Reason.TOO_LARGE)


def check_content_length(value: str | None, limit: int, url: str) -> int | None:
    """The announced length; refuses one over ``limit`` before anything is read."""
    try:
        length = int(value) if value is not None else None
    except ValueError:
        return None
    if length is not None and length > limit:
        raise too_large(url, limit, f"Content-Length {length}")
    return length


class BodyReader:
    """Accumulates raw chunks; raises ``TOO_LARGE`` as soon as either cap is passed."""

    def __init__(
        self, *, limit: int, content_encoding: str | None, url: str, gzip_files: bool = False
    ) -> None:
        self.limit = limit
        self.url = url
        self.wire_bytes = 0
        self._decoder = decoder_for(content_encoding, url)
        self._out = bytearray()
        # Without a Content-Encoding, the first bytes decide whether the body is a gzip file.
        self._sniffing = gzip_files and isinstance(self._decoder, Identity)
        self._head = b""

    def feed(self, chunk: bytes) -> None:
        self.wire_bytes += len(chunk)
        if self.wire_bytes > self.limit:
            raise too_large(self.url, self.limit, "on the wire")
        if self._sniffing:
            self._head += chunk
            if len(self._head) < len(GZIP_MAGIC):
                return
            chunk, self._head, self._sniffing = self._head, b"", False
            if chunk.startswith(GZIP_MAGIC):
                self._decoder = Inflate(gzip=True)
        self._append(self._decode(chunk))

    def _decode(self, chunk: bytes) -> bytes:
        try:
            return self._decoder.decode(chunk, self.limit - len(self._out))
        except zlib.error as exc:
            raise PermanentError(
                f"{self.url}: corrupt compressed body: {exc}", reason=Reason.PARSE_ERROR
            ) from exc

    def _append(self, data: bytes) -> None:
        if len(self._out) + len(data) > self.limit:
            raise too_large(self.url, self.limit, "after decompression")
        self._out += data

    def finish(self) -> bytes:
        """The whole decoded body."""
        if self._head:  # a body shorter than the gzip magic
            self._append(self._head)
            self._head = b""
        try:
            tail = self._decoder.flush()
        except zlib.error as exc:
            raise PermanentError(
                f"{self.url}: corrupt compressed body: {exc}", reason=Reason.PARSE_ERROR
            ) from exc
        self._append(tail)
        return bytes(self._out)
