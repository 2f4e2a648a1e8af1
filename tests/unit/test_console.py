"""The live view of ``newswire run``: plain-word causes of feed failures, and the lines drawn."""

from __future__ import annotations

import pytest

from service.console import (
    FeedHealth,
    Header,
    Snapshot,
    describe_error,
    feed_warnings,
    oldest_within,
    render,
)

HEADER = Header(redis="127.0.0.1:6379/0 (embedded)", logs=".newswire/logs/{poller,worker}.log")


@pytest.mark.parametrize(
    ("error", "cause"),
    [
        (
            "connection_error: https://x.example/feed: ConnectError: [Errno -2] Name or "
            "service not known",
            "DNS lookup failed",
        ),
        (
            "connection_error: https://x.example/feed: ConnectError: [Errno -3] Temporary "
            "failure in name resolution",
            "DNS lookup failed",
        ),
        ("connection_error: http://x/: ConnectError: [Errno 111] Connection refused", "refused"),
        ("connection_error: http://x/: ConnectError: [SSL: CERTIFICATE_VERIFY_FAILED]", "TLS"),
        ("timeout: http://x/: not done within the 20 s fetch deadline", "timed out"),
        ("http_status: http://x/feed: HTTP 404", "gone"),
        ("http_status: http://x/feed: HTTP 403", "access denied"),
        ("http_status: http://x/feed: HTTP 503", "server error"),
        ("blocked_address: 10.0.0.1 is a private address", "private or loopback"),
        ("not_a_feed: http://x/: text/html and the body is no feed", "no feed"),
    ],
)
def test_errors_are_described_in_plain_words(error: str, cause: str) -> None:
    described, hint = describe_error(error)
    assert cause in described
    assert hint


def test_an_unknown_reason_is_shown_by_its_code() -> None:
    assert describe_error("internal_error: boom") == ("internal error", "see the poller log")


def test_failures_are_grouped_by_cause_most_frequent_first() -> None:
    dns = "connection_error: u: ConnectError: [Errno -2] Name or service not known"
    failing = [FeedHealth(f"https://s{i}.example/f", 2, dns) for i in range(9)]
    failing.append(FeedHealth("https://t.example/f", 1, "timeout: t: deadline"))
    failing.append(FeedHealth("https://ok.example/f", 0, "timeout: an old error"))
    assert feed_warnings(failing) == [
        "9 feeds failed: DNS lookup failed — is the network reachable?",
        "1 feed failed: timed out — the site is slow or unreachable",
    ]


def test_the_view_shows_counts_rates_dead_letters_and_warnings() -> None:
    old = Snapshot(at=100.0, published=10)
    new = Snapshot(
        at=130.0,
        feeds=12,
        feeds_due=3,
        feeds_polled=11,
        failing=(FeedHealth("https://a.example/f", 3, "http_status: a: HTTP 404"),),
        published=31,
        duplicates=4,
        dead_by_reason={"http_status": 2, "extraction_empty": 1},
        queue_depth=7,
    )
    lines = render(
        Header(HEADER.redis, HEADER.logs, "poller running · worker running"),
        new,
        old,
        uptime=133,
    )
    assert lines == [
        "newswire · Redis 127.0.0.1:6379/0 (embedded) · up 2m13s",
        "feeds      12 registered · 3 due · 11 polled · 1 failing",
        "articles   31 published · 42.0/min · 4 duplicates",
        "queue      7 tasks waiting",
        "dead       3 letters: extraction_empty 1, http_status 2",
        "processes  poller running · worker running",
        "logs       .newswire/logs/{poller,worker}.log",
        "! 1 feed failed: the feed is gone (404/410) — check its URL",
    ]


def test_without_history_or_duplicate_counts_the_view_says_less() -> None:
    lines = render(HEADER, Snapshot(at=5.0, feeds=1, queue_depth=1), None, uptime=5)
    assert "articles   0 published · -" in lines
    assert "queue      1 task waiting" in lines
    assert "dead       0 letters" in lines


def test_redis_down_is_said_plainly() -> None:
    lines = render(HEADER, Snapshot(at=1.0, redis_ok=False), None, uptime=1)
    assert lines[-1].startswith("! Redis is not answering at 127.0.0.1:6379/0")


def test_rates_use_the_oldest_snapshot_inside_the_window() -> None:
    history = [Snapshot(at=t) for t in (0.0, 30.0, 70.0, 100.0)]
    assert oldest_within(history, 60.0) == history[2]
    assert oldest_within(history[-1:], 60.0) == history[-1]
    assert oldest_within([], 60.0) is None
