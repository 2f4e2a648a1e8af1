"""Subscription requests to a hub (W3C WebSub §5.1): one form POST, through the guarded
clients (the address guard judges the hub like any fetched host; no redirects followed,
no proxy or cookies from the environment, a total deadline): the poller's aiohttp session
(``service.fetching.aio``), the commands' httpx transport.

The form carries ``hub.secret``: neither it nor the form is ever logged or put in an error.
"""

from __future__ import annotations

import aiohttp
import httpx

from service.addresses import AddressGuard
from service.errors import PermanentError, Reason, TransientError
from service.fetching.aio import guarded_session
from service.fetching.requests import check_url
from service.fetching.transport import GuardedTransport

MAX_CONNECTIONS = 20
LIMITS = httpx.Limits(
    max_connections=MAX_CONNECTIONS, max_keepalive_connections=5, keepalive_expiry=30.0
)


def subscription_form(
    mode: str, *, topic: str, callback: str, secret: str | None, lease_seconds: int | None
) -> dict[str, str]:
    form = {"hub.mode": mode, "hub.topic": topic, "hub.callback": callback}
    if secret:
        form["hub.secret"] = secret
    if lease_seconds:
        form["hub.lease_seconds"] = str(lease_seconds)
    return form


def check_answer(hub: str, status: int) -> None:
    """A hub answers 202 Accepted (any 2xx is taken); anything else is an error."""
    if 200 <= status < 300:
        return
    detail = f"hub {hub}: HTTP {status}"
    if status >= 500 or status == 429:
        raise TransientError(detail, reason=Reason.HTTP_STATUS)
    raise PermanentError(detail, reason=Reason.HTTP_STATUS)


class AsyncHubClient:
    """Used by the pollers (subscribe, renew); its session is made on the first request,
    inside the running loop."""

    def __init__(self, guard: AddressGuard, *, user_agent: str, timeout: float) -> None:
        self.guard = guard
        self.user_agent = user_agent
        self.timeout = timeout
        self._session: aiohttp.ClientSession | None = None

    async def send(self, hub: str, form: dict[str, str]) -> None:
        """POST ``form`` to ``hub``; raises ``TransientError`` or ``PermanentError``."""
        url = check_url(hub, self.guard)
        if self._session is None:
            self._session = guarded_session(
                self.guard, max_connections=MAX_CONNECTIONS, headers={"User-Agent": self.user_agent}
            )
        try:
            async with self._session.post(
                url,
                data=form,
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(total=self.timeout),
            ) as response:
                status = response.status
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise TransientError(
                f"hub {hub}: {type(exc).__name__}", reason=Reason.CONNECTION
            ) from None
        check_answer(hub, status)

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def send_sync(
    hub: str, form: dict[str, str], *, guard: AddressGuard, user_agent: str, timeout: float
) -> None:
    """The same POST from a command (``feeds remove`` unsubscribes)."""
    url = check_url(hub, guard)
    with httpx.Client(
        transport=GuardedTransport(guard, limits=LIMITS),
        follow_redirects=False,
        trust_env=False,
        timeout=timeout,
        headers={"User-Agent": user_agent},
    ) as client:
        try:
            response = client.post(url, data=form)
        except httpx.HTTPError as exc:
            raise TransientError(
                f"hub {hub}: {type(exc).__name__}", reason=Reason.CONNECTION
            ) from None
        check_answer(hub, response.status_code)
