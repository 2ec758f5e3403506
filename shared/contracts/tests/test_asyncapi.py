"""The AsyncAPI 3.0 document and the generated documents in docs/contracts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from benecomune_contracts import ALL_TOPICS, ContractEvent, all_contracts, build_asyncapi
from benecomune_contracts.generate import main, render_outputs, stale_outputs
from benecomune_contracts.schemas import dump_json
from pydantic import BaseModel

REPOSITORY = Path(__file__).resolve().parents[3]
DOCS = REPOSITORY / "docs" / "contracts"


def references(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from references(value)
    elif isinstance(node, list):
        for item in node:
            yield from references(item)


def resolve(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = document
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def test_the_document_is_asyncapi_3() -> None:
    document = build_asyncapi()
    assert document["asyncapi"] == "3.0.0"
    assert document["info"]["title"] == "Benecomune domain events"
    assert document["info"]["version"]
    assert document["defaultContentType"] == "application/json"
    assert document["servers"]["kafka"] == {
        "host": "127.0.0.1:9092",
        "protocol": "kafka",
        "description": document["servers"]["kafka"]["description"],
    }


def test_there_is_a_channel_per_topic_addressed_by_the_topic_name() -> None:
    channels = build_asyncapi()["channels"]
    assert set(channels) == {topic.name for topic in ALL_TOPICS}
    for topic in ALL_TOPICS:
        assert channels[topic.name]["address"] == topic.name
        binding = channels[topic.name]["bindings"]["kafka"]
        assert binding["partitions"] == topic.partitions
        assert binding["topicConfiguration"]["retention.ms"] == topic.effective_retention_ms


def test_there_is_a_message_per_registered_contract_on_its_topics_channel() -> None:
    document = build_asyncapi()
    assert set(document["components"]["messages"]) == {m.type_name for m in all_contracts()}
    for model in all_contracts():
        channel = document["channels"][model.topic]
        assert model.type_name in channel["messages"]
        message = resolve(document, channel["messages"][model.type_name]["$ref"])
        assert message["name"] == model.type_name
        assert message["contentType"] == "application/json"
        payload = resolve(document, message["payload"]["$ref"])
        assert set(payload["properties"]) == set(model.model_fields)
        headers = message["headers"]["allOf"]
        assert headers[1]["properties"]["ce_type"] == {"const": model.type_name}
        assert "ce_correlationid" in resolve(document, headers[0]["$ref"])["properties"]


def test_each_service_sends_on_its_topic() -> None:
    document = build_asyncapi()
    for topic in ALL_TOPICS:
        operations = [
            operation
            for operation in document["operations"].values()
            if operation["channel"] == {"$ref": f"#/channels/{topic.name}"}
        ]
        assert len(operations) == 1
        assert operations[0]["action"] == "send"
        assert len(operations[0]["messages"]) == len(document["channels"][topic.name]["messages"])


def test_every_reference_in_the_document_resolves() -> None:
    document = build_asyncapi()
    refs = list(references(document))
    assert refs
    for ref in refs:
        assert resolve(document, ref) is not None


def test_nested_models_are_hoisted_into_components() -> None:
    class Slot(BaseModel):
        starts_at: str

    class SlotsPublished(ContractEvent):
        type_name: ClassVar[str] = "benecomune.catalog.SlotsPublished.v1"
        topic: ClassVar[str] = "benecomune.catalog"
        slots: list[Slot]

    document = build_asyncapi([*all_contracts(), SlotsPublished])
    schemas = document["components"]["schemas"]
    assert "benecomune.catalog.SlotsPublished.v1.Slot" in schemas
    assert "$defs" not in schemas["benecomune.catalog.SlotsPublished.v1"]
    for ref in references(document):
        resolve(document, ref)


def test_a_contract_on_an_unknown_topic_cannot_be_documented() -> None:
    class Stray(ContractEvent):
        type_name: ClassVar[str] = "benecomune.pets.Stray.v1"
        topic: ClassVar[str] = "benecomune.pets"

    with pytest.raises(ValueError, match="unknown topic"):
        build_asyncapi([Stray])


def test_the_document_is_deterministic() -> None:
    assert dump_json(build_asyncapi()) == dump_json(build_asyncapi())
    assert list(json.loads(dump_json(build_asyncapi()))) == sorted(build_asyncapi())


def test_docs_contracts_is_up_to_date_with_the_code() -> None:
    stale = stale_outputs(DOCS)
    assert not stale, f"docs/contracts is out of date ({stale}): run `make contracts` and commit"


def test_generate_writes_the_asyncapi_document_and_a_schema_per_type(tmp_path: Path) -> None:
    assert main([str(tmp_path)]) == 0
    written = {str(path.relative_to(tmp_path)) for path in tmp_path.rglob("*.json")}
    assert written == {
        "asyncapi.json",
        *(f"schemas/{model.type_name}.json" for model in all_contracts()),
    }
    assert json.loads((tmp_path / "asyncapi.json").read_text()) == build_asyncapi()
    assert main(["--check", str(tmp_path)]) == 0


def test_generate_removes_schemas_of_types_that_no_longer_exist(tmp_path: Path) -> None:
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "benecomune.vouchers.Gone.v1.json").write_text("{}")
    gone = "schemas/benecomune.vouchers.Gone.v1.json"
    assert stale_outputs(tmp_path) == sorted([*render_outputs(), gone])
    main([str(tmp_path)])
    assert not (tmp_path / "schemas" / "benecomune.vouchers.Gone.v1.json").exists()
    assert stale_outputs(tmp_path) == []


def test_the_check_fails_on_stale_documents(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main([str(tmp_path)])
    (tmp_path / "asyncapi.json").write_text("{}\n")
    assert main(["--check", str(tmp_path)]) == 1
    assert "make contracts" in capsys.readouterr().out


def test_the_document_version_is_the_package_version() -> None:
    from importlib.metadata import version

    assert build_asyncapi()["info"]["version"] == version("benecomune-contracts")
