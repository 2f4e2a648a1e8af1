"""The sync httpx transport whose every new connection goes through the address guard
(the async fetcher's aiohttp session is in ``service.fetching.aio``).

The guarded network backend wraps httpcore's own: ``connect_tcp(host, port)`` resolves the
host itself, checks every resolved address with the :class:`AddressGuard` and connects to
a permitted address (so there is no window between the check and the connect for DNS
rebinding). TLS still verifies and sends SNI for the host name, because httpcore calls
``start_tls(server_hostname=<host>)`` on the stream afterwards. The streams clamp every
operation to the fetch's total :class:`~service.fetching.deadline.Deadline`.

The transport is ``httpx.HTTPTransport`` with its httpcore pool replaced by one built on
the guarded backend (httpx has no public hook for a network backend); no proxy is ever
used, HTTP/1.1 only.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpcore
import httpx

from service.addresses import AddressGuard
from service.fetching.deadline import current_deadline

AddrInfo = Sequence[tuple[Any, ...]]
MAX_ADDRESSES_TRIED = 4
_TimeoutClass = type[httpcore.TimeoutException]


def _clamp(timeout: float | None, error: _TimeoutClass, *, reading: bool = False) -> float | None:
    deadline = current_deadline()
    if deadline is None:
        return timeout
    if deadline.remaining() <= 0:
        raise error("total fetch deadline exceeded")
    return deadline.clamp(timeout, reading=reading)


def _read_again(clamped: float | None, timeout: float | None) -> bool:
    """After a read timeout: whether the read was only cut short to check the minimum
    rate (read on), or timed out for real (raise). Raises ``SlowResponse`` if too slow."""
    deadline = current_deadline()
    if deadline is None or clamped is None:
        return False
    deadline.check_rate()
    cut_short = timeout is None or clamped < timeout
    return cut_short and deadline.remaining() > 0


def _received(data: bytes) -> bytes:
    deadline = current_deadline()
    if deadline is not None:
        deadline.received(len(data))
    return data


def permitted_addresses(guard: AddressGuard, host: str, infos: AddrInfo) -> list[str]:
    """The distinct permitted addresses among getaddrinfo results (in order).

    Raises ``PermanentError(BLOCKED_ADDRESS)`` when none is permitted.
    """
    seen: list[str] = []
    refused: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = []
    for info in infos:
        text = str(info[4][0])
        address = ipaddress.ip_address(text.split("%", 1)[0])
        if text in seen or address in refused:
            continue
        if guard.permits(address):
            seen.append(text)
        else:
            refused.append(address)
    if not seen:
        if refused:
            guard.check_address(refused[0], host=host)
        raise httpcore.ConnectError(f"{host} resolved to no address")
    return seen[:MAX_ADDRESSES_TRIED]


class DeadlineStream(httpcore.NetworkStream):
    """A network stream whose operations never outlive the current fetch deadline."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        while True:
            clamped = _clamp(timeout, httpcore.ReadTimeout, reading=True)
            try:
                return _received(self._inner.read(max_bytes, clamped))
            except httpcore.ReadTimeout:
                if not _read_again(clamped, timeout):
                    raise

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _clamp(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        timeout = _clamp(timeout, httpcore.ConnectTimeout)
        return DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class GuardedBackend(httpcore.NetworkBackend):
    """httpcore's sync backend behind the address guard (DNS lookups bounded in time)."""

    def __init__(self, guard: AddressGuard) -> None:
        self.guard = guard
        self._inner = httpcore.SyncBackend()
        self._resolver: ThreadPoolExecutor | None = None

    def _resolve(self, host: str, port: int, timeout: float | None) -> AddrInfo:
        try:
            ipaddress.ip_address(host)
        except ValueError:
            pass
        else:  # numeric: no lookup, no thread
            return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        if self._resolver is None:
            self._resolver = ThreadPoolExecutor(4, thread_name_prefix="newswire-dns")
        future = self._resolver.submit(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
        try:
            return future.result(timeout)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"DNS lookup of {host} timed out") from exc
        except (OSError, UnicodeError) as exc:
            raise httpcore.ConnectError(f"DNS lookup of {host} failed: {exc}") from exc

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        infos = self._resolve(host, port, _clamp(timeout, httpcore.ConnectTimeout))
        failure: Exception | None = None
        for address in permitted_addresses(self.guard, host, infos):
            try:
                stream = self._inner.connect_tcp(
                    address,
                    port,
                    _clamp(timeout, httpcore.ConnectTimeout),
                    local_address,
                    socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
                continue
            return DeadlineStream(stream)
        assert failure is not None
        raise failure

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("unix sockets are not fetched")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    def close(self) -> None:
        if self._resolver is not None:
            self._resolver.shutdown(wait=False, cancel_futures=True)
            self._resolver = None


# --- transports ---------------------------------------------------------------------
def _pool_options(limits: httpx.Limits) -> dict[str, Any]:
    return {
        "max_connections": limits.max_connections,
        "max_keepalive_connections": limits.max_keepalive_connections,
        "keepalive_expiry": limits.keepalive_expiry,
        "http1": True,
        "http2": False,
    }


class GuardedTransport(httpx.HTTPTransport):
    """``httpx.HTTPTransport`` whose connections are opened by :class:`GuardedBackend`."""

    def __init__(self, guard: AddressGuard, *, limits: httpx.Limits) -> None:
        context = httpx.create_ssl_context(trust_env=False)
        super().__init__(verify=context, trust_env=False, limits=limits)
        self.backend = GuardedBackend(guard)
        self._pool = httpcore.ConnectionPool(
            ssl_context=context, network_backend=self.backend, **_pool_options(limits)
        )

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.backend.close()
