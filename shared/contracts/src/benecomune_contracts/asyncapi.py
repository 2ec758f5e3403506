"""The AsyncAPI 3.0 document of Benecomune's domain events, generated from the registry."""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from typing import Any

from benecomune_contracts._version import __version__
from benecomune_contracts.base import ContractEvent
from benecomune_contracts.cloudevents import CE_CORRELATIONID, CE_TYPE, headers_json_schema
from benecomune_contracts.registry import all_contracts
from benecomune_contracts.schemas import event_json_schema
from benecomune_contracts.topics import ALL_TOPICS, TopicSpec

__all__ = ["ASYNCAPI_VERSION", "HEADERS_SCHEMA_NAME", "build_asyncapi"]

ASYNCAPI_VERSION = "3.0.0"
HEADERS_SCHEMA_NAME = "CloudEventsKafkaHeaders"
KAFKA_BINDING_VERSION = "0.5.0"

_DESCRIPTION = """\
The public domain events of Benecomune, one Kafka topic per publishing service.

Every message is a CloudEvents 1.0 event in Kafka binary content mode: the value is the event \
as JSON (content-type application/json), the CloudEvents attributes are headers named \
`ce_<attribute>`, plus the extensions `ce_notificationid` (the producer's notification-log \
id, to recognise duplicates), `ce_sequence` (the aggregate version) and `ce_correlationid`. \
The message key is the aggregate id (`ce_subject`), so each aggregate's events keep their \
order. Delivery is at least once: consumers skip duplicates by notification id.

Event types are versioned (`benecomune.<service>.<Name>.v<N>`). A published version only \
ever gains optional fields; consumers must ignore fields they do not know. Any other change \
is published as a new version.

Contract events carry no personal data: only pseudonymous ids.

The vouchers and wallet topics are ledgers kept forever (auditors replay them); the others \
keep seven days."""


def _hoist_definitions(schema: dict[str, Any], prefix: str) -> dict[str, dict[str, Any]]:
    """Move ``$defs`` of a standalone schema into components, renaming references."""
    definitions: dict[str, Any] = schema.pop("$defs", {})

    def rewrite(node: Any) -> Any:
        if isinstance(node, dict):
            result = {key: rewrite(value) for key, value in node.items()}
            ref = result.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                result["$ref"] = f"#/components/schemas/{prefix}.{ref.removeprefix('#/$defs/')}"
            return result
        if isinstance(node, list):
            return [rewrite(item) for item in node]
        return node

    hoisted = {f"{prefix}.{name}": rewrite(value) for name, value in definitions.items()}
    rewritten = rewrite(schema)
    schema.clear()
    schema.update(rewritten)
    return hoisted


def _summary(model: type[ContractEvent]) -> str:
    doc = inspect.getdoc(model) or model.type_name
    return doc.strip().split("\n\n", 1)[0].replace("\n", " ")


def _message(model: type[ContractEvent]) -> dict[str, Any]:
    name, _, version = model.type_name.rpartition(".")
    return {
        "name": model.type_name,
        "title": f"{name.rpartition('.')[2]} {version}",
        "summary": _summary(model),
        "contentType": "application/json",
        "headers": {
            "allOf": [
                {"$ref": f"#/components/schemas/{HEADERS_SCHEMA_NAME}"},
                {"type": "object", "properties": {CE_TYPE: {"const": model.type_name}}},
            ]
        },
        "payload": {"$ref": f"#/components/schemas/{model.type_name}"},
        "correlationId": {"$ref": "#/components/correlationIds/correlationId"},
        "bindings": {
            "kafka": {
                "key": {
                    "type": "string",
                    "description": "The aggregate id, equal to the ce_subject header.",
                },
                "bindingVersion": KAFKA_BINDING_VERSION,
            }
        },
    }


def _service(topic: TopicSpec) -> str:
    return topic.name.split(".")[1]


def _channel(topic: TopicSpec, models: list[type[ContractEvent]]) -> dict[str, Any]:
    service = _service(topic)
    kept = "a ledger kept forever" if topic.ledger else "kept seven days"
    return {
        "address": topic.name,
        "title": f"{service} events",
        "description": f"Domain events published by the {service} service; {kept}.",
        "servers": [{"$ref": "#/servers/kafka"}],
        "messages": {
            model.type_name: {"$ref": f"#/components/messages/{model.type_name}"}
            for model in models
        },
        "bindings": {
            "kafka": {
                "topic": topic.name,
                "partitions": topic.partitions,
                "topicConfiguration": {
                    "cleanup.policy": ["delete"],
                    "retention.ms": topic.effective_retention_ms,
                    "retention.bytes": -1,
                },
                "bindingVersion": KAFKA_BINDING_VERSION,
            }
        },
    }


def _operation(topic: TopicSpec, models: list[type[ContractEvent]]) -> dict[str, Any]:
    service = _service(topic)
    return {
        "action": "send",
        "title": f"The {service} service publishes its events",
        "summary": f"The {service} service publishes its domain events on {topic.name}.",
        "channel": {"$ref": f"#/channels/{topic.name}"},
        "messages": [
            {"$ref": f"#/channels/{topic.name}/messages/{model.type_name}"} for model in models
        ],
    }


def build_asyncapi(
    contracts: Iterable[type[ContractEvent]] | None = None,
    topics: Iterable[TopicSpec] = ALL_TOPICS,
) -> dict[str, Any]:
    """The AsyncAPI 3.0 document for ``contracts`` (default: every registered contract) on
    ``topics`` (default: every domain topic): a channel per topic, a message per contract."""
    models = sorted(all_contracts() if contracts is None else contracts, key=lambda m: m.type_name)
    topic_list = list(topics)
    known = {topic.name for topic in topic_list}
    for model in models:
        if model.topic not in known:
            raise ValueError(f"{model.type_name} is published on unknown topic {model.topic!r}")

    schemas: dict[str, Any] = {HEADERS_SCHEMA_NAME: headers_json_schema()}
    messages: dict[str, Any] = {}
    for model in models:
        payload = event_json_schema(model)
        payload.pop("$schema", None)
        schemas.update(_hoist_definitions(payload, model.type_name))
        schemas[model.type_name] = payload
        messages[model.type_name] = _message(model)

    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for topic in topic_list:
        on_topic = [model for model in models if model.topic == topic.name]
        channels[topic.name] = _channel(topic, on_topic)
        operations[f"{_service(topic)}.send"] = _operation(topic, on_topic)

    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": "Benecomune domain events",
            "version": __version__,
            "description": _DESCRIPTION,
        },
        "defaultContentType": "application/json",
        "servers": {
            "kafka": {
                "host": "127.0.0.1:9092",
                "protocol": "kafka",
                "description": "The local single-node broker started by `make run`.",
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {
            "schemas": schemas,
            "messages": messages,
            "correlationIds": {
                "correlationId": {
                    "description": "Id of the request that caused the event, if any.",
                    "location": f"$message.header#/{CE_CORRELATIONID}",
                }
            },
        },
    }
