"""The WebSub callback on a real aiohttp server, a real Redis and the real poller path
(its enqueue collects the tasks): verification of intent, bounds, signatures, and a push
and a poll of the same items making one task each."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import redis
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from service.fetching import AsyncFetcher
from service.poller import Claim, Poller
from service.registry import Registry, feed_id
from service.settings import Settings
from service.streams import Streams
from service.websub.callback import Callback
from service.websub.signature import sign
from service.websub.store import SubscriptionStore
from tests.support.origin import Origin
from tests.support.sitegen import rss_feed


@pytest.fixture
def small(settings: Settings) -> Settings:
    return settings.model_copy(update={"max_feed_bytes": 20_000, "public_url": "http://x"})


def run_scenario(
    settings: Settings, client: redis.Redis, scenario: Callable[..., Awaitable[None]]
) -> list[str]:
    """Serve the callback of a real poller and run ``scenario(session, base, poller)``."""
    sent: list[str] = []

    async def main() -> None:
        async with AsyncFetcher(settings) as fetcher:
            poller = Poller(
                settings,
                Registry(client, settings),
                Streams(client, settings),
                fetcher,
                lambda url, _feed, _entry: sent.append(url),
                websub=_manager(settings, client),
            )
            callback = Callback(settings, SubscriptionStore(client, settings), poller.ingest_pushed)
            server = TestServer(callback.app())
            await server.start_server()
            try:
                async with ClientSession() as session:
                    await scenario(session, str(server.make_url("")), poller)
            finally:
                await server.close()

    asyncio.run(main())
    return sent


def _manager(settings: Settings, client: redis.Redis) -> Any:
    from service.fetching.client import address_guard
    from service.websub.manager import WebSub
    from service.websub.requests import AsyncHubClient

    hubs = AsyncHubClient(address_guard(settings), user_agent="t", timeout=2)
    return WebSub(settings, Registry(client, settings), SubscriptionStore(client, settings), hubs)


def subscribe(client: redis.Redis, settings: Settings, topic: str) -> tuple[str, str]:
    Registry(client, settings).add(topic, None, now=0)
    fid = feed_id(topic)
    store = SubscriptionStore(client, settings)
    assert store.begin(fid, hub="http://127.0.0.1:1/", topic=topic, now=0, retry_at=10)
    assert not store.begin(fid, hub="http://127.0.0.1:1/", topic=topic, now=0, retry_at=10)
    sub = store.get(fid)
    assert sub is not None
    assert "secret" not in repr(sub)
    return fid, sub.secret


def test_verification_of_intent_only_for_what_was_asked(
    small: Settings, redis_client: redis.Redis
) -> None:
    topic = "http://127.0.0.1:9/feed.xml"
    fid, _secret = subscribe(redis_client, small, topic)
    statuses: list[tuple[int, str]] = []

    async def scenario(session: ClientSession, base: str, _poller: Poller) -> None:
        for path, query in (
            ("/websub/0000000000", {"hub.mode": "subscribe", "hub.topic": topic}),
            (f"/websub/{fid}", {"hub.mode": "subscribe", "hub.topic": "http://other/"}),
            (f"/websub/{fid}", {"hub.mode": "unsubscribe", "hub.topic": topic}),
            (
                f"/websub/{fid}",
                {"hub.mode": "subscribe", "hub.topic": topic, "hub.lease_seconds": "60"},
            ),
        ):
            query = {**query, "hub.challenge": "c-123"}
            async with session.get(base.rstrip("/") + path, params=query) as response:
                statuses.append((response.status, await response.text()))

    run_scenario(small, redis_client, scenario)
    assert [s for s, _ in statuses] == [404, 404, 404, 200]
    assert statuses[-1][1] == "c-123"
    sub = SubscriptionStore(redis_client, small).get(fid)
    assert sub is not None
    assert sub.state == "active"
    assert sub.lease_end - sub.verified_at == 60


def test_pushes_bounded_signed_and_one_task_per_item_with_polls(
    small: Settings, redis_client: redis.Redis, origin: Origin
) -> None:
    base = origin.url("")
    topic = origin.url("/feed.xml")
    body = rss_feed([0, 1], base=base).encode()
    origin.add("/feed.xml", body, content_type="application/rss+xml")
    fid, secret = subscribe(redis_client, small, topic)
    SubscriptionStore(redis_client, small).activate(fid, lease_seconds=600, now=0, renew_at=1e12)
    statuses: list[int] = []

    async def scenario(session: ClientSession, root: str, poller: Poller) -> None:
        url = f"{root.rstrip('/')}/websub/{fid}"
        for payload, header in (
            (b"<rss>" + b" " * 30_000 + b"</rss>", None),  # over max_feed_bytes
            (body, "sha256=" + "0" * 64),  # wrong signature
            (body, sign(secret, body, "sha1")),
            (body, sign(secret, body, "sha512")),  # the same items again
        ):
            headers = {"Content-Type": "application/rss+xml"}
            if header:
                headers["X-Hub-Signature"] = header
            async with session.post(url, data=payload, headers=headers) as response:
                statuses.append(response.status)
        async with session.post(f"{root.rstrip('/')}/websub/abcdef1234", data=body) as response:
            statuses.append(response.status)
        ids, lease = poller.registry.claim_due(1, owner="test")
        assert ids == [fid]
        assert await poller.poll(Claim(fid, "", lease)) == "fetched"  # the same items polled

    sent = run_scenario(small, redis_client, scenario)
    assert statuses == [413, 202, 202, 202, 410]
    assert sorted(sent) == [origin.url("/news/0"), origin.url("/news/1")]  # once each
    assert SubscriptionStore(redis_client, small).pushes() == {
        "too_large": 1,
        "bad_signature": 1,
        "accepted": 2,
        "unknown_subscription": 1,
    }
    assert redis_client.hget(f"{small.key_prefix}:sources:enqueued", "pushed") == "2"
