"""JSON Schema export of contract events."""

from __future__ import annotations

import json
from typing import Any

from benecomune_contracts.base import ContractEvent

__all__ = ["JSON_SCHEMA_DIALECT", "TOPIC_KEYWORD", "dump_json", "event_json_schema"]

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
TOPIC_KEYWORD = "x-benecomune-topic"
"""Schema keyword naming the Kafka topic the event is published on."""


def event_json_schema(model: type[ContractEvent]) -> dict[str, Any]:
    """The JSON Schema of a contract event's payload (what consumers validate against).

    Its ``title`` is the versioned type name and ``x-benecomune-topic`` the topic.
    """
    schema = model.model_json_schema(mode="validation")
    schema["$schema"] = JSON_SCHEMA_DIALECT
    schema["title"] = model.type_name
    schema[TOPIC_KEYWORD] = model.topic
    return schema


def dump_json(document: Any) -> str:
    """Deterministic JSON text (sorted keys, two-space indent, final newline) for committed
    files, so regenerating an unchanged document gives no diff."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
