"""Fault-injection and hostile-input suite: real redis-server, real `newswire` processes,
a misbehaving local origin.

Short variants always run. Long variants carry ``@pytest.mark.slow`` and run only with
``NEWSWIRE_LONG_TESTS=1`` (several hundred articles, more kills, longer outages, 5,000 pages).
Figures: ``pytest tests/reliability -s`` prints them; ``python -m bench.faults`` tabulates.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from service.embedded_redis import EmbeddedRedis
from tests.support.faults import dedicated_redis

LONG = os.environ.get("NEWSWIRE_LONG_TESTS", "") not in ("", "0", "false", "no")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if LONG:
        return
    skip = pytest.mark.skip(reason="long variant: set NEWSWIRE_LONG_TESTS=1")
    here = Path(__file__).parent
    for item in items:
        if "slow" in item.keywords and here in Path(str(item.fspath)).parents:
            item.add_marker(skip)


@pytest.fixture
def aof_redis(tmp_path: Path) -> Iterator[EmbeddedRedis]:
    """A Redis of this test's own with AOF on, which the test may stop and restart."""
    server = dedicated_redis(tmp_path / "redis-aof")
    with server:
        yield server


@pytest.fixture
def aof_client(aof_redis: EmbeddedRedis) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(aof_redis.url, decode_responses=True, socket_connect_timeout=2)
    yield client
    client.close()
