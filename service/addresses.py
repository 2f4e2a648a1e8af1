"""The address guard: which IP addresses newswire may open a connection to (pure).

A destination is refused when it is not a public unicast address: loopback, private
(RFC 1918), link-local (incl. the cloud metadata address 169.254.169.254), multicast,
reserved, unspecified, shared (100.64/10), unique-local (fc00::/7), site-local, and anything
``ipaddress`` does not call global. IPv6 forms that carry an IPv4 address (IPv4-mapped
``::ffff:a.b.c.d``, NAT64 ``64:ff9b::/96``, 6to4 ``2002::/16``) are judged by that IPv4
address. Operators open holes with ``allowed_networks`` (CIDRs) or
``allow_private_networks`` (everything).

The guard is applied by the transport to every address a host name resolves to, at connect
time, and to literal IP hosts before a request is sent (so odd spellings such as
``http://2130706433/`` or ``http://0x7f.1/`` are refused without a connection); extraction
uses it on the links it hands on to consumers (``permits_link``: an article's image).
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

from service.errors import PermanentError, Reason

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_SHARED = ipaddress.IPv4Network("100.64.0.0/10")
_METADATA = ipaddress.IPv4Address("169.254.169.254")
_LOOPBACK = ipaddress.IPv4Address("127.0.0.1")
_UNIQUE_LOCAL = ipaddress.IPv6Network("fc00::/7")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
# IANA special-purpose blocks that are not globally reachable but that some Python versions
# still call global (ipaddress' tables changed in 3.12/3.13).
_SPECIAL_PURPOSE = tuple(
    ipaddress.ip_network(n)
    for n in (
        "192.0.0.0/24",
        "192.88.99.0/24",
        "64:ff9b:1::/48",
        "100::/64",
        "2001::/23",
        "2001:db8::/32",
        "3fff::/20",
        "5f00::/16",
    )
)
# Hosts made only of digits, hex digits, 'x' and dots may be BSD-style IPv4 spellings
# (``2130706433``, ``0177.0.0.1``, ``127.1``, ``0x7f.1``) that inet_aton accepts.
_NUMERIC_HOST = re.compile(r"(?:0x[0-9a-f]*|[0-9]+)(?:\.(?:0x[0-9a-f]*|[0-9]+)){0,3}\.?", re.I)


def embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (mapped, NAT64, 6to4), if any."""
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address.sixtofour


def _special_kind(address: IPAddress) -> str | None:
    if address.is_unspecified:
        return "unspecified"
    if address.is_loopback:
        return "loopback"
    if address == _METADATA:
        return "link-local (cloud metadata)"
    if address.is_link_local:
        return "link-local"
    if address.is_multicast:
        return "multicast"
    if isinstance(address, ipaddress.IPv6Address):
        if address.is_site_local:
            return "site-local"
        if address in _UNIQUE_LOCAL:
            return "unique-local"
    elif address in _SHARED:
        return "shared address space"
    return None


def classify(address: IPAddress) -> str | None:
    """Why ``address`` is not a public unicast destination; ``None`` when it is one."""
    inner = embedded_ipv4(address)
    if inner is not None:
        kind = classify(inner)
        return f"{kind} (as {address})" if kind else None
    kind = _special_kind(address)
    if kind:
        return kind
    if address.is_private:
        return "private"
    if address.is_reserved or any(
        address in net for net in _SPECIAL_PURPOSE if net.version == address.version
    ):
        return "reserved"
    if not address.is_global:
        return "not global"
    return None


def ip_literal(host: str) -> IPAddress | None:
    """The address a URL host spells literally (any IPv4 spelling inet_aton accepts)."""
    host = host.strip("[]")
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        pass
    if not _NUMERIC_HOST.fullmatch(host):
        return None
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host.rstrip(".")))
    except OSError:
        return None


class AddressGuard:
    """Decides whether a connection to an address is allowed (see the module docstring)."""

    def __init__(
        self, *, allowed_networks: Iterable[IPNetwork | str] = (), allow_private: bool = False
    ) -> None:
        self.allowed_networks = tuple(ipaddress.ip_network(n) for n in allowed_networks)
        self.allow_private = allow_private

    def _allowed(self, address: IPAddress) -> bool:
        inner = embedded_ipv4(address)
        return any(
            candidate in network
            for network in self.allowed_networks
            for candidate in (address, inner)
            if candidate is not None and candidate.version == network.version
        )

    def refusal(self, address: IPAddress) -> str | None:
        """Why a connection to ``address`` is refused; ``None`` when it is permitted."""
        if self.allow_private or self._allowed(address):
            return None
        return classify(address)

    def permits(self, address: IPAddress) -> bool:
        return self.refusal(address) is None

    def check_address(self, address: IPAddress, *, host: str) -> None:
        """Raise ``PermanentError(BLOCKED_ADDRESS)`` unless ``address`` is permitted."""
        why = self.refusal(address)
        if why is not None:
            where = str(address) if host.strip("[]") == str(address) else f"{host} ({address})"
            raise PermanentError(f"{where}: {why} address refused", reason=Reason.BLOCKED_ADDRESS)

    def permits_link(self, url: str) -> bool:
        """Whether a link may be handed on (an article's image, say) without DNS: refused
        when its host is ``localhost`` or a literal address, in any spelling, the guard does
        not permit. Names are not resolved here; the fetcher checks those at connect time."""
        try:
            host = (urlsplit(url).hostname or "").rstrip(".").lower()
        except ValueError:
            return False
        if host == "localhost" or host.endswith(".localhost"):
            return self.permits(_LOOPBACK)
        address = ip_literal(host)
        return address is None or self.permits(address)

    def check_host(self, host: str) -> None:
        """Refuse a host that is a literal IP address the guard does not permit."""
        address = ip_literal(host)
        if address is not None:
            self.check_address(address, host=host)


PUBLIC_ONLY = AddressGuard()  # the default policy: private, loopback, link-local ... refused
