"""Property: any bytes (random, or a real feed mutated) give a ParsedFeed or a PermanentError
with a documented reason — never another exception, never ``INTERNAL``, in bounded time."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.errors import PermanentError, Reason
from service.feeds import parse_feed
from tests.conftest import corpus_dir
from tests.support.mutation import mutated
from tests.unit.test_feeds_corpus import check_feed

URL = "https://feeds.example.com/feed"
EXPECTED = {Reason.NOT_A_FEED, Reason.PARSE_ERROR, Reason.HOSTILE_CONTENT, Reason.TOO_LARGE}
# Small real feeds of every kind (mutating the big ones would only make the run slower).
SEEDS = sorted(
    (p.read_bytes() for p in corpus_dir("feeds").iterdir() if p.suffix != ".tsv"),
    key=len,
)[:40]
SAMPLES = [p.read_bytes() for p in (Path(__file__).parent.parent / "data" / "feeds").iterdir()]
PROFILE = settings(
    max_examples=150,
    deadline=2000,  # ms per example: generous, the point is "bounded", not "fast"
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def check(content: bytes, **kwargs: int) -> None:
    try:
        feed = parse_feed(content, url=URL, **kwargs)
    except PermanentError as exc:
        reason = exc.reason
    else:
        check_feed(feed, url=URL)
        return
    assert reason in EXPECTED


@PROFILE
@given(st.binary(max_size=4096))
def test_arbitrary_bytes(content: bytes) -> None:
    check(content)


@PROFILE
@given(
    st.sampled_from(["<?xml version='1.0'?>", "", "\ufeff", "{"]),
    st.sampled_from(["rss", "feed", "rdf:RDF", "channel", "item", "entry", "html", '"items"']),
    st.text(max_size=300),
)
def test_feedish_text(prefix: str, tag: str, body: str) -> None:
    check(f"{prefix}<{tag}>{body}</{tag}>".encode("utf-8", "surrogatepass"))


FEED_INSERTS = [b"<", b"&", b"]]>", b"\x00", b"\xff", b"<!--", b"</item>"]


@PROFILE
@given(mutated(SEEDS + SAMPLES, FEED_INSERTS), st.integers(0, 50))
def test_mutated_real_feeds(content: bytes, max_items: int) -> None:
    check(content, max_items=max_items)
