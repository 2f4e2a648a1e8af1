"""robots.txt for article fetches (RFC 9309), cached per origin in Redis.

Parsed with Protego (maintained by the Scrapy project): unlike ``urllib.robotparser`` it
implements RFC 9309's matching — the longest matching rule wins, ``Allow`` beats
``Disallow`` on a tie, ``*`` and ``$`` wildcards, percent-encoding normalised — which is
what sites write for Google and expect every crawler to honour.

robots.txt is untrusted input too: it is fetched by the one safe client (address guard,
redirects, ``NEWSWIRE_ROBOTS_MAX_BYTES``, ``NEWSWIRE_ROBOTS_TIMEOUT``), in a per-host slot
like a page. What a fetch means
(RFC 9309, 2.3.1):

- 2xx: the rules, for ``NEWSWIRE_ROBOTS_CACHE_TTL`` (at most a day);
- 4xx ("unavailable"), or more redirects than allowed: everything allowed, cached as long;
- 5xx, 429, a timeout, a connection error, a body over the cap, any other refusal
  ("unreachable"): complete disallow, remembered ``NEWSWIRE_ROBOTS_ERROR_TTL``; the task
  gets a transient ``blocked_by_robots`` error, so it is retried and dead-lettered only if
  robots.txt stays unreachable.

A URL the rules disallow for ``NEWSWIRE_ROBOTS_USER_AGENT`` is refused with a permanent
``blocked_by_robots`` error. Each process also keeps the parsed rules of recent origins for
a minute, so a feed of fifty links on one site parses its robots.txt once.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Literal, Protocol
from urllib.parse import urlsplit

import orjson
import redis
from protego import Protego

from service.errors import HostBusy, IngestError, PermanentError, Reason, TransientError
from service.models import FetchedPage
from service.settings import Settings

State = Literal["rules", "allow", "unreachable"]
LOCAL_TTL = 60.0  # seconds parsed rules are reused in-process
LOCAL_SIZE = 256  # origins whose rules a process keeps
ALLOW_ALL_REASONS = frozenset({Reason.TOO_MANY_REDIRECTS})


class PageFetcher(Protocol):
    def fetch(self, url: str, *, kind: Literal["page", "feed", "robots"] = ...) -> FetchedPage: ...


@dataclass(frozen=True)
class Verdict:
    """What robots.txt of one origin says (``detail``: why allow-all / unreachable)."""

    state: State
    body: str = ""
    detail: str = ""


def origin_of(url: str) -> str:
    """``scheme://host[:port]``: robots.txt applies per scheme, host and port."""
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{(parts.netloc.rsplit('@', 1)[-1]).lower()}"


def verdict_of_page(page: FetchedPage) -> Verdict:
    return Verdict("rules", page.content.decode("utf-8", errors="replace"))


def verdict_of_error(exc: IngestError) -> Verdict:
    """RFC 9309: a 4xx (or a redirect chain too long) allows all; anything else is
    "unreachable" and disallows all."""
    if isinstance(exc, PermanentError) and (
        exc.reason == Reason.HTTP_STATUS or exc.reason in ALLOW_ALL_REASONS
    ):
        return Verdict("allow", detail=exc.detail)
    return Verdict("unreachable", detail=str(exc))


Slot = Callable[[str], AbstractContextManager[None]]


class Robots:
    """robots.txt checks for one worker process (cache in Redis, rules kept in memory);
    ``slot`` wraps the fetch of a robots.txt (the host's per-host slot)."""

    def __init__(
        self, fetcher: PageFetcher, client: redis.Redis, settings: Settings, *, slot: Slot
    ) -> None:
        self.fetcher = fetcher
        self.client = client
        self.settings = settings
        self.slot = slot
        self._local: OrderedDict[str, tuple[float, Verdict, Protego | None]] = OrderedDict()

    def key(self, origin: str) -> str:
        return f"{self.settings.key_prefix}:robots:{origin}"

    def check(self, url: str) -> None:
        """Raise ``blocked_by_robots`` when ``url`` may not be fetched (see module doc)."""
        verdict, rules = self._rules(origin_of(url))
        if verdict.state == "unreachable":
            raise TransientError(
                f"{url}: robots.txt unreachable (complete disallow, RFC 9309): {verdict.detail}",
                reason=Reason.BLOCKED_BY_ROBOTS,
            )
        if rules is not None and not rules.can_fetch(url, self.settings.robots_token):
            raise PermanentError(
                f"{url}: disallowed by robots.txt for {self.settings.robots_token!r}",
                reason=Reason.BLOCKED_BY_ROBOTS,
            )

    def _rules(self, origin: str) -> tuple[Verdict, Protego | None]:
        kept = self._local.get(origin)
        if kept is not None and kept[0] > time.monotonic():
            self._local.move_to_end(origin)
            return kept[1], kept[2]
        verdict = self._cached(origin) or self._fetch(origin)
        rules = Protego.parse(verdict.body) if verdict.state == "rules" else None
        self._local[origin] = (time.monotonic() + self._local_ttl(verdict), verdict, rules)
        while len(self._local) > LOCAL_SIZE:
            self._local.popitem(last=False)
        return verdict, rules

    def _ttl(self, verdict: Verdict) -> float:
        unreachable = verdict.state == "unreachable"
        return self.settings.robots_error_ttl if unreachable else self.settings.robots_cache_ttl

    def _local_ttl(self, verdict: Verdict) -> float:
        return min(LOCAL_TTL, self._ttl(verdict))

    def _cached(self, origin: str) -> Verdict | None:
        raw = self.client.get(self.key(origin))
        if raw is None:
            return None
        data = orjson.loads(raw)
        return Verdict(data["state"], data.get("body", ""), data.get("detail", ""))

    def _fetch(self, origin: str) -> Verdict:
        url = f"{origin}/robots.txt"
        try:
            with self.slot(url):
                verdict = verdict_of_page(self.fetcher.fetch(url, kind="robots"))
        except HostBusy:
            raise  # no verdict: the task is sent again for later
        except IngestError as exc:
            verdict = verdict_of_error(exc)
        ttl = self._ttl(verdict)
        payload = orjson.dumps(
            {"state": verdict.state, "body": verdict.body, "detail": verdict.detail[:500]}
        )
        self.client.set(self.key(origin), payload, ex=max(1, int(ttl)))
        return verdict
