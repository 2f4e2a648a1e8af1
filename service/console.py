"""The live view ``newswire run`` shows a person at a terminal: pure rendering, no I/O.

A :class:`Snapshot` is what one look at Redis saw (``service.cli.status.collect_snapshot``
takes it); :func:`render` turns the newest snapshot, and an older one for the rates, into
the lines of the view. :func:`feed_warnings` says in plain words why feeds fail, grouped by
cause, so that "9 feeds failed: DNS lookup failed — is the network reachable?" is one line
instead of nine stack traces.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

# (pattern on the error text, plain description, hint). First match wins; the error text is
# "<reason code>: <detail>" (service.errors.IngestError.__str__).
_CAUSES: tuple[tuple[re.Pattern[str], str, str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), cause, hint)
    for pattern, cause, hint in (
        (
            r"^connection_error:.*(name or service not known|temporary failure in name "
            r"resolution|nodename nor servname|getaddrinfo|no address associated)",
            "DNS lookup failed",
            "is the network reachable?",
        ),
        (r"^connection_error:.*refused", "connection refused", "is the site up?"),
        (
            r"^connection_error:.*(ssl|tls|certificate)",
            "TLS handshake failed",
            "the site's certificate may be invalid",
        ),
        (r"^connection_error:", "could not connect", "is the network reachable?"),
        (r"^timeout:", "timed out", "the site is slow or unreachable"),
        (r"^http_status:.*\b(404|410)\b", "the feed is gone (404/410)", "check its URL"),
        (r"^http_status:.*\b(401|403)\b", "access denied (401/403)", "the site refuses us"),
        (r"^http_status:.*\b429\b", "rate limited (429)", "polling will slow down"),
        (r"^http_status:.*\b5\d\d\b", "server error (5xx)", "the site is failing"),
        (r"^http_status:", "HTTP error", "check the feed URL"),
        (
            r"^blocked_address:",
            "private or loopback address refused",
            "set NEWSWIRE_ALLOWED_NETWORKS to allow it",
        ),
        (r"^not_a_feed:", "the URL serves no feed", "check the feed URL"),
        (r"^bad_url:", "the URL is invalid", "check the feed URL"),
        (r"^too_large:", "the feed is too large", "see NEWSWIRE_MAX_FEED_BYTES"),
        (r"^(hostile_content|parse_error):", "the feed is malformed", "ask its publisher"),
    )
)


@dataclass(frozen=True)
class FeedHealth:
    url: str
    consecutive_errors: int
    last_error: str


@dataclass(frozen=True)
class Snapshot:
    """One look at the deployment's state."""

    at: float  # unix time of the look
    redis_ok: bool = True
    feeds: int = 0
    feeds_due: int = 0
    feeds_polled: int = 0
    failing: tuple[FeedHealth, ...] = ()
    published: int = 0  # entries ever added to the article stream
    duplicates: int | None = None  # near-duplicates found (None: not known)
    dead_by_reason: dict[str, int] = field(default_factory=dict)
    queue_depth: int = 0


@dataclass(frozen=True)
class Header:
    """What the view says about the deployment itself (fixed for a run)."""

    redis: str  # where Redis is, secrets masked
    logs: str  # where the processes' logs go
    processes: str = ""  # e.g. "poller running · worker running"


def describe_error(error: str) -> tuple[str, str]:
    """A feed's last error (``"<reason>: <detail>"``) as a plain cause and a hint."""
    for pattern, cause, hint in _CAUSES:
        if pattern.search(error):
            return cause, hint
    reason = error.split(":", 1)[0].strip() or "unknown error"
    return reason.replace("_", " "), "see the poller log"


def feed_warnings(failing: Iterable[FeedHealth]) -> list[str]:
    """One line per cause: "9 feeds failed: DNS lookup failed — is the network reachable?"."""
    causes: Counter[tuple[str, str]] = Counter(
        describe_error(f.last_error) for f in failing if f.consecutive_errors > 0
    )
    lines = []
    for (cause, hint), count in sorted(causes.items(), key=lambda kv: (-kv[1], kv[0])):
        noun = "feed" if count == 1 else "feeds"
        lines.append(f"{count} {noun} failed: {cause} — {hint}")
    return lines


def _rate(new: Snapshot, old: Snapshot | None) -> str:
    if old is None or new.at <= old.at:
        return "-"
    per_minute = max(0, new.published - old.published) * 60.0 / (new.at - old.at)
    return f"{per_minute:.1f}/min"


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def render(header: Header, new: Snapshot, old: Snapshot | None, *, uptime: float) -> list[str]:
    """The lines of the live view, newest snapshot ``new``, rates against ``old``."""
    minutes, seconds = divmod(int(uptime), 60)
    lines = [f"newswire · Redis {header.redis} · up {minutes}m{seconds:02d}s"]
    if not new.redis_ok:
        return [*lines, f"! Redis is not answering at {header.redis} — is it running?"]
    failing = sum(1 for f in new.failing if f.consecutive_errors > 0)
    lines.append(
        f"feeds      {new.feeds} registered · {new.feeds_due} due · "
        f"{new.feeds_polled} polled · {failing} failing"
    )
    articles = f"articles   {new.published} published · {_rate(new, old)}"
    if new.duplicates is not None:
        articles += f" · {_count(new.duplicates, 'duplicate')}"
    lines.append(articles)
    lines.append(f"queue      {_count(new.queue_depth, 'task')} waiting")
    dead_total = sum(new.dead_by_reason.values())
    dead = f"dead       {_count(dead_total, 'letter')}"
    if dead_total:
        dead += ": " + ", ".join(f"{k} {v}" for k, v in sorted(new.dead_by_reason.items()))
    lines.append(dead)
    if header.processes:
        lines.append(f"processes  {header.processes}")
    lines.append(f"logs       {header.logs}")
    lines.extend(f"! {w}" for w in feed_warnings(new.failing))
    return lines


def oldest_within(history: Sequence[Snapshot], seconds: float) -> Snapshot | None:
    """The oldest snapshot of ``history`` (oldest first) taken at most ``seconds`` before the
    newest: the base of the rates shown."""
    if not history:
        return None
    newest = history[-1].at
    for snap in history:
        if newest - snap.at <= seconds:
            return snap
    return history[-1]
