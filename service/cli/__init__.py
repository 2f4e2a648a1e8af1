"""The ``newswire`` command: one entry point for every role and every operator task."""

from __future__ import annotations

import click

from service.cli.extract import extract
from service.cli.feeds import feeds
from service.cli.processes import poller, worker
from service.cli.run import run
from service.cli.status import status
from service.cli.submit import submit
from service.cli.tail import tail


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="newswire")
def main() -> None:
    """newswire: RSS/Atom/JSON feeds in, clean structured article events out on Redis streams.

    Settings come from NEWSWIRE_* environment variables (see docs/operations.md).
    """


for command in (run, poller, worker, feeds, submit, tail, extract, status):
    main.add_command(command)
