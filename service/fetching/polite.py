"""I/O: article pages fetched politely — robots.txt first, then the page in a host slot.

``PoliteFetcher`` wraps the one safe :class:`~service.fetching.Fetcher` for the workers:
:mod:`service.fetching.robots` decides whether the URL may be fetched (its own fetch of a
robots.txt takes a slot of the host too), :mod:`service.fetching.hostslots` bounds how many
requests all workers send to one host at once.
"""

from __future__ import annotations

from contextlib import AbstractContextManager

import redis

from service.fetching.client import Fetcher
from service.fetching.hostslots import HostSlots
from service.fetching.requests import check_url
from service.fetching.robots import Robots
from service.models import FetchedPage
from service.settings import Settings


class PoliteFetcher:
    def __init__(self, fetcher: Fetcher, client: redis.Redis, settings: Settings) -> None:
        self.fetcher = fetcher
        self.settings = settings
        self.slots = HostSlots(client, settings)
        self.robots = (
            Robots(fetcher, client, settings, slot=self._robots_slot)
            if settings.robots_txt
            else None
        )

    def _robots_slot(self, url: str) -> AbstractContextManager[None]:
        return self.slots.slot(url, deadline=self.settings.robots_timeout)

    def fetch(self, url: str) -> FetchedPage:
        """The article page at ``url``; raises ``service.errors`` classes only (and
        ``redis.RedisError`` when Redis is unavailable)."""
        check_url(url, self.fetcher.guard)  # bad_url / blocked_address before robots.txt
        if self.robots is not None:
            self.robots.check(url)
        with self.slots.slot(url, deadline=self.settings.fetch_timeout):
            return self.fetcher.fetch(url, kind="page")
