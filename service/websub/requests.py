"""Subscription requests to a hub (W3C WebSub §5.1): one form POST, through the guarded
transport (the address guard judges the hub like any fetched host; no redirects followed,
no proxy or cookies from the environment, a total deadline).

The form carries ``hub.secret``: neither it nor the form is ever logged or put in an error.
"""

from __future__ import annotations

import httpx

from service.addresses import AddressGuard
from service.errors import PermanentError, Reason, TransientError
from service.fetching.requests import check_url
from service.fetching.transport import AsyncGuardedTransport, GuardedTransport

LIMITS = httpx.Limits(max_connections=20, max_keepalive_connections=5, keepalive_expiry=30.0)


def subscription_form(
    mode: str, *, topic: str, callback: str, secret: str | None, lease_seconds: int | None
) -> dict[str, str]:
    form = {"hub.mode": mode, "hub.topic": topic, "hub.callback": callback}
    if secret:
        form["hub.secret"] = secret
    if lease_seconds:
        form["hub.lease_seconds"] = str(lease_seconds)
    return form


def check_answer(hub: str, response: httpx.Response) -> None:
    """A hub answers 202 Accepted (any 2xx is taken); anything else is an error."""
    if 200 <= response.status_code < 300:
        return
    detail = f"hub {hub}: HTTP {response.status_code}"
    if response.status_code >= 500 or response.status_code == 429:
        raise TransientError(detail, reason=Reason.HTTP_STATUS)
    raise PermanentError(detail, reason=Reason.HTTP_STATUS)


class AsyncHubClient:
    """Used by the pollers (subscribe, renew)."""

    def __init__(self, guard: AddressGuard, *, user_agent: str, timeout: float) -> None:
        self.guard = guard
        self._client = httpx.AsyncClient(
            transport=AsyncGuardedTransport(guard, limits=LIMITS),
            follow_redirects=False,
            trust_env=False,
            timeout=timeout,
            headers={"User-Agent": user_agent},
        )

    async def send(self, hub: str, form: dict[str, str]) -> None:
        """POST ``form`` to ``hub``; raises ``TransientError`` or ``PermanentError``."""
        url = check_url(hub, self.guard)
        try:
            response = await self._client.post(url, data=form)
        except httpx.HTTPError as exc:
            raise TransientError(
                f"hub {hub}: {type(exc).__name__}", reason=Reason.CONNECTION
            ) from None
        check_answer(hub, response)

    async def aclose(self) -> None:
        await self._client.aclose()


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
        check_answer(hub, response)
