"""``newswire submit URL…|-``: article URLs enqueued without a feed (backfills, other systems).

The tasks are the poller's (``newswire.fetch_article`` with no feed entry), so the same
pipeline, deduplication and dead letters apply; the Article's ``feed`` is ``null``.
"""

from __future__ import annotations

import sys

import click

from service.cli.common import connect, load_settings, warn
from service.queue import Enqueuer
from service.sources import record_enqueued
from service.urls import is_http_url


def read_urls(urls: tuple[str, ...]) -> list[str]:
    """The arguments, or with ``-`` the lines of stdin (blank and ``#`` lines skipped)."""
    if urls != ("-",):
        return list(urls)
    lines = (line.strip() for line in sys.stdin)
    return [line for line in lines if line and not line.startswith("#")]


@click.command()
@click.argument("urls", nargs=-1, required=True)
def submit(urls: tuple[str, ...]) -> None:
    """Enqueue article URLs (or `-`: one URL a line on stdin) for fetch and extraction.

    Exits 0 once every URL is enqueued; a URL that fails later becomes a dead letter with
    its reason. A malformed URL is refused at once (the others are still enqueued) and the
    exit status is 1.
    """
    settings = load_settings()
    wanted = read_urls(urls)
    bad = [url for url in wanted if not is_http_url(url)]
    for url in bad:
        warn(f"refused (not an http(s) URL): {url[:200]}")
    good = list(dict.fromkeys(url for url in wanted if is_http_url(url)))
    client = connect(settings)
    enqueuer = Enqueuer(settings)
    try:
        for url in good:
            enqueuer.enqueue(url, "", None)
    finally:
        enqueuer.close()
    record_enqueued(client, settings.key_prefix, "submitted", len(good))
    click.echo(f"submitted {len(good)}, refused {len(bad)}")
    if bad:
        raise SystemExit(1)
