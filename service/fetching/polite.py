"""I/O: article pages fetched politely — robots.txt, then a per-host slot, then the fetch.

``PoliteFetcher`` wraps the one safe :class:`~service.fetching.Fetcher` for the workers:
:mod:`service.fetching.robots` decides whether the URL may be fetched (its own fetch of
robots.txt runs inside the host's slot too), :mod:`service.fetching.hostslots` bounds how
many pages of one host all workers fetch at once.
"""

from __future__ import annotations

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
        self.robots = Robots(fetcher, client, settings) if settings.robots_txt else None

    def fetch(self, url: str) -> FetchedPage:
        """The article page at ``url``; raises ``service.errors`` classes only (and
        ``redis.RedisError`` when Redis is unavailable)."""
        check_url(url, self.fetcher.guard)  # bad_url / blocked_address before robots.txt
        with self.slots.slot(url):
            if self.robots is not None:
                self.robots.check(url)
            return self.fetcher.fetch(url, kind="page")
