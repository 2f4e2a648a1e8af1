"""Session-wide fixtures: a real redis-server on a free port, a local HTTP origin, settings."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from service.embedded_redis import EmbeddedRedis
from service.settings import Settings
from tests.support.corpus import corpus_root
from tests.support.engines import RabbitMQ, rabbitmq_available
from tests.support.origin import Origin

REPO = Path(__file__).resolve().parent.parent


def corpus_dir(kind: str) -> Path:
    """``tests/data/corpus/<kind>``; fails loudly (never skips) when the corpus is missing."""
    path = corpus_root() / kind
    if not path.is_dir():
        pytest.fail(f"corpus not found at {path}: check NEWSWIRE_CORPUS or tests/data/corpus")
    return path


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedRedis]:
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis"), appendonly=False)
    with server:
        yield server


@pytest.fixture
def redis_client(redis_server: EmbeddedRedis) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_server.url, decode_responses=True)
    client.flushall()
    yield client
    client.close()


@pytest.fixture
def origin() -> Iterator[Origin]:
    with Origin() as server:
        yield server


@pytest.fixture
def settings(redis_server: EmbeddedRedis) -> Settings:
    """Settings for tests: the session's Redis, loopback allowed (opt-in), short limits."""
    return Settings(
        redis_url=redis_server.url,
        allowed_networks="127.0.0.0/8",  # type: ignore[arg-type]
        fetch_timeout=5.0,
        connect_timeout=2.0,
        retry_backoff=0.2,
        poll_interval_min=1.0,
        poll_interval_default=2.0,
        poll_tick=0.2,
        poll_lease=10.0,
        min_text_chars=50,
    )


@pytest.fixture(scope="session")
def rabbitmq(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RabbitMQ]:
    """One RabbitMQ node for the whole session (started on first use); tests take a vhost."""
    if not rabbitmq_available():
        pytest.fail("rabbitmq-server is not installed: run scripts/ensure-engines.sh (as root)")
    server = RabbitMQ(tmp_path_factory.mktemp("rabbitmq"))
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture
def amqp_url(rabbitmq: RabbitMQ) -> str:
    """The URL of a vhost of this test's own on the session's RabbitMQ."""
    return rabbitmq.url(rabbitmq.add_vhost())
