"""``newswire feeds add | import | export | list | remove``: the feed registry."""

from __future__ import annotations

import time
from pathlib import Path

import click

from service.cli.common import connect, load_settings, warn
from service.errors import IngestError
from service.opml import read_feed_list, render_opml
from service.registry import Registry
from service.urls import is_http_url


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
def add(urls: tuple[str, ...]) -> None:
    """Register feed URLs; a running poller polls them within seconds."""
    invalid = [u for u in urls if not is_http_url(u)]
    added, known = add_feeds(_registry(), [(u, None) for u in urls])
    click.echo(f"added {added}, already registered {known}")
    if invalid:
        raise SystemExit(1)


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
    registry = _registry()
    missing = [u for u in urls if not registry.remove(u)]
    for url in missing:
        warn(f"not registered: {url}")
    click.echo(f"removed {len(urls) - len(missing)}")
    if missing:
        raise SystemExit(1)
