"""No secret in what people read: URLs' passwords masked in texts, log lines and errors."""

from __future__ import annotations

import json
import logging

import pytest

from service.logs import configure_logging, get_logger
from service.redaction import redact
from service.settings import Settings


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("redis://:hunter2@redis.internal:6379/0", "redis://:****@redis.internal:6379/0"),
        ("rediss://app:hunter2@r:6380/1", "rediss://app:****@r:6380/1"),
        ("amqp://guest:hunter2@mq//", "amqp://guest:****@mq//"),
        ("redis://hunter2@r/0", "redis://****@r/0"),
        ("redis://r:6379/0?password=hunter2&db=1", "redis://r:6379/0?password=****&db=1"),
        (
            "Error connecting to redis://u:hunter2@a:1/0 and sentinel://:hunter2@b:26379",
            "Error connecting to redis://u:****@a:1/0 and sentinel://:****@b:26379",
        ),
        ("https://example.com/feed?x=1", "https://example.com/feed?x=1"),
        ("https://example.com/@user/feed", "https://example.com/@user/feed"),
        ("no url here", "no url here"),
    ],
)
def test_credentials_in_a_text_are_masked(text: str, shown: str) -> None:
    assert redact(text) == shown


def test_log_lines_never_carry_a_password(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(Settings(log_format="json"), process="test")
    get_logger("t").warning("redis_unavailable", error="redis://:hunter2@r:1/0 refused")
    logging.getLogger("kombu").error("Cannot connect to redis://u:hunter2@r:1/0")
    try:
        raise ConnectionError("Error connecting to redis://u:hunter2@r:1/0")
    except ConnectionError:
        get_logger("t").exception("poll_bug")
    err = capsys.readouterr().err
    assert "hunter2" not in err
    lines = [json.loads(line) for line in err.splitlines()][:2]
    assert [line["event"] for line in lines] == [
        "redis_unavailable",
        "Cannot connect to redis://u:****@r:1/0",
    ]
    assert lines[0]["error"] == "redis://:****@r:1/0 refused"
