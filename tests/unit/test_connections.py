"""Redis and broker URLs: Sentinel URLs parsed, kombu's form derived, secrets masked, and
combinations that cannot work refused when the settings are built."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from service.cli.common import redis_location
from service.connections import (
    ConnectionURLError,
    broker_kind,
    kombu_broker,
    parse_sentinel_url,
    redis_client,
)
from service.queue import broker_config, broker_queue_key, broker_transport_options, task_queues
from service.settings import Settings


def test_sentinel_url_with_several_sentinels_service_and_db() -> None:
    parsed = parse_sentinel_url("redis+sentinel://:s3cret@a.example:26379,b.example:26380/main/2")
    assert parsed.sentinels == (("a.example", 26379), ("b.example", 26380))
    assert parsed.service == "main"
    assert parsed.db == 2
    assert parsed.password == "s3cret"


def test_sentinel_url_db_defaults_to_0() -> None:
    parsed = parse_sentinel_url("redis+sentinel://10.0.0.1:26379/mymaster")
    assert (parsed.sentinels, parsed.service, parsed.db) == ((("10.0.0.1", 26379),), "mymaster", 0)


@pytest.mark.parametrize(
    "url",
    [
        "redis+sentinel://a.example:26379",  # no service name
        "redis+sentinel://a.example/main",  # no port
        "redis+sentinel://a.example:26379/main/x",  # db not a number
        "redis+sentinel://a.example:26379/main/0/extra",
    ],
)
def test_bad_sentinel_urls_are_refused(url: str) -> None:
    with pytest.raises(ConnectionURLError):
        parse_sentinel_url(url)


def test_kombu_gets_one_sentinel_url_per_sentinel_and_the_master_name() -> None:
    url, options = kombu_broker("redis+sentinel://:pw@a:1,b:2/main/3")
    assert url == "sentinel://:pw@a:1;sentinel://:pw@b:2/3"
    assert options == {"master_name": "main"}
    assert kombu_broker("amqp://u:p@h:5672/v") == ("amqp://u:p@h:5672/v", {})


def test_url_errors_never_hold_the_password() -> None:
    for url in ("redis+sentinel://:hunter2@a:1", "kafka://u:hunter2@k:9092"):
        with pytest.raises(ConnectionURLError) as info:
            broker_kind(url)
        assert "hunter2" not in str(info.value)


def test_an_amqp_url_as_the_redis_url_is_refused_without_its_password() -> None:
    with pytest.raises(ValueError, match="NEWSWIRE_BROKER_URL") as info:
        Settings(redis_url="amqp://user:hunter2@rabbit:5672/")
    assert "hunter2" not in str(info.value)


def test_an_unknown_broker_scheme_is_refused() -> None:
    with pytest.raises(ValueError, match="not a Redis URL"):
        Settings(broker_url="kafka://k:9092")
    with pytest.raises(ValueError, match="SERVICE_NAME"):
        Settings(redis_url="redis+sentinel://s:26379")


def test_the_broker_defaults_to_the_redis_url() -> None:
    settings = Settings(redis_url="redis://r:6379/1")
    assert settings.effective_broker_url == "redis://r:6379/1"
    assert settings.broker_kind == "redis"
    assert Settings(broker_url="amqp://g:g@h:5672/v").broker_kind == "amqp"
    assert Settings(redis_url="redis+sentinel://s:1/m").broker_kind == "sentinel"


def test_redis_client_of_a_sentinel_url_asks_the_sentinels_for_the_primary() -> None:
    client = redis_client("redis+sentinel://127.0.0.1:1/main/4", socket_timeout=1)
    pool = client.connection_pool
    assert pool.service_name == "main"  # type: ignore[attr-defined]
    assert pool.connection_kwargs["db"] == 4
    assert (
        client.connection_pool.sentinel_manager.sentinels[0].connection_pool.connection_kwargs[  # type: ignore[attr-defined]
            "port"
        ]
        == 1
    )


def test_a_redis_broker_connection_has_timeouts() -> None:
    """kombu waits forever for a reply by default; the broker's socket timeout is the
    setting, above the workers' 1 s BRPOP (a shorter one is refused at start)."""
    options = broker_transport_options(Settings(redis_url="redis://r:6379/0"))
    assert options["socket_timeout"] == Settings().broker_socket_timeout == 15.0
    assert options["socket_connect_timeout"] == 5.0
    with pytest.raises(ValidationError, match="broker_socket_timeout"):
        Settings(broker_socket_timeout=1)


def test_the_key_prefix_names_the_queue_and_the_broker_keys_on_redis() -> None:
    settings = Settings(redis_url="redis://r:6379/0", key_prefix="blue")
    assert settings.article_queue == "blue.articles"
    assert broker_transport_options(settings)["global_keyprefix"] == "blue:"
    assert broker_queue_key(settings) == "blue:blue.articles"
    assert [q.name for q in task_queues(settings)] == ["blue.articles"]


def test_rabbitmq_queues_are_quorum_queues_with_a_delivery_limit() -> None:
    settings = Settings(broker_url="amqp://g:g@h:5672/v", key_prefix="blue", max_deliveries=3)
    main, overflow = task_queues(settings)
    assert main.name == "blue.articles"
    assert main.queue_arguments["x-queue-type"] == "quorum"
    assert main.queue_arguments["x-delivery-limit"] > settings.max_deliveries
    assert main.queue_arguments["x-dead-letter-routing-key"] == overflow.name
    assert overflow.queue_arguments == {"x-queue-type": "quorum"}
    config = broker_config(settings)
    assert config["broker_transport_options"] == {"confirm_publish": True}
    assert config["task_default_queue_type"] == "quorum"
    assert broker_queue_key(settings) is None  # the queue is not in the data Redis


def test_the_console_names_a_sentinel_primary_without_its_password() -> None:
    where = redis_location("redis+sentinel://:hunter2@a:1,b:2/main/3")
    assert where == "main/3 via Sentinel a:1,b:2"
    assert redis_location("redis://:hunter2@r:6380/2") == "r:6380/2"
