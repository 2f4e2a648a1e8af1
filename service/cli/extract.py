"""``newswire extract URL|FILE ...``: fetch → extract → structure once, no Redis, JSON Lines."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import click
import orjson

from service.cli.common import load_settings, warn
from service.errors import IngestError, PermanentError, Reason
from service.fetching import Fetcher, detect_encoding
from service.models import Article, FetchedPage
from service.pipeline import extract_page, fetch_and_extract
from service.settings import Settings
from service.urls import is_http_url


def read_local(source: str, page_url: str | None, settings: Settings) -> FetchedPage:
    """A saved page (path, ``-`` for stdin, ``.gz`` accepted) as a FetchedPage."""
    import gzip

    raw = sys.stdin.buffer.read(settings.max_page_bytes + 1) if source == "-" else None
    if raw is None:
        with Path(source).open("rb") as handle:
            raw = handle.read(settings.max_page_bytes + 1)
        if source.endswith(".gz"):
            with gzip.open(source, "rb") as handle:
                raw = handle.read(settings.max_page_bytes + 1)
    if len(raw) > settings.max_page_bytes:
        raise PermanentError(
            f"{source} is over {settings.max_page_bytes} bytes", reason=Reason.TOO_LARGE
        )
    url = page_url or _declared_url(raw)
    if not url:
        raise PermanentError(
            f"{source}: no canonical URL in the page; pass --url", reason=Reason.BAD_URL
        )
    return FetchedPage(
        requested_url=url,
        url=url,
        content=raw,
        content_type="text/html",
        encoding=detect_encoding(raw, None, kind="page"),
        fetched_at=datetime.now(UTC),
    )


def _declared_url(raw: bytes) -> str | None:
    from lxml import html

    try:
        tree = html.fromstring(raw[:500_000])
    except (ValueError, TypeError, html.etree.ParserError):
        return None
    for value in tree.xpath('//link[@rel="canonical"]/@href | //meta[@property="og:url"]/@content'):
        if is_http_url(str(value).strip()):
            return str(value).strip()
    return None


def extract_one(source: str, page_url: str | None, fetcher: Fetcher, settings: Settings) -> Article:
    if is_http_url(source):
        return fetch_and_extract(fetcher, source, None, settings)
    if source != "-" and not Path(source).is_file():
        raise PermanentError(f"{source}: neither an http(s) URL nor a file", reason=Reason.BAD_URL)
    page = read_local(source, page_url, settings)
    return extract_page(page, None, settings)


@click.command()
@click.argument("sources", nargs=-1, required=True)
@click.option("--url", "page_url", help="The page's URL, when reading one file or stdin (-).")
@click.option("--pretty", is_flag=True, help="Indent the JSON (one document per input).")
def extract(sources: tuple[str, ...], page_url: str | None, pretty: bool) -> None:
    """Run fetch → extract → structure on URLs or saved pages; print one Article JSON a line.

    A failure prints `source: reason: detail` to stderr; the other inputs still go through
    and the exit status is 1.
    """
    settings = load_settings()
    if page_url and len(sources) > 1:
        raise click.UsageError("--url applies to a single file or stdin")
    failed = 0
    option = orjson.OPT_INDENT_2 if pretty else 0
    with Fetcher(settings) as fetcher:
        for source in sources:
            try:
                article = extract_one(source, page_url, fetcher, settings)
            except IngestError as exc:
                failed += 1
                warn(f"{source}: {exc.reason.value}: {exc.detail}")
                continue
            click.echo(orjson.dumps(article.model_dump(mode="json"), option=option).decode())
    if failed:
        raise SystemExit(1)
