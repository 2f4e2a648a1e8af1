"""WebSub's pure parts: X-Hub-Signature verification, hub and topic discovery."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from service.websub.links import Hub, find_hub
from service.websub.signature import ALGORITHMS, sign, verify

BODY = b"<rss version='2.0'><channel><title>t</title></channel></rss>"
SECRET = "s3cret-value"


@pytest.mark.parametrize("method", ALGORITHMS)
def test_every_method_of_the_spec_verifies(method: str) -> None:
    digest = hmac.new(SECRET.encode(), BODY, getattr(hashlib, method)).hexdigest()
    assert sign(SECRET, BODY, method) == f"{method}={digest}"
    assert verify(f"{method}={digest}", SECRET, BODY)
    assert verify(f"{method.upper()}={digest.upper()}", SECRET, BODY)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "sha256",
        "sha256=",
        "md5=" + hashlib.md5(BODY).hexdigest(),
        "sha256=" + "0" * 64,
        sign("another-secret", BODY),
        sign(SECRET, BODY + b" "),
        "sha256=" + "a" * 10_000,
    ],
)
def test_anything_else_does_not_verify(header: str | None) -> None:
    assert not verify(header, SECRET, BODY)


def test_an_empty_secret_never_verifies() -> None:
    assert not verify(sign("x", BODY), "", BODY)


ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>t</title>
  <link rel="hub" href="https://hub.example/"/>
  <link rel="self" href="https://pub.example/atom.xml"/>
  <entry><title>x</title></entry>
</feed>"""
RSS = b"""<?xml version="1.0"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel><title>t</title>
<atom:link rel="self" href="/rss.xml"/>
<atom:link rel="hub" href="https://pubsubhubbub.example/"/>
<link>https://pub.example/</link>
</channel></rss>"""


def test_hub_and_topic_from_atom_links() -> None:
    assert find_hub(ATOM, None, url="https://pub.example/feed") == Hub(
        "https://hub.example/", "https://pub.example/atom.xml"
    )


def test_hub_and_topic_from_rss_atom_links_resolved() -> None:
    assert find_hub(RSS, None, url="https://pub.example/feed") == Hub(
        "https://pubsubhubbub.example/", "https://pub.example/rss.xml"
    )


def test_link_header_comes_first() -> None:
    header = '<https://h2.example/>; rel="hub", <https://pub.example/t>; rel="self"'
    assert find_hub(ATOM, header, url="https://pub.example/feed") == Hub(
        "https://h2.example/", "https://pub.example/t"
    )
    assert find_hub(b"<rss/>", "<https://h3.example/>; rel=hub", url="https://p.example/f") == Hub(
        "https://h3.example/", "https://p.example/f"
    )


def test_no_hub_no_subscription() -> None:
    assert find_hub(b"<rss version='2.0'><channel/></rss>", None, url="https://p.example/") is None
    entity = b'<!DOCTYPE f [<!ENTITY a "b">]><feed><link rel="hub" href="https://h/"/></feed>'
    assert find_hub(entity, None, url="https://p.example/") is None  # refused, not read
