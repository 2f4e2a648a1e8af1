"""WebSub wired into a poller process: the manager, the hub client, the callback server."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import redis

from service.fetching.client import address_guard
from service.poller import Poller
from service.registry import Registry
from service.settings import Settings
from service.websub.callback import Callback, serve_callback
from service.websub.manager import WebSub
from service.websub.requests import AsyncHubClient
from service.websub.store import SubscriptionStore


@dataclass
class WebSubService:
    settings: Settings
    store: SubscriptionStore
    hubs: AsyncHubClient
    manager: WebSub

    async def run_with(self, poller: Poller, stop: asyncio.Event) -> None:
        """Run the poller, the renewals and the callback server until ``stop``."""
        callback = Callback(self.settings, self.store, poller.ingest_pushed)
        runner = await serve_callback(callback, self.settings.websub_listen)
        try:
            await asyncio.gather(poller.run(stop), self.manager.run(stop))
        finally:
            await runner.cleanup()
            await self.hubs.aclose()


def start_websub(
    settings: Settings, registry: Registry, client: redis.Redis
) -> WebSubService | None:
    """The WebSub parts of a poller, or ``None`` when NEWSWIRE_PUBLIC_URL is unset."""
    if not settings.public_url:
        return None
    store = SubscriptionStore(client, settings)
    hubs = AsyncHubClient(
        address_guard(settings),
        user_agent=settings.full_user_agent,
        timeout=settings.fetch_timeout,
    )
    return WebSubService(settings, store, hubs, WebSub(settings, registry, store, hubs))
