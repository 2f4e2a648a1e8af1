"""Settings that cannot work together are refused at start, naming the settings."""

from __future__ import annotations

import pytest

from service.settings import Settings
from tests.reliability.harness import FAULT_ENV
from tests.support.processes import newswire_env


@pytest.mark.parametrize(
    ("values", "named"),
    [
        (
            {"poll_interval_min": 600, "poll_interval_default": 300},
            ["NEWSWIRE_POLL_INTERVAL_MIN", "NEWSWIRE_POLL_INTERVAL_DEFAULT"],
        ),
        (
            {"poll_interval_default": 7200, "poll_interval_max": 3600},
            ["NEWSWIRE_POLL_INTERVAL_DEFAULT", "NEWSWIRE_POLL_INTERVAL_MAX"],
        ),
        (
            {"seen_per_feed": 200, "max_items_per_poll": 200},
            ["NEWSWIRE_SEEN_PER_FEED", "NEWSWIRE_MAX_ITEMS_PER_POLL"],
        ),
        (
            {"visibility_timeout": 60, "task_time_limit": 90},
            ["NEWSWIRE_VISIBILITY_TIMEOUT", "NEWSWIRE_TASK_TIME_LIMIT"],
        ),
        (
            {"visibility_timeout": 90, "task_time_limit": 90},
            ["NEWSWIRE_VISIBILITY_TIMEOUT", "NEWSWIRE_TASK_TIME_LIMIT"],
        ),
        (
            {"poll_lease": 20, "fetch_timeout": 20},
            ["NEWSWIRE_POLL_LEASE", "NEWSWIRE_FETCH_TIMEOUT"],
        ),
        (
            {"fetch_timeout": 60, "task_soft_time_limit": 60, "poll_lease": 120},
            ["NEWSWIRE_FETCH_TIMEOUT", "NEWSWIRE_TASK_SOFT_TIME_LIMIT"],
        ),
        (
            {"sitemap_max_entries": 3000, "seen_per_feed": 2000},
            ["NEWSWIRE_SITEMAP_MAX_ENTRIES", "NEWSWIRE_SEEN_PER_FEED"],
        ),
        (
            {"task_soft_time_limit": 90, "task_time_limit": 90},
            ["NEWSWIRE_TASK_SOFT_TIME_LIMIT", "NEWSWIRE_TASK_TIME_LIMIT"],
        ),
    ],
)
def test_combinations_that_break_the_service_are_refused(
    values: dict[str, float], named: list[str]
) -> None:
    with pytest.raises(ValueError, match="cannot work together") as refused:
        Settings(**values)  # type: ignore[arg-type]
    for name in named:
        assert name in str(refused.value)


def test_every_conflict_is_reported_at_once() -> None:
    with pytest.raises(ValueError) as refused:
        Settings(poll_interval_min=900, seen_per_feed=10, max_items_per_poll=50, poll_lease=5)
    message = str(refused.value)
    for name in ("POLL_INTERVAL_MIN", "SEEN_PER_FEED", "POLL_LEASE"):
        assert f"NEWSWIRE_{name}" in message


def test_the_defaults_and_an_unset_visibility_timeout_work_together() -> None:
    settings = Settings(task_time_limit=300, task_soft_time_limit=200)
    assert settings.effective_visibility_timeout == 330


def test_the_settings_the_tests_run_with_are_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    """tests/conftest.py builds its own in the fixture; the subprocesses' environments here."""
    for env in (newswire_env("redis://127.0.0.1:1/0"), newswire_env("redis://x", **FAULT_ENV)):
        for key, value in env.items():
            if key.startswith("NEWSWIRE_"):
                monkeypatch.setenv(key, value)
        assert Settings().redis_url


def test_a_copy_derives_its_values_again_and_is_validated() -> None:
    """``model_copy`` must not carry over values cached from the original (the embedded
    Redis' URL swapped in by `newswire run` was once ignored that way)."""
    original = Settings(redis_url=None)
    assert original.effective_redis_url == "redis://127.0.0.1:6379/0"
    copy = original.model_copy(update={"redis_url": "redis://127.0.0.1:7777/0", "key_prefix": "x"})
    assert copy.effective_redis_url == "redis://127.0.0.1:7777/0"
    assert copy.articles_stream == "x:articles"
    with pytest.raises(ValueError, match="NEWSWIRE_POLL_INTERVAL_MIN"):
        original.model_copy(update={"poll_interval_min": 10 * original.poll_interval_max})
