"""A removed feed's subscription ended: ``feeds remove`` asks the hub to unsubscribe (the
pollers' callback confirms it and forgets the subscription); a hub that cannot be told
keeps pushing into a callback that now answers 410 Gone."""

from __future__ import annotations

import time

import redis

from service.errors import IngestError
from service.fetching.client import address_guard
from service.settings import Settings
from service.websub.manager import REQUEST_TIMEOUT, callback_url
from service.websub.requests import send_sync, subscription_form
from service.websub.store import SubscriptionStore


def unsubscribe(client: redis.Redis, settings: Settings, fid: str) -> str | None:
    """Ask the hub to end the feed's subscription; an error message, or ``None``."""
    store = SubscriptionStore(client, settings)
    sub = store.get(fid)
    if sub is None:
        return None
    store.set_state(fid, "unsubscribing", due_at=time.time() + REQUEST_TIMEOUT)
    form = subscription_form(
        "unsubscribe",
        topic=sub.topic,
        callback=callback_url(settings, fid),
        secret=None,
        lease_seconds=None,
    )
    try:
        send_sync(
            sub.hub,
            form,
            guard=address_guard(settings),
            user_agent=settings.full_user_agent,
            timeout=settings.fetch_timeout,
        )
    except IngestError as exc:
        store.delete(fid)
        return f"hub {sub.hub} not told to unsubscribe ({exc.reason.value})"
    return None
