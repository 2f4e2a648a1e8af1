"""The one safe HTTP client of newswire.

``Fetcher`` (sync: workers, ``newswire extract``) and ``AsyncFetcher`` (the poller) return a
frozen :class:`~service.models.FetchedPage` or raise ``NotModified``, ``TransientError`` or
``PermanentError`` with a reason code. What they enforce, and where:

- ``requests``: http(s) only, URL length, literal IP hosts in any spelling, redirects
  (at most ``max_redirects``, loops refused), conditional GET headers;
- ``service.addresses`` + ``transport`` (sync, httpx) / ``aio`` (async, aiohttp): no
  connection to a non-public address, checked on the resolved address at connect time for
  every new connection (every redirect hop too);
- ``deadline``: one total deadline per fetch (``fetch_timeout``), whatever the server drips;
- ``body``: byte caps on the wire and after gzip/deflate decompression;
- ``responses``: status mapping (``Retry-After``), content types, cache headers;
- ``charset``: the body's encoding.
"""

from service.addresses import AddressGuard
from service.fetching.charset import detect_encoding
from service.fetching.client import AsyncFetcher, Fetcher

__all__ = ["AddressGuard", "AsyncFetcher", "Fetcher", "detect_encoding"]
