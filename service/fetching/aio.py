"""The poller's HTTP client: an aiohttp session whose every connection passes the guard.

The poller fetches thousands of feeds; aiohttp parses HTTP in C (llhttp) and runs on
asyncio directly, where httpx's async stack (httpcore, h11, anyio) spent four times the
CPU on the same 146 KB feed (``docs/performance.md``, section 3). The rules are the same as
the sync fetcher's, and come from the same functions (``client.plan_fetch``, ``on_head``,
``freeze_page``, ``translate_errors``, ``body.BodyReader``):

- **addresses**: a host name is resolved by :class:`GuardedResolver`, which returns only
  the addresses the :class:`~service.addresses.AddressGuard` permits (aiohttp then
  connects to exactly those: no window for DNS rebinding); every socket is created by
  :func:`guarded_socket_factory`, which checks the address it is about to connect to once
  more, so a literal IP (which aiohttp does not resolve) is judged at connect time too;
- **no environment**: no proxy (``trust_env=False``), no cookies (a dummy jar), no
  redirects followed by aiohttp (the fetcher follows them itself, through the guard);
- **raw bytes**: ``auto_decompress=False``; the body reader inflates under its own caps;
- **bounded headers**: aiohttp's limits on the status line, header lines and fields.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from collections.abc import Callable, Mapping
from typing import Any

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

from service.addresses import AddressGuard
from service.fetching.deadline import Deadline
from service.fetching.transport import permitted_addresses

AddrInfo = tuple[int, int, int, str, tuple[Any, ...]]
MAX_LINE = 8190  # aiohttp's defaults, stated: the longest status or header line …
MAX_FIELD = 8190  # … and the longest header field


class GuardedResolver(AbstractResolver):
    """The system resolver (in the loop's thread pool), filtered by the address guard."""

    def __init__(self, guard: AddressGuard) -> None:
        self.guard = guard

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, port, family=family, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            raise OSError(f"DNS lookup of {host} failed: {exc}") from None
        families = {str(info[4][0]): info[0] for info in infos}
        # BLOCKED_ADDRESS when nothing is permitted; aiohttp passes it on as it is.
        return [
            ResolveResult(
                hostname=host,
                host=address,
                port=port,
                family=families[address],
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
            for address in permitted_addresses(self.guard, host, infos)
        ]

    async def close(self) -> None:
        return None


def guarded_socket_factory(guard: AddressGuard) -> Callable[[AddrInfo], socket.socket]:
    """aiohttp's socket factory: the address checked just before the connect."""

    def create(addr_info: AddrInfo) -> socket.socket:
        family, kind, proto, _, sockaddr = addr_info
        host = str(sockaddr[0])
        guard.check_address(ipaddress.ip_address(host.split("%", 1)[0]), host=host)
        return socket.socket(family=family, type=kind, proto=proto)

    return create


def guarded_session(
    guard: AddressGuard,
    *,
    max_connections: int,
    keepalive: float = 30.0,
    headers: dict[str, str] | None = None,
) -> aiohttp.ClientSession:
    """A session for newswire's async requests (call it inside the running loop)."""
    connector = aiohttp.TCPConnector(
        resolver=GuardedResolver(guard),
        socket_factory=guarded_socket_factory(guard),
        ssl=ssl.create_default_context(),
        limit=max_connections,
        limit_per_host=0,
        keepalive_timeout=keepalive,
        ttl_dns_cache=10,
        family=socket.AF_UNSPEC,
    )
    return aiohttp.ClientSession(
        connector=connector,
        auto_decompress=False,
        trust_env=False,
        cookie_jar=aiohttp.DummyCookieJar(),
        headers=headers,
        skip_auto_headers=("Accept-Encoding",),
        max_line_size=MAX_LINE,
        max_field_size=MAX_FIELD,
        timeout=aiohttp.ClientTimeout(total=None),
    )


def joined_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Response headers by lower-case name, repeated ones joined with ", " (as httpx and
    RFC 9110 §5.3 join them), so both fetchers read headers the same way."""
    out: dict[str, str] = {}
    for name, value in headers.items():
        key = name.lower()
        out[key] = f"{out[key]}, {value}" if key in out else value
    return out


def hop_timeout(deadline: Deadline, connect_timeout: float) -> aiohttp.ClientTimeout:
    """One request's timeouts: connecting within ``connect_timeout``, everything within
    what is left of the fetch's deadline."""
    left, connect = deadline.hop_timeouts(connect_timeout)
    return aiohttp.ClientTimeout(total=left, sock_connect=connect)


async def read_chunk(content: aiohttp.StreamReader, deadline: Deadline) -> bytes:
    """The next piece of a body (``b""`` at its end), the deadline's minimum rate enforced:
    a read waits at most until the rate must be checked, then waits again if it holds."""
    if deadline.min_rate <= 0:
        data = await content.readany()
    else:
        while True:
            try:
                async with asyncio.timeout(deadline.clamp(None, reading=True)):
                    data = await content.readany()
                break
            except TimeoutError:
                deadline.check_rate()  # SlowResponse when it has fallen below the minimum
                if deadline.remaining() <= 0:
                    raise
    deadline.received(len(data))
    return data
