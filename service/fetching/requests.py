"""What is asked for: URL checks, request headers, the redirect chain (pure)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urljoin, urlsplit, urlunsplit

from service.addresses import AddressGuard
from service.errors import PermanentError, Reason
from service.fetching.body import ACCEPT_ENCODING
from service.urls import MAX_URL_LENGTH

Kind = Literal["page", "feed", "robots"]
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
ACCEPT = {
    "page": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5",
    "feed": "application/rss+xml,application/atom+xml,application/feed+json,"
    "application/xml;q=0.9,text/xml;q=0.9,application/json;q=0.8,*/*;q=0.5",
    "robots": "text/plain,*/*;q=0.5",
}


def bad_url(url: str, why: str) -> PermanentError:
    return PermanentError(f"{url[:200]!r}: {why}", reason=Reason.BAD_URL)


def check_url(url: str, guard: AddressGuard) -> str:
    """``url`` without its fragment, if it is an http(s) URL the guard lets through.

    Raises ``BAD_URL`` (scheme, length, syntax) or ``BLOCKED_ADDRESS`` (a literal IP host
    that is not permitted, in any spelling).
    """
    if len(url) > MAX_URL_LENGTH:
        raise bad_url(url, f"longer than {MAX_URL_LENGTH} characters")
    if any(ord(c) < 33 or ord(c) == 127 for c in url):
        raise bad_url(url, "whitespace or control characters")
    try:
        parts = urlsplit(url)
        host = parts.hostname
        _ = parts.port
    except ValueError as exc:
        raise bad_url(url, str(exc)) from exc
    if parts.scheme.lower() not in ("http", "https"):
        raise bad_url(url, "only http and https URLs are fetched")
    if not host:
        raise bad_url(url, "no host")
    guard.check_host(host)
    return urlunsplit(parts._replace(fragment=""))


def _valid_header(value: str | None) -> str | None:
    if value is None or len(value) > 1024 or any(ord(c) < 32 or ord(c) > 126 for c in value):
        return None
    return value


def request_headers(
    kind: Kind, user_agent: str, *, etag: str | None, last_modified: str | None
) -> dict[str, str]:
    """Headers of every request of a fetch (validators that are not valid are dropped)."""
    headers = {"User-Agent": user_agent, "Accept": ACCEPT[kind], "Accept-Encoding": ACCEPT_ENCODING}
    if valid := _valid_header(etag):
        headers["If-None-Match"] = valid
    if valid := _valid_header(last_modified):
        headers["If-Modified-Since"] = valid
    return headers


@dataclass
class Redirects:
    """The redirect chain of one fetch: loop and length checks, next URL."""

    requested_url: str
    max_redirects: int
    allow_insecure: bool = False  # follow https -> http (refused by default)
    followed: list[str] = field(default_factory=list)

    @property
    def current(self) -> str:
        return self.followed[-1] if self.followed else self.requested_url

    def follow(self, location: str | None, status: int, guard: AddressGuard) -> str:
        """Record a redirect to ``location`` and return the absolute URL to fetch next."""
        if not location:
            raise PermanentError(
                f"{self.current}: {status} without Location", reason=Reason.HTTP_STATUS
            )
        try:
            target = urljoin(self.current, location.strip().replace(" ", "%20"))
        except ValueError as exc:
            raise bad_url(location, f"bad redirect Location: {exc}") from exc
        target = check_url(target, guard)
        if not self.allow_insecure and _downgrade(self.current, target):
            raise PermanentError(
                f"{self.current}: redirect from https to plain http ({target[:200]})",
                reason=Reason.INSECURE_REDIRECT,
            )
        if target == self.requested_url or target in self.followed:
            raise PermanentError(
                f"{self.requested_url}: redirect loop at {target}", reason=Reason.TOO_MANY_REDIRECTS
            )
        if len(self.followed) >= self.max_redirects:
            raise PermanentError(
                f"{self.requested_url}: more than {self.max_redirects} redirects",
                reason=Reason.TOO_MANY_REDIRECTS,
            )
        self.followed.append(target)
        return target


def _downgrade(current: str, target: str) -> bool:
    """An https URL redirecting to http: what TLS protected would travel in clear."""
    return urlsplit(current).scheme.lower() == "https" and urlsplit(target).scheme == "http"
