"""Pure parts of the fetch and task policies: redirects that downgrade to http, the size
caps, task arguments read defensively."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from service.addresses import AddressGuard
from service.caps import cap_html, cap_text, capped_entry
from service.errors import PermanentError, Reason, TransientError
from service.extraction import extract_article
from service.extraction.text import word_count
from service.fetching.deadline import Deadline, SlowResponse
from service.fetching.requests import Redirects
from service.fetching.robots import origin_of, verdict_of_error
from service.models import FeedEntry, FetchedPage
from workers.payload import read_task

GUARD = AddressGuard()


@pytest.mark.parametrize(
    ("start", "location"),
    [
        ("https://news.example/a", "http://news.example/a"),
        ("https://news.example/a", "HTTP://cdn.example/b"),
        ("https://news.example/a", "//other.example/c"),  # no: inherits https (allowed)
    ],
)
def test_https_to_http_redirect_is_refused(start: str, location: str) -> None:
    redirects = Redirects(start, 5)
    if location.startswith("//"):
        assert redirects.follow(location, 301, GUARD) == "https://other.example/c"
        return
    with pytest.raises(PermanentError) as caught:
        redirects.follow(location, 301, GUARD)
    assert caught.value.reason == Reason.INSECURE_REDIRECT


def test_insecure_redirect_followed_when_allowed_and_http_to_https_always() -> None:
    allowed = Redirects("https://news.example/a", 5, allow_insecure=True)
    assert allowed.follow("http://news.example/b", 302, GUARD) == "http://news.example/b"
    upgrade = Redirects("http://news.example/a", 5)
    assert upgrade.follow("https://news.example/a", 301, GUARD) == "https://news.example/a"
    # A later hop of the chain is judged on its own scheme: http -> http is fine.
    assert Redirects("http://a.example/", 5).follow("http://b.example/", 301, GUARD)


def test_cap_text_cuts_at_a_paragraph() -> None:
    text = "\n\n".join(f"Paragraph {i} " + " ".join(["word"] * 30) for i in range(100))
    capped = cap_text(text, 1000)
    assert len(capped) <= 1000
    assert text.startswith(capped)
    assert text[len(capped) : len(capped) + 2] == "\n\n"
    assert cap_text("short", 1000) == "short"


def test_cap_html_never_cuts_inside_a_tag() -> None:
    html = "".join(f'<p class="c">para {i}</p>' for i in range(1000))
    capped = cap_html(html, 5003)
    assert len(capped) <= 5003
    assert html.startswith(capped)
    assert html[len(capped)] == "<"


def test_capped_entry_only_touches_long_content() -> None:
    entry = FeedEntry(feed_url="https://f.example/", entry_id="1", content_html="<p>x</p>" * 500)
    assert len(capped_entry(entry, 1000).content_html or "") <= 1000
    assert capped_entry(entry, 10_000) is entry


@pytest.mark.parametrize(
    ("args", "unknown", "why"),
    [
        ((None, None, None), {}, "url must be"),
        ((42, None, None), {}, "url must be"),
        (("https://a.example/", 7, None), {}, "feed_url must be"),
        (("https://a.example/", None, ["x"]), {}, "entry must be"),
        (("https://a.example/", None, {"entry_id": "1"}), {}, "feed_url: Field required"),
        (("https://a.example/", None, None), {"priority": 1}, "unknown task arguments"),
    ],
)
def test_bad_task_arguments(
    args: tuple[object, object, object], unknown: dict[str, object], why: str
) -> None:
    with pytest.raises(PermanentError) as caught:
        read_task(*args, unknown, max_content_chars=1000)
    assert caught.value.reason == Reason.BAD_TASK
    assert why in caught.value.detail


def test_good_task_arguments_capped() -> None:
    entry = {"feed_url": "https://f.example/", "entry_id": "1", "content_html": "<p>x</p>" * 500}
    task = read_task("https://a.example/", "https://f.example/", entry, {}, max_content_chars=1000)
    assert task.entry is not None
    assert len(task.entry.content_html or "") <= 1000


def test_minimum_rate_counts_from_the_first_byte() -> None:
    now = [0.0]
    deadline = Deadline(20, min_rate=100, grace=2, clock=lambda: now[0])
    now[0] = 10.0  # think time before the first byte: not counted
    deadline.received(50)
    now[0] = 11.9
    deadline.check_rate()  # within the grace
    assert deadline.clamp(None, reading=True) == pytest.approx(0.1)  # read until the check
    now[0] = 12.1
    with pytest.raises(SlowResponse):
        deadline.check_rate()  # 50 bytes in 2.1 s < 100 bytes/s
    deadline.start_response()  # a redirect hop: measured afresh
    deadline.check_rate()


def test_robots_origin_and_error_meaning() -> None:
    assert origin_of("HTTPS://User@News.Example:8443/a?b") == "https://news.example:8443"
    gone = PermanentError("HTTP 404", reason=Reason.HTTP_STATUS)
    assert verdict_of_error(gone).state == "allow"
    loop = PermanentError("loop", reason=Reason.TOO_MANY_REDIRECTS)
    assert verdict_of_error(loop).state == "allow"
    down = TransientError("HTTP 503", reason=Reason.HTTP_STATUS)
    assert verdict_of_error(down).state == "unreachable"
    big = PermanentError("too big", reason=Reason.TOO_LARGE)
    assert verdict_of_error(big).state == "unreachable"


def test_article_text_is_capped_and_counted_after_the_cut() -> None:
    paragraphs = "".join(
        f"<p>Paragraph {i} of the long report, with enough words to count as body text.</p>"
        for i in range(400)
    )
    html = (
        f"<html><head><title>Long</title></head><body><article>{paragraphs}</article></body></html>"
    )
    page = FetchedPage(
        requested_url="https://news.example/long",
        url="https://news.example/long",
        status=200,
        content=html.encode(),
        content_type="text/html; charset=utf-8",
        encoding="utf-8",
        fetched_at=datetime(2026, 12, 1, tzinfo=UTC),
    )
    whole = extract_article(page, min_text_chars=50)
    capped = extract_article(page, min_text_chars=50, max_text_chars=2000)
    assert len(whole.text) > 20_000
    assert len(capped.text) <= 2000
    assert whole.text.startswith(capped.text)
    assert capped.word_count == word_count(capped.text)
    assert capped.content_hash != whole.content_hash
