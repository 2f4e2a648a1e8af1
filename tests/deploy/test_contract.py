"""docs/asyncapi.yaml: valid AsyncAPI 3.0, and true: entries really written by
``service.streams`` to a real Redis match its message schemas, and its codes match the code.

The AsyncAPI 3.0.0 JSON Schema is vendored (tests/deploy/schemas/asyncapi-3.0.0.json, from the
npm package @asyncapi/specs; see schemas/README.md), so validation needs no network.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import redis

from service.errors import Reason
from service.hashing import short_hash
from service.models import Article, DeadLetter, ExtractorInfo, FeedRef, SiteRef
from service.settings import Settings
from service.streams import Streams
from tests.deploy.helpers import REPO, SCHEMAS, load_yaml

ASYNCAPI = REPO / "docs" / "asyncapi.yaml"


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    data: dict[str, Any] = load_yaml(ASYNCAPI)
    return data


def asyncapi_validator() -> jsonschema.Draft7Validator:
    schema = json.loads((SCHEMAS / "asyncapi-3.0.0.json").read_text())
    return jsonschema.Draft7Validator(schema)


def message_validator(doc: dict[str, Any], schema_name: str) -> jsonschema.Draft7Validator:
    """A validator for ``#/components/schemas/<name>`` with the document's local $refs."""
    root = {"$ref": f"#/components/schemas/{schema_name}", "components": doc["components"]}
    return jsonschema.Draft7Validator(root)


def article_schema_path(doc: dict[str, Any]) -> Path:
    ref = doc["components"]["schemas"]["articleEvent"]["properties"]["data"]["contentSchema"]
    return (ASYNCAPI.parent / ref["$ref"]).resolve()


def article_schema(doc: dict[str, Any]) -> dict[str, Any]:
    """The Article JSON Schema asyncapi.yaml references; the model's own until it is
    generated (test_referenced_article_schema_exists reports that)."""
    path = article_schema_path(doc)
    if not path.exists():
        return Article.model_json_schema()
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def test_referenced_article_schema_exists(doc: dict[str, Any]) -> None:
    path = article_schema_path(doc)
    assert path == REPO / "docs" / "schema" / "article.v1.json"
    if not path.exists():
        pytest.skip(
            f"{path.relative_to(REPO)} (referenced by asyncapi.yaml) is not generated "
            "yet: `make schema` writes it from service.models.Article"
        )
    assert json.loads(path.read_text())["title"] == "Article"


def test_valid_asyncapi_3(doc: dict[str, Any]) -> None:
    assert doc["asyncapi"] == "3.0.0"
    errors = list(asyncapi_validator().iter_errors(doc))
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors]


def test_the_validator_is_not_vacuous(doc: dict[str, Any]) -> None:
    bad = json.loads(json.dumps(doc))
    bad["channels"]["articles"]["address"] = 42
    bad["operations"]["publishArticle"]["action"] = "publish"  # AsyncAPI 2 wording
    assert len(list(asyncapi_validator().iter_errors(bad))) >= 2


def test_local_references_resolve(doc: dict[str, Any]) -> None:
    def walk(node: object) -> list[str]:
        if isinstance(node, dict):
            refs = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
            return refs + [r for v in node.values() for r in walk(v)]
        if isinstance(node, list):
            return [r for v in node for r in walk(v)]
        return []

    for ref in walk(doc):
        if not ref.startswith("#/"):
            continue
        node: Any = doc
        for part in ref[2:].split("/"):
            assert part in node, f"unresolved {ref}"
            node = node[part]


def test_channels_are_the_configured_streams(doc: dict[str, Any]) -> None:
    settings = Settings()
    assert doc["channels"]["articles"]["address"] == settings.articles_stream
    assert doc["channels"]["dead"]["address"] == settings.dead_stream


def test_reason_codes_match_the_code(doc: dict[str, Any]) -> None:
    assert doc["components"]["schemas"]["reason"]["enum"] == [r.value for r in Reason]


def test_dead_letter_fields_match_the_model(doc: dict[str, Any]) -> None:
    schema = doc["components"]["schemas"]["deadLetter"]
    letter = DeadLetter(
        type="feed.failed",
        url="https://x.example/feed",
        reason="timeout",
        detail="d",
        failed_at=datetime.now(UTC),
    )
    assert set(schema["properties"]) == set(letter.to_fields()) == set(schema["required"])


@pytest.mark.parametrize("message", ["articleCreated", "articleFailed"])
def test_examples_match_their_schemas(doc: dict[str, Any], message: str) -> None:
    spec = doc["components"]["messages"][message]
    schema_name = spec["payload"]["$ref"].rsplit("/", 1)[1]
    for example in spec["examples"]:
        message_validator(doc, schema_name).validate(example["payload"])
        if schema_name == "articleEvent":
            jsonschema.validate(json.loads(example["payload"]["data"]), article_schema(doc))


def article(i: int, text: str) -> Article:
    url = f"https://news.example/story/{i}"
    return Article(
        id=short_hash(url),
        url=url,
        canonical_url=url,
        feed=FeedRef(url="https://news.example/rss", title="Example"),
        site=SiteRef(name="Example", domain="news.example"),
        title=f"Story {i}",
        authors=["A. Reporter"],
        published_at=datetime(2026, 11, 25, 9, 30, tzinfo=UTC),
        language="en",
        summary="s",
        text=text,
        word_count=len(text.split()),
        tags=["t"],
        content_hash=short_hash(text),
        fetched_at=datetime.now(UTC),
        extractor=ExtractorInfo(name="test", version="0"),
    )


def test_real_stream_entries_match_the_contract(
    doc: dict[str, Any], redis_client: redis.Redis, settings: Settings
) -> None:
    streams = Streams(redis_client, settings)
    streams.publish(article(1, "First version of the story."))
    streams.publish(article(1, "Second version of the story."))
    streams.publish(article(1, "Second version of the story."))  # duplicate: not written
    streams.dead_letter(
        DeadLetter(
            type="article.failed",
            url="http://10.0.0.1/",
            feed_url="",
            reason=Reason.BLOCKED_ADDRESS.value,
            detail="private",
            attempts=1,
            failed_at=datetime.now(UTC),
        )
    )
    events = [f for _i, f in redis_client.xrange(doc["channels"]["articles"]["address"])]
    assert [e["type"] for e in events] == ["article.created", "article.updated"]
    event_schema = message_validator(doc, "articleEvent")
    for event in events:
        event_schema.validate(event)
        data = json.loads(event["data"])
        jsonschema.validate(data, article_schema(doc))
        assert (data["id"], data["content_hash"]) == (event["id"], event["content_hash"])
    dead = [f for _i, f in redis_client.xrange(doc["channels"]["dead"]["address"])]
    assert len(dead) == 1
    message_validator(doc, "deadLetter").validate(dead[0])


ADDITIVE_FIELDS = {
    "image_caption": {"type": "string"},
    "image_credit": {"type": "string"},
    "section": {"type": "string"},
    "is_accessible_for_free": {"type": "boolean"},
}


def test_fields_added_in_v1_are_optional_and_documented(doc: dict[str, Any]) -> None:
    """A consumer of the first v1 never sees them required; contract.md names each."""
    schema = article_schema(doc)
    contract = (REPO / "docs" / "contract.md").read_text()
    for name, kind in ADDITIVE_FIELDS.items():
        assert name not in schema["required"]
        assert kind in schema["properties"][name]["anyOf"]
        assert {"type": "null"} in schema["properties"][name]["anyOf"]
        assert f"| `{name}` |" in contract
    older = json.loads(article(1, "Text of the story.").model_dump_json())
    for name in ADDITIVE_FIELDS:
        older.pop(name)
    jsonschema.validate(older, schema)  # an article written before the fields still validates
    stamped = article(2, "Text.").model_copy(
        update={"section": "World", "is_accessible_for_free": False, "image_caption": "c"}
    )
    jsonschema.validate(json.loads(stamped.model_dump_json()), schema)


def test_operations_send_on_both_channels(doc: dict[str, Any]) -> None:
    channels = {
        op["channel"]["$ref"] for op in doc["operations"].values() if op["action"] == "send"
    }
    assert channels == {"#/channels/articles", "#/channels/dead"}


def test_vendored_schema_is_documented() -> None:
    readme = (SCHEMAS / "README.md").read_text()
    assert "asyncapi-3.0.0.json" in readme
    assert Path(SCHEMAS / "asyncapi-LICENSE.txt").exists()
