"""The WebSub callback, served by every poller on ``NEWSWIRE_WEBSUB_LISTEN`` (aiohttp, on
the poller's event loop; Redis calls in threads).

``GET /websub/<feed id>`` — verification of intent (§5.3): the challenge is echoed only
for a subscription this deployment asked for (state ``requested`` or ``active`` to
subscribe, ``unsubscribing`` to unsubscribe) with the very topic it asked for; anything
else is 404. ``hub.mode=denied`` (§5.2) is recorded.

``POST /websub/<feed id>`` — content distribution (§8): bodies are bounded like a feed
fetch (``max_feed_bytes``: 413 beyond), the ``X-Hub-Signature`` must be the HMAC of the
body with the subscription's secret (sha1, sha256, sha384 or sha512); a body without a
valid signature is ignored and counted (202, as §8 allows, so that signatures cannot be
probed). A verified body goes to ``ingest``: the poller handles it exactly like a poll.
Every outcome is counted in Redis (``<p>:websub:pushes``).
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from aiohttp import web

from service.errors import IngestError
from service.logs import get_logger
from service.models import FetchedPage
from service.settings import Settings
from service.websub.manager import DENIED_RETRY, RENEW_AT
from service.websub.signature import verify
from service.websub.store import SubscriptionStore

log = get_logger("newswire.websub")
IngestFn = Callable[[str, FetchedPage], Awaitable[int]]
_FEED_ID = re.compile(r"[0-9a-f]{6,32}")
_MAX_CHALLENGE = 1024


class Callback:
    def __init__(self, settings: Settings, store: SubscriptionStore, ingest: IngestFn) -> None:
        self.settings = settings
        self.store = store
        self.ingest = ingest

    def app(self) -> web.Application:
        app = web.Application(client_max_size=self.settings.max_feed_bytes)
        app.router.add_get("/websub/{fid}", self.verify_intent)
        app.router.add_post("/websub/{fid}", self.receive)
        return app

    async def verify_intent(self, request: web.Request) -> web.Response:
        fid = request.match_info["fid"]
        query = request.query
        mode, topic = query.get("hub.mode", ""), query.get("hub.topic", "")
        challenge = query.get("hub.challenge", "")
        sub = await asyncio.to_thread(self.store.get, fid) if _FEED_ID.fullmatch(fid) else None
        if sub is None or not topic or topic != sub.topic:
            return web.Response(status=404)
        now = time.time()
        if mode == "denied":
            log.warning("websub_denied", feed_id=fid, hub=sub.hub, why=query.get("hub.reason"))
            await asyncio.to_thread(self.store.set_state, fid, "denied", due_at=now + DENIED_RETRY)
            return web.Response(status=200)
        if not challenge or len(challenge) > _MAX_CHALLENGE:
            return web.Response(status=404)
        if mode == "subscribe" and sub.state in ("requested", "active"):
            lease = _lease(query.get("hub.lease_seconds"), self.settings.websub_lease_seconds)
            renew_at = now + lease * RENEW_AT
            await asyncio.to_thread(
                self.store.activate, fid, lease_seconds=lease, now=now, renew_at=renew_at
            )
            log.info("websub_verified", feed_id=fid, hub=sub.hub, lease_seconds=lease)
            return web.Response(status=200, text=challenge)
        if mode == "unsubscribe" and sub.state == "unsubscribing":
            await asyncio.to_thread(self.store.delete, fid)
            log.info("websub_unsubscribed", feed_id=fid, hub=sub.hub)
            return web.Response(status=200, text=challenge)
        return web.Response(status=404)

    async def receive(self, request: web.Request) -> web.Response:
        fid = request.match_info["fid"]
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            await self._count("too_large", fid)
            raise
        sub = await asyncio.to_thread(self.store.get, fid) if _FEED_ID.fullmatch(fid) else None
        if sub is None or sub.state != "active":
            await self._count("unknown_subscription", fid)
            return web.Response(status=410)
        if not verify(request.headers.get("X-Hub-Signature"), sub.secret, body):
            await self._count("bad_signature", fid)
            return web.Response(status=202)
        page = FetchedPage(
            requested_url=sub.topic,
            url=sub.topic,
            content=body,
            content_type=request.headers.get("Content-Type"),
            fetched_at=datetime.now(UTC),
        )
        try:
            new = await self.ingest(fid, page)
        except IngestError as exc:
            log.warning("websub_push_refused", feed_id=fid, reason=exc.reason.value)
            await self._count(exc.reason.value, fid)
            return web.Response(status=202)
        log.info("websub_pushed", feed_id=fid, new=new)
        await self._count("accepted", fid)
        return web.Response(status=202)

    async def _count(self, outcome: str, fid: str) -> None:
        if outcome != "accepted":
            log.warning("websub_push_ignored", feed_id=fid, outcome=outcome)
        await asyncio.to_thread(self.store.count_push, outcome)


def _lease(value: str | None, default: int) -> float:
    try:
        lease = float(value) if value else float(default)
    except ValueError:
        lease = float(default)
    return min(max(lease, 1.0), 365 * 86_400.0)


async def serve_callback(callback: Callback, listen: str) -> web.AppRunner:
    """Start the callback server on ``host:port``; ``await runner.cleanup()`` stops it."""
    host, _, port = listen.rpartition(":")
    runner = web.AppRunner(callback.app(), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host.strip("[]") or "0.0.0.0", int(port)).start()  # noqa: S104
    log.info("websub_callback_listening", listen=listen)
    return runner
