"""All of newswire's configuration, read from ``NEWSWIRE_*`` environment variables.

Settings are built once at an entry point (CLI command, Celery app) and passed down;
pure functions never read them. ``docs/operations.md`` lists every field below and is
regenerated from this model (``python -m service.settings_doc``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from functools import cached_property
from typing import Annotated, Any, Literal, Self

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from service import connections

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


class Settings(BaseSettings):
    """newswire settings. Every field is read from ``NEWSWIRE_<FIELD_NAME>``."""

    model_config = SettingsConfigDict(
        env_prefix="NEWSWIRE_",
        extra="ignore",
        frozen=True,
        env_file=None,
        hide_input_in_errors=True,  # URLs carry passwords: never echo a value in an error
    )

    # --- Redis and streams -------------------------------------------------------------
    redis_url: str | None = Field(
        default=None,
        description="Redis URL: `redis://[:password@]host:port/db`, or a Sentinel-managed "
        "primary as `redis+sentinel://HOST:PORT[,HOST:PORT...]/SERVICE_NAME[/DB]`. Unset: "
        "`newswire run` starts an embedded real Redis (Valkey) server; other commands then use "
        "redis://127.0.0.1:6379/0.",
    )
    broker_url: str | None = Field(
        default=None,
        description="Task broker URL. Unset: the Redis of NEWSWIRE_REDIS_URL. "
        "`amqp://user:pass@host:port/vhost`: RabbitMQ (quorum queues, publisher confirms); "
        "`redis://...` or `redis+sentinel://...`: a Redis (docs/operations.md, choosing a broker).",
    )
    broker_socket_timeout: float = Field(
        default=15.0,
        gt=1.0,
        description="Seconds a command to a Redis broker may wait for its reply (connecting: "
        "at most 5 s), and the poller's reads and writes on RabbitMQ (a publish and its "
        "confirm): a broker that accepts connections but never answers (a half-open "
        "connection after a failover) fails the publish, which is retried, instead of holding "
        "a poller thread forever. Above the workers' 1 s BRPOP.",
    )
    key_prefix: str = Field(
        default="newswire",
        description="Prefix of every Redis key and stream (`<prefix>:articles`, `<prefix>:dead`), "
        "of the task queue (`<prefix>.articles`) and of the broker's keys on Redis: deployments "
        "with different prefixes share one Redis database without taking each other's tasks "
        "(on RabbitMQ, give each deployment its own vhost).",
    )
    stream_maxlen: int = Field(
        default=100_000,
        ge=1000,
        description="Approximate maximum length of the article stream (XADD MAXLEN ~); "
        "about 6.4 KB of Redis memory per article (docs/operations.md, sizing).",
    )
    dead_stream_maxlen: int = Field(
        default=100_000,
        ge=100,
        description="Approximate maximum length of the dead-letter stream (XADD MAXLEN ~).",
    )
    dedup_ttl_days: float = Field(
        default=30.0,
        gt=0,
        description="How long the last published version of an article (a hash of its "
        "consumer-visible fields) is remembered; a redelivery after that would publish again "
        "as `article.created`.",
    )
    embedded_redis_port: int = Field(
        default=6379,
        ge=0,
        le=65535,
        description="Port of the embedded Redis server started by `newswire run` (0: a free "
        "port). `newswire run` prints the URL; other commands reach it through "
        "NEWSWIRE_REDIS_URL, or by default when it is 6379.",
    )
    data_dir: str = Field(
        default=".newswire",
        description="Data directory of the embedded Redis server (AOF files) for `newswire run`.",
    )

    # --- HTTP fetching -----------------------------------------------------------------
    allow_private_networks: bool = Field(
        default=False,
        description="Allow fetching from private, loopback, link-local and other non-public "
        "addresses, and article images / feed links pointing at them. Off by default; tests "
        "and local demos turn it on.",
    )
    allowed_networks: Annotated[list[IPNetwork], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated CIDR list of otherwise refused networks that may be "
        "fetched from (and that article images and feed links may point at), e.g. "
        "`127.0.0.0/8,10.1.0.0/16` (plain text, not JSON).",
    )
    user_agent: str = Field(
        default="newswire/0.1 (+https://github.com/newswire/newswire)",
        description="User-Agent header sent with every request.",
    )
    contact_url: str | None = Field(
        default=None,
        description="Contact URL appended to the User-Agent, so publishers can reach the operator.",
    )
    fetch_timeout: float = Field(
        default=20.0,
        gt=0,
        description="Total deadline in seconds for one HTTP request, redirects and body "
        "included. Must be below task_soft_time_limit and poll_lease.",
    )
    connect_timeout: float = Field(
        default=5.0, gt=0, description="Deadline in seconds for one TCP/TLS connect."
    )
    max_redirects: int = Field(default=5, ge=0, le=20, description="Redirects followed at most.")
    max_page_bytes: int = Field(
        default=5_000_000,
        ge=10_000,
        description="Largest article page accepted, in bytes, on the wire and after decompression.",
    )
    max_feed_bytes: int = Field(
        default=10_000_000,
        ge=10_000,
        description="Largest feed accepted, in bytes, on the wire and after decompression.",
    )

    allow_insecure_redirects: bool = Field(
        default=False,
        description="Follow a redirect from an https URL to a plain http one. Off: such a "
        "fetch is dead-lettered as `insecure_redirect`.",
    )
    min_fetch_rate: float = Field(
        default=1024.0,
        ge=0,
        description="Slowest an article page may arrive, in bytes per second from the first "
        "byte of the response on (0: no minimum). Slower is cut and dead-lettered as `too_slow`.",
    )
    min_fetch_rate_grace: float = Field(
        default=5.0,
        gt=0,
        description="Seconds after a response's first byte before NEWSWIRE_MIN_FETCH_RATE "
        "applies (a dripping page is cut after about this long).",
    )
    article_per_host: int = Field(
        default=2,
        ge=1,
        description="Article pages of one host fetched at once by all workers together "
        "(a slot shared in Redis; feed polls have NEWSWIRE_POLL_PER_HOST).",
    )
    article_host_wait: float = Field(
        default=30.0,
        gt=0,
        description="Longest a task waits for a free per-host slot before it is sent again "
        "for later, no retry counted (bounded by task_soft_time_limit minus the fetch deadline).",
    )
    robots_txt: bool = Field(
        default=True,
        description="Honour robots.txt for article fetches (`blocked_by_robots`). Turn off "
        "only for sites the operator has permission to fetch.",
    )
    robots_user_agent: str | None = Field(
        default=None,
        description="The user-agent token matched against robots.txt groups; unset: the "
        "product name of NEWSWIRE_USER_AGENT (`newswire`).",
    )
    robots_cache_ttl: float = Field(
        default=86400.0,
        gt=0,
        le=86400.0,
        description="Seconds a host's robots.txt is cached in Redis (RFC 9309: at most a day).",
    )
    robots_error_ttl: float = Field(
        default=300.0,
        gt=0,
        description="Seconds an unreachable robots.txt (5xx, timeout, connection error: "
        "complete disallow, RFC 9309) is remembered before it is fetched again.",
    )
    robots_timeout: float = Field(
        default=5.0, gt=0, description="Total deadline in seconds of one robots.txt fetch."
    )
    robots_max_bytes: int = Field(
        default=500_000,
        ge=10_000,
        description="Largest robots.txt read, in bytes (RFC 9309: at least 500 KiB); a "
        "larger one is refused as unreachable.",
    )
    max_text_chars: int = Field(
        default=200_000,
        ge=1000,
        description="Longest article `text` published, in characters; a longer body is cut "
        "at a paragraph boundary.",
    )
    max_entry_content_chars: int = Field(
        default=100_000,
        ge=1000,
        description="Longest feed-entry `content_html` carried in a task message, in "
        "characters; longer content is cut at a tag boundary.",
    )

    # --- Extraction --------------------------------------------------------------------
    max_html_depth: int = Field(
        default=200,
        ge=20,
        description="Pages nested deeper than this are refused (`hostile_content`).",
    )
    min_text_chars: int = Field(
        default=200,
        ge=0,
        description="Extracted body shorter than this (and no usable feed content) is "
        "dead-lettered as `extraction_empty`.",
    )

    # --- Story identity (near-duplicates, docs/duplicates.md) ---------------------------
    duplicates: Literal["publish", "skip"] = Field(
        default="publish",
        description="What happens to a near-duplicate of a story already seen (a syndicated "
        "or republished copy): `publish` puts it on the article stream with `duplicate_of` "
        "set to the original's id; `skip` leaves it off the stream (it is counted in metrics "
        "and `newswire status`).",
    )
    duplicates_window_days: int = Field(
        default=7,
        ge=1,
        le=90,
        description="Days a story stays in the near-duplicate index: a copy published later "
        "than this after its original is not recognised. Index memory grows with it "
        "(docs/operations.md, sizing).",
    )
    duplicates_min_words: int = Field(
        default=50,
        ge=10,
        description="Texts with fewer distinct word shingles (about words) than this are never "
        "indexed and never marked as a duplicate: too short to tell a copy from a shared "
        "standard paragraph.",
    )
    duplicates_daily_articles: int = Field(
        default=20_000,
        ge=100,
        description="Articles a day you expect; sizes the index's day buckets so that Redis "
        "keeps them in its compact encoding (about 0.8 KB per indexed article). More still "
        "works, at up to twice the memory per article (docs/duplicates.md).",
    )

    # --- Poller ------------------------------------------------------------------------
    poll_interval_min: float = Field(
        default=60.0, gt=0, description="Shortest interval between two polls of one feed (s)."
    )
    poll_interval_max: float = Field(
        default=3600.0, gt=0, description="Longest interval between two polls of one feed (s)."
    )
    poll_interval_default: float = Field(
        default=300.0,
        gt=0,
        description="Interval of a feed with no history yet (s); between poll_interval_min "
        "and poll_interval_max.",
    )
    poll_concurrency: int = Field(
        default=100, ge=1, description="Feeds fetched at once by one poller process."
    )
    poll_per_host: int = Field(
        default=2, ge=1, description="Feeds of one host fetched at once by one poller process."
    )
    poll_lease: float = Field(
        default=120.0,
        gt=0,
        description="Seconds a claimed feed stays reserved for the poller that claimed it "
        "(on Redis' clock; renewed before its entries are enqueued); a poller that dies "
        "releases its feeds after this long. Must exceed fetch_timeout.",
    )
    poll_tick: float = Field(
        default=1.0, gt=0, description="Seconds between two scheduling ticks of the poller."
    )
    max_items_per_poll: int = Field(
        default=200,
        ge=1,
        description="Entries of one feed document considered per poll: the newest, by date "
        "when the items have dates (else the first in document order).",
    )
    seen_per_feed: int = Field(
        default=2000,
        ge=10,
        description="Entry ids remembered per feed (bounded); must exceed max_items_per_poll.",
    )
    feed_failure_threshold: int = Field(
        default=5,
        ge=1,
        description="Consecutive transient failures after which a `feed.failed` entry is written.",
    )
    republish_updated: bool = Field(
        default=True,
        description="Re-fetch an entry whose feed content changed, publishing `article.updated` "
        "when the article text changed.",
    )

    # --- Sitemaps -----------------------------------------------------------------------
    sitemap_window_days: float = Field(
        default=2.0,
        gt=0,
        description="Sitemap entries are taken only when their date (news:publication_date, "
        "else lastmod) is this recent; undated entries are skipped (Google News sitemaps "
        "list two days).",
    )
    sitemap_max_entries: int = Field(
        default=1000,
        ge=1,
        description="Entries of one sitemap (its index's children together) taken per poll, "
        "newest first; must not exceed seen_per_feed.",
    )
    sitemap_max_children: int = Field(
        default=20,
        ge=1,
        le=1000,
        description="Child sitemaps of a sitemap index fetched per poll: those modified "
        "within the window (or undated), newest first.",
    )

    # --- WebSub -------------------------------------------------------------------------
    public_url: str | None = Field(
        default=None,
        description="Public base URL at which hubs reach the pollers' WebSub callback "
        "(e.g. `https://news.example.org`); each feed's callback is `<public_url>/websub/"
        "<feed id>`. Unset: WebSub is off and feeds are polled as usual.",
    )
    websub_listen: str = Field(
        default="0.0.0.0:8090",
        pattern=r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]*):\d{1,5}$",
        description="host:port on which each poller serves the WebSub callback (when "
        "NEWSWIRE_PUBLIC_URL is set); the public URL must lead there.",
    )
    websub_poll_interval: float = Field(
        default=3600.0,
        gt=0,
        description="Seconds between safety-net polls of a feed while its WebSub "
        "subscription is active (never shorter than the feed's own interval).",
    )
    websub_lease_seconds: int = Field(
        default=864_000,
        ge=60,
        description="Subscription lease asked of hubs (s); the hub decides, and leases are "
        "renewed when half the granted one has passed.",
    )

    # --- Workers -----------------------------------------------------------------------
    task_soft_time_limit: float = Field(
        default=60.0, gt=0, description="Soft time limit of one article task (s)."
    )
    task_time_limit: float = Field(
        default=90.0,
        gt=0,
        description="Hard time limit of one article task (s); the process is killed after it.",
    )
    visibility_timeout: float | None = Field(
        default=None,
        description="Seconds after which a task taken by a worker that died is redelivered. "
        "Unset: task_time_limit + 30 (see docs/operations.md for the trade-off). Must "
        "exceed task_time_limit.",
    )
    task_max_retries: int = Field(
        default=4, ge=0, description="Retries of a transiently failing article task."
    )
    retry_backoff: float = Field(
        default=5.0, gt=0, description="Base of the exponential retry back-off (s), with jitter."
    )
    max_deliveries: int = Field(
        default=3,
        ge=1,
        description="Deliveries of one task whose worker died (e.g. a poison page) before it "
        "is dead-lettered instead of run again.",
    )
    worker_concurrency: int | None = Field(
        default=None, ge=1, description="Worker processes per `newswire worker`; unset: CPU count."
    )
    worker_max_tasks_per_child: int = Field(
        default=1000, ge=1, description="Tasks a worker process runs before it is replaced."
    )
    worker_max_memory_per_child_kb: int = Field(
        default=400_000,
        ge=10_000,
        description="Resident memory (KiB) after which a worker process is replaced.",
    )

    # --- Observability -----------------------------------------------------------------
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", description="Lowest log level written."
    )
    log_format: Literal["auto", "json", "console"] = Field(
        default="auto",
        description="`json` (one object a line), `console` (readable), or `auto`: console on "
        "a terminal, JSON otherwise.",
    )
    metrics_port: int | None = Field(
        default=None,
        description="Port of the HTTP endpoint serving /metrics, /livez and /readyz; unset: off.",
    )
    metrics_host: str = Field(
        default="0.0.0.0",  # noqa: S104 - containers must expose it
        description="Address the metrics/health endpoint listens on (`127.0.0.1`: this "
        "machine only).",
    )
    metrics_cache_seconds: float = Field(
        default=2.0,
        ge=0,
        description="How long /metrics and /readyz reuse what they last read from Redis "
        "(s); 0: read on every request. Any number of scrapes costs Redis one reading per "
        "this many seconds.",
    )

    @field_validator("allowed_networks", mode="before")
    @classmethod
    def _split_networks(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @model_validator(mode="after")
    def _settings_work_together(self) -> Settings:
        problems = conflicts(self)
        if problems:
            raise ValueError("settings that cannot work together: " + "; ".join(problems))
        return self

    @model_validator(mode="after")
    def _public_url_is_http(self) -> Settings:
        if self.public_url is not None and not self.public_url.lower().startswith(
            ("http://", "https://")
        ):
            raise ValueError(f"public_url must be an http(s) URL, not {self.public_url!r}")
        return self

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """A copy with ``update`` applied, validated again (combinations included) and
        without the values derived from this one (``effective_redis_url`` and the other
        cached properties would otherwise be carried over stale)."""
        del deep  # a validated copy shares nothing mutable
        return type(self).model_validate({**self.model_dump(), **(update or {})})

    @model_validator(mode="after")
    def _usable_urls(self) -> Settings:
        # An amqp:// URL as NEWSWIRE_REDIS_URL, or a broker URL of an unknown kind, cannot
        # work: refused at start rather than failing on the first Redis command.
        # (Plain fields here: a cached property computed now would survive model_copy.)
        redis_url = self.redis_url or DEFAULT_REDIS_URL
        try:
            connections.check_redis_url(redis_url)
            connections.broker_kind(self.broker_url or redis_url)
        except connections.ConnectionURLError as exc:
            raise ValueError(str(exc)) from None
        return self

    @cached_property
    def effective_redis_url(self) -> str:
        return self.redis_url or DEFAULT_REDIS_URL

    @cached_property
    def effective_broker_url(self) -> str:
        return self.broker_url or self.effective_redis_url

    @cached_property
    def broker_kind(self) -> connections.BrokerKind:
        return connections.broker_kind(self.effective_broker_url)

    @cached_property
    def article_queue(self) -> str:
        """The task queue of article tasks (``newswire.articles`` with the default prefix)."""
        return f"{self.key_prefix}.articles"

    @cached_property
    def effective_visibility_timeout(self) -> float:
        if self.visibility_timeout is not None:
            return self.visibility_timeout
        return self.task_time_limit + 30.0

    @cached_property
    def full_user_agent(self) -> str:
        if self.contact_url:
            return f"{self.user_agent} {self.contact_url}".strip()
        return self.user_agent

    @cached_property
    def robots_token(self) -> str:
        """The user-agent token robots.txt groups are matched against."""
        return self.robots_user_agent or self.user_agent.split("/", 1)[0].strip() or "newswire"

    @cached_property
    def host_slot_wait(self) -> float:
        """How long a task waits for a per-host slot: ``article_host_wait``, and never so
        long that the page fetch after it could outlive the soft time limit."""
        room = self.task_soft_time_limit - self.fetch_timeout
        return max(0.0, min(self.article_host_wait, room))

    @cached_property
    def articles_stream(self) -> str:
        return f"{self.key_prefix}:articles"

    @cached_property
    def dead_stream(self) -> str:
        return f"{self.key_prefix}:dead"


def _env(name: str) -> str:
    return f"NEWSWIRE_{name.upper()}"


def conflicts(s: Settings) -> list[str]:
    """Combinations of settings that break the service, each naming its settings."""
    out = []
    if not s.poll_interval_min <= s.poll_interval_default <= s.poll_interval_max:
        out.append(
            f"{_env('poll_interval_min')} ({s.poll_interval_min:g} s) <= "
            f"{_env('poll_interval_default')} ({s.poll_interval_default:g} s) <= "
            f"{_env('poll_interval_max')} ({s.poll_interval_max:g} s) must hold"
        )
    if s.seen_per_feed <= s.max_items_per_poll:
        out.append(
            f"{_env('seen_per_feed')} ({s.seen_per_feed}) must exceed "
            f"{_env('max_items_per_poll')} ({s.max_items_per_poll}): entries of one poll "
            "would be forgotten and enqueued again at every poll"
        )
    # A seen-set smaller than one poll's entries forgets some at once: polled again, they
    # would be enqueued again.
    if s.sitemap_max_entries > s.seen_per_feed:
        out.append(
            f"{_env('sitemap_max_entries')} ({s.sitemap_max_entries}) must not exceed "
            f"{_env('seen_per_feed')} ({s.seen_per_feed})"
        )
    # Above the hard limit, Celery refuses to send the retry of a task (Task.retry then
    # rejects the message without requeue: it is lost, not dead-lettered) and the prefork
    # pool enforces the hard limit only once the soft one has passed. Equal, a task may be
    # retried and requeued by the hard limit at once.
    if s.task_soft_time_limit >= s.task_time_limit:
        out.append(
            f"{_env('task_soft_time_limit')} ({s.task_soft_time_limit:g} s) must be below "
            f"{_env('task_time_limit')} ({s.task_time_limit:g} s)"
        )
    if s.effective_visibility_timeout <= s.task_time_limit:
        out.append(
            f"{_env('visibility_timeout')} ({s.effective_visibility_timeout:g} s) must exceed "
            f"{_env('task_time_limit')} ({s.task_time_limit:g} s): a task still running would "
            "be delivered to a second worker"
        )
    if s.fetch_timeout >= s.task_soft_time_limit:
        out.append(
            f"{_env('fetch_timeout')} ({s.fetch_timeout:g} s) must be below "
            f"{_env('task_soft_time_limit')} ({s.task_soft_time_limit:g} s): a slow page "
            "would end as a killed task instead of a timeout"
        )
    if s.poll_lease <= s.fetch_timeout:
        out.append(
            f"{_env('poll_lease')} ({s.poll_lease:g} s) must exceed {_env('fetch_timeout')} "
            f"({s.fetch_timeout:g} s): a claim would end while its feed is still being fetched"
        )
    return out
