"""``newswire feeds add | import | export | list | remove``: the feed registry."""

from __future__ import annotations

import time
from pathlib import Path

import click

from service.cli.common import connect, load_settings, warn
from service.cli.discover import Found, inspect_url
from service.errors import IngestError
from service.fetching import Fetcher
from service.opml import read_feed_list, render_opml
from service.registry import Registry, feed_id
from service.urls import is_http_url
from service.websub.removal import unsubscribe


def _registry() -> Registry:
    settings = load_settings()
    return Registry(connect(settings), settings)


def add_feeds(registry: Registry, feeds: list[tuple[str, str | None]]) -> tuple[int, int]:
    """Register feeds; returns (added, already registered). Invalid URLs are reported."""
    added = known = 0
    for url, title in feeds:
        if not is_http_url(url):
            warn(f"skipped (not an http(s) URL): {url}")
            continue
        if registry.add(url, title, now=time.time()):
            added += 1
        else:
            known += 1
    return added, known


@click.group()
def feeds() -> None:
    """Manage the feed registry (works whether or not a poller is running)."""


@feeds.command("add")
@click.argument("urls", nargs=-1, required=True)
@click.option(
    "--as-is", is_flag=True, help="Register the URLs without fetching them (no discovery)."
)
def add(urls: tuple[str, ...], as_is: bool) -> None:
    """Register feed or sitemap URLs; a web page registers the feeds it advertises.

    Each URL is fetched first (same fetcher, address guard and bounds as the poller): a
    feed or a sitemap is registered as given, an HTML page by the feeds its
    <link rel="alternate"> elements name (each printed). A URL that cannot be fetched is
    registered as given. A running poller polls them within seconds.
    """
    invalid = [u for u in urls if not is_http_url(u)]
    settings = load_settings()
    registry = Registry(connect(settings), settings)
    todo: list[tuple[str, str | None]] = []
    empty = False
    with Fetcher(settings) as fetcher:
        for url in urls:
            if url in invalid or as_is:
                todo.append((url, None))
                continue
            found = _inspect(fetcher, url)
            if found is None or found.kind != "html":
                todo.append((url, None))
            elif not found.feeds:
                warn(f"no feed advertised by {url} (an HTML page): nothing registered")
                empty = True
            for feed in found.feeds if found else []:
                click.echo(f"feed {feed} (advertised by {url})")
                todo.append((feed, None))
    added, known = add_feeds(registry, todo)
    click.echo(f"added {added}, already registered {known}")
    if invalid or empty:
        raise SystemExit(1)


@feeds.command("discover")
@click.argument("urls", nargs=-1, required=True)
def discover(urls: tuple[str, ...]) -> None:
    """Print what `feeds add` would register for each URL, without registering anything:
    `feed URL` and `sitemap URL` lines (a page's advertised feeds, its robots.txt sitemaps)."""
    failed = False
    with Fetcher(load_settings()) as fetcher:
        for url in urls:
            try:
                found = inspect_url(fetcher, url, with_robots=True)
            except IngestError as exc:
                warn(f"{url}: {exc.reason.value}: {exc.detail}")
                failed = True
                continue
            if found.kind != "html":
                click.echo(f"{found.kind} {url}")
            for feed in found.feeds:
                click.echo(f"feed {feed}")
            for sitemap in found.sitemaps:
                click.echo(f"sitemap {sitemap}")
            if found.kind == "html" and not found.feeds and not found.sitemaps:
                warn(f"{url}: an HTML page advertising no feed and no sitemap")
    if failed:
        raise SystemExit(1)


def _inspect(fetcher: Fetcher, url: str) -> Found | None:
    try:
        return inspect_url(fetcher, url, with_robots=False)
    except IngestError as exc:
        warn(f"{url}: not fetched ({exc.reason.value}): registered as given")
        return None


@feeds.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_(file: Path) -> None:
    """Register the feeds of an OPML file (or a text file with one URL per line)."""
    try:
        entries = read_feed_list(file.read_bytes())
    except IngestError as exc:
        raise click.ClickException(f"{file}: {exc}") from exc
    added, known = add_feeds(_registry(), entries)
    click.echo(f"added {added}, already registered {known}")


@feeds.command("export")
def export() -> None:
    """Print the registry as OPML."""
    registry = _registry()
    states = sorted(registry.states(), key=lambda s: s.url)
    click.echo(render_opml([(s.url, s.title or None) for s in states]).decode(), nl=False)


@feeds.command("list")
def list_() -> None:
    """Print the registered feed URLs, one a line."""
    for url in sorted(_registry().urls().values()):
        click.echo(url)


@feeds.command("remove")
@click.argument("urls", nargs=-1, required=True)
def remove(urls: tuple[str, ...]) -> None:
    """Unregister feeds (their seen-sets and state are deleted)."""
    settings = load_settings()
    registry = Registry(connect(settings), settings)
    for url in urls:
        problem = unsubscribe(registry.client, settings, feed_id(url))
        if problem:
            warn(f"{url}: {problem}")
    missing = [u for u in urls if not registry.remove(u)]
    for url in missing:
        warn(f"not registered: {url}")
    click.echo(f"removed {len(urls) - len(missing)}")
    if missing:
        raise SystemExit(1)
