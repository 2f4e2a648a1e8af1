"""The address guard, over many addresses and spellings (pure, no network)."""

from __future__ import annotations

import ipaddress
import socket

import pytest

from service.addresses import AddressGuard, classify, embedded_ipv4, ip_literal
from service.errors import PermanentError, Reason
from service.fetching.requests import Redirects, check_url
from service.fetching.transport import permitted_addresses

DEFAULT = AddressGuard()

BLOCKED = [
    # IPv4 special ranges
    ("127.0.0.1", "loopback"),
    ("127.255.255.254", "loopback"),
    ("10.0.0.1", "private"),
    ("172.16.0.1", "private"),
    ("172.31.255.255", "private"),
    ("192.168.1.1", "private"),
    ("169.254.169.254", "link-local (cloud metadata)"),
    ("169.254.0.1", "link-local"),
    ("100.64.0.1", "shared address space"),
    ("100.127.255.254", "shared address space"),
    ("0.0.0.0", "unspecified"),
    ("0.1.2.3", "private"),
    ("224.0.0.1", "multicast"),
    ("239.255.255.250", "multicast"),
    ("240.0.0.1", "private"),
    ("255.255.255.255", "private"),
    ("192.0.0.8", "reserved"),
    ("192.0.2.1", "private"),
    ("198.18.0.1", "private"),
    ("198.51.100.7", "private"),
    ("203.0.113.9", "private"),
    # IPv6 special ranges
    ("::1", "loopback"),
    ("::", "unspecified"),
    ("fe80::1", "link-local"),
    ("fe80::1%eth0", "link-local"),
    ("fc00::1", "unique-local"),
    ("fd12:3456::1", "unique-local"),
    ("fec0::1", "site-local"),
    ("ff02::1", "multicast"),
    ("ff0e::1", "multicast"),
    ("2001:db8::1", "private"),
    ("2001::1", "private"),
    ("100::1", "private"),
    ("3fff::1", "reserved"),
    ("5f00::1", "reserved"),
    ("192.88.99.1", "reserved"),
    ("::7f00:1", "reserved"),
    ("64:ff9b:1::a00:1", "reserved"),
    # IPv6 forms of blocked IPv4 addresses
    ("::ffff:127.0.0.1", "loopback (as ::ffff:7f00:1)"),
    ("::ffff:7f00:1", "loopback (as ::ffff:7f00:1)"),
    ("::ffff:169.254.169.254", "link-local (cloud metadata) (as ::ffff:a9fe:a9fe)"),
    ("::ffff:10.1.2.3", "private (as ::ffff:a01:203)"),
    ("64:ff9b::7f00:1", "loopback (as 64:ff9b::7f00:1)"),
    ("64:ff9b::a9fe:a9fe", "link-local (cloud metadata) (as 64:ff9b::a9fe:a9fe)"),
    ("2002:7f00:1::", "loopback (as 2002:7f00:1::)"),
    ("2002:a9fe:a9fe::1", "link-local (cloud metadata) (as 2002:a9fe:a9fe::1)"),
    ("2002:c0a8:101::", "private (as 2002:c0a8:101::)"),
]

PUBLIC = [
    "93.184.216.34",
    "8.8.8.8",
    "1.1.1.1",
    "151.101.1.69",
    "100.63.255.255",
    "100.128.0.1",
    "2606:4700::6810:85e5",
    "2a00:1450:4001:80b::200e",
    "::ffff:8.8.8.8",
    "64:ff9b::808:808",
    "2002:808:808::1",
]


@pytest.mark.parametrize(("text", "kind"), BLOCKED)
def test_blocked_addresses_are_classified(text: str, kind: str) -> None:
    address = ipaddress.ip_address(text)
    assert classify(address) == kind
    assert not DEFAULT.permits(address)
    with pytest.raises(PermanentError) as info:
        DEFAULT.check_address(address, host="example.test")
    assert info.value.reason is Reason.BLOCKED_ADDRESS
    assert kind.split(" (as")[0] in info.value.detail


@pytest.mark.parametrize("text", PUBLIC)
def test_public_addresses_pass(text: str) -> None:
    address = ipaddress.ip_address(text)
    assert classify(address) is None
    assert DEFAULT.permits(address)
    DEFAULT.check_address(address, host="example.test")


@pytest.mark.parametrize(
    ("text", "inner"),
    [
        ("::ffff:1.2.3.4", "1.2.3.4"),
        ("64:ff9b::102:304", "1.2.3.4"),
        ("2002:102:304::5", "1.2.3.4"),
        ("2606:4700::1", None),
        ("1.2.3.4", None),
    ],
)
def test_embedded_ipv4(text: str, inner: str | None) -> None:
    found = embedded_ipv4(ipaddress.ip_address(text))
    assert (str(found) if found else None) == inner


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("0x7F.0.0.1", "127.0.0.1"),
        ("127.0.0.1.", "127.0.0.1"),
        ("017700000001", "127.0.0.1"),
        ("2852039166", "169.254.169.254"),
        ("0xa9.0xfe.0xa9.0xfe", "169.254.169.254"),
        ("012.1", "10.0.0.1"),
        ("0", "0.0.0.0"),
        ("[::ffff:7f00:1]", "::ffff:7f00:1"),
        ("::1", "::1"),
        ("[::1]", "::1"),
        ("fe80::1%25eth0", "fe80::1"),
    ],
)
def test_odd_spellings_are_read_as_addresses(host: str, address: str) -> None:
    found = ip_literal(host)
    assert found is not None
    assert str(found) == address
    with pytest.raises(PermanentError) as info:
        DEFAULT.check_host(host)
    assert info.value.reason is Reason.BLOCKED_ADDRESS


@pytest.mark.parametrize(
    "host",
    ["example.com", "1e100.net", "123.example", "0xdeadbeef.com", "localhost", "a.b.c.d", "x" * 63],
)
def test_names_are_not_literals(host: str) -> None:
    assert ip_literal(host) is None
    DEFAULT.check_host(host)  # a name is judged at connect time, on what it resolves to


@pytest.mark.parametrize("spelling", ["2130706433", "0177.0.0.1", "127.1", "0x7f.1"])
def test_odd_spellings_agree_with_the_resolver(spelling: str) -> None:
    """What inet_aton reads is what getaddrinfo (numeric, no DNS) connects to."""
    infos = socket.getaddrinfo(spelling, 80, type=socket.SOCK_STREAM)
    assert {info[4][0] for info in infos} == {str(ip_literal(spelling))}


@pytest.mark.parametrize(
    "url",
    [
        "http://2130706433/",
        "http://0177.0.0.1/",
        "http://127.1/",
        "http://0x7f.1/",
        "http://[::ffff:7f00:1]/",
        "http://[::1]:8080/x",
        "https://169.254.169.254/latest/meta-data",
        "http://0xa9fea9fe/",
        "http://[64:ff9b::a9fe:a9fe]/",
        "http://[2002:a9fe:a9fe::]/",
        "http://user:pass@10.0.0.1/",
        "http://100.64.1.1/",
        "http://[fd00::1]/",
    ],
)
def test_urls_with_blocked_literal_hosts(url: str) -> None:
    with pytest.raises(PermanentError) as info:
        check_url(url, DEFAULT)
    assert info.value.reason is Reason.BLOCKED_ADDRESS


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "file:///etc/passwd",
        "ftp://example.com/",
        "gopher://x/",
        "data:text/html,hi",
        "//example.com/",
        "/relative",
        "http://",
        "http:///path",
        "http://exa mple.com/",
        "http://example.com/\x00",
        "http://[::1/",
        "http://example.com:99999/",
        "http://example.com/" + "a" * 5000,
    ],
)
def test_bad_urls(url: str) -> None:
    with pytest.raises(PermanentError) as info:
        check_url(url, DEFAULT)
    assert info.value.reason is Reason.BAD_URL


def test_check_url_drops_the_fragment() -> None:
    assert check_url("https://example.com/a?b=1#frag", DEFAULT) == "https://example.com/a?b=1"


def test_allow_list_opens_only_its_networks() -> None:
    guard = AddressGuard(
        allowed_networks=[
            ipaddress.ip_network("127.0.0.0/8"),
            ipaddress.ip_network("10.1.0.0/16"),
            ipaddress.ip_network("fd00:1::/32"),
        ]
    )
    for text in [
        "127.0.0.1",
        "127.9.9.9",
        "10.1.2.3",
        "::ffff:127.0.0.1",
        "64:ff9b::a01:203",
        "fd00:1::5",
        "8.8.8.8",
    ]:
        assert guard.permits(ipaddress.ip_address(text)), text
    for text in [
        "10.2.0.1",
        "169.254.169.254",
        "::1",
        "192.168.0.1",
        "fd00:2::1",
        "::ffff:169.254.169.254",
    ]:
        assert not guard.permits(ipaddress.ip_address(text)), text
    guard.check_host("0177.0.0.1")
    with pytest.raises(PermanentError):
        guard.check_host("0xa9fea9fe")


def test_allow_private_networks_opens_everything() -> None:
    guard = AddressGuard(allow_private=True)
    for text, _ in BLOCKED:
        assert guard.permits(ipaddress.ip_address(text)), text
    guard.check_host("2130706433")


def _infos(*addresses: str) -> list[tuple[object, ...]]:
    return [
        (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, 80))
        for a in addresses
    ]


def test_resolved_addresses_are_filtered() -> None:
    """A name resolving to public and private addresses is only connected to publicly."""
    infos = _infos("127.0.0.1", "93.184.216.34", "10.0.0.1", "93.184.216.34", "2606:4700::1")
    assert permitted_addresses(DEFAULT, "mixed.test", infos) == ["93.184.216.34", "2606:4700::1"]


def test_a_name_resolving_only_to_blocked_addresses_is_refused() -> None:
    with pytest.raises(PermanentError) as info:
        permitted_addresses(DEFAULT, "rebind.test", _infos("169.254.169.254", "::1"))
    assert info.value.reason is Reason.BLOCKED_ADDRESS
    assert "rebind.test (169.254.169.254)" in info.value.detail


def test_localhost_resolves_to_the_allowed_family_only() -> None:
    guard = AddressGuard(allowed_networks=[ipaddress.ip_network("127.0.0.0/8")])
    assert permitted_addresses(guard, "localhost", _infos("::1", "127.0.0.1")) == ["127.0.0.1"]


def test_redirect_chain_rules() -> None:
    chain = Redirects("http://a.test/", max_redirects=2)
    assert chain.follow("/b", 302, DEFAULT) == "http://a.test/b"
    assert chain.follow("https://c.test/x y#f", 301, DEFAULT) == "https://c.test/x%20y"
    assert chain.current == "https://c.test/x%20y"
    with pytest.raises(PermanentError) as info:
        chain.follow("/d", 302, DEFAULT)
    assert info.value.reason is Reason.TOO_MANY_REDIRECTS
    loop = Redirects("http://a.test/", max_redirects=5)
    loop.follow("/b", 302, DEFAULT)
    with pytest.raises(PermanentError) as info:
        loop.follow("http://a.test/", 302, DEFAULT)
    assert info.value.reason is Reason.TOO_MANY_REDIRECTS
    for location, reason in [
        ("javascript:alert(1)", Reason.BAD_URL),
        ("http://[::1]/", Reason.BLOCKED_ADDRESS),
        (None, Reason.HTTP_STATUS),
    ]:
        with pytest.raises(PermanentError) as info:
            Redirects("http://a.test/", 5).follow(location, 302, DEFAULT)
        assert info.value.reason is reason


@pytest.mark.parametrize(
    ("url", "default", "with_loopback"),
    [
        ("https://cdn.example.org/a.jpg", True, True),
        ("https://internal.corp/a.jpg", True, True),  # names are not resolved here
        ("http://127.0.0.1/a.jpg", False, True),
        ("http://2130706433/a.jpg", False, True),
        ("http://0x7f.1/a.jpg", False, True),
        ("http://localhost:8080/a.jpg", False, True),
        ("http://img.LOCALHOST./a.jpg", False, True),
        ("http://[::1]/a.jpg", False, False),  # ::1 is not in 127.0.0.0/8
        ("http://10.0.0.1/a.jpg", False, False),
        ("http://169.254.169.254/latest/", False, False),
        ("http://[::ffff:169.254.169.254]/", False, False),
        ("http://[fd00::1]/a.jpg", False, False),
        ("http://93.184.216.34/a.jpg", True, True),
        ("http://[2606:4700::1111]/a.jpg", True, True),
        ("http://[::1/", False, False),  # unparseable
    ],
)
def test_permits_link(url: str, default: bool, with_loopback: bool) -> None:
    assert AddressGuard().permits_link(url) is default
    assert AddressGuard(allowed_networks=["127.0.0.0/8"]).permits_link(url) is with_loopback
    assert AddressGuard(allow_private=True).permits_link(url) is (url != "http://[::1/")
