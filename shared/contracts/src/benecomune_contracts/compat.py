"""Detection of changes to published events that would break existing consumers.

When a version of an event type is first published, its JSON Schema is committed as a
snapshot in ``benecomune_contracts/published/<type>.json`` (``python -m
benecomune_contracts.generate --publish``). From then on the current model is compared with
the snapshot, in both directions that matter for an event log kept forever:

* consumers built from the published schema must accept what producers now send, and
* the current model must still read every event already on the topic.

So, for a published type, these are breaking: removing a field, changing a field's type or
format, adding a required field, making an optional field required or a required one
optional, removing (or adding) an enum value, changing a constraint (pattern, length,
minimum...), changing the topic, and removing the type. Compatible: adding an *optional*
field (consumers ignore fields they do not know) and editing titles or descriptions.
A breaking change needs a new version of the type (``...FundAllocated.v2``) instead.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from benecomune_contracts.base import ContractEvent
from benecomune_contracts.registry import all_contracts
from benecomune_contracts.schemas import TOPIC_KEYWORD, dump_json, event_json_schema

__all__ = [
    "PUBLISHED_DIR",
    "BreakingChange",
    "ChangeKind",
    "IncompatibleChange",
    "PublishResult",
    "check_published",
    "find_breaking_changes",
    "load_published",
    "publish_snapshots",
    "unpublished_contracts",
]

PUBLISHED_DIR = Path(__file__).resolve().parent / "published"
"""Where the snapshots of published event schemas are committed."""


class ChangeKind(StrEnum):
    EVENT_TYPE_REMOVED = "published event type removed"
    TOPIC_CHANGED = "topic changed"
    FIELD_REMOVED = "field removed"
    FIELD_TYPE_CHANGED = "field type changed"
    REQUIRED_FIELD_ADDED = "new required field"
    FIELD_BECAME_REQUIRED = "field became required"
    FIELD_NO_LONGER_REQUIRED = "field no longer required"
    ENUM_VALUE_REMOVED = "enum value removed"
    ENUM_VALUE_ADDED = "enum value added"
    CONSTRAINT_CHANGED = "constraint changed"


@dataclass(frozen=True, slots=True)
class BreakingChange:
    """One incompatibility between a published schema and the current model."""

    type_name: str
    kind: ChangeKind
    path: str
    """Dotted path of the field (``[]`` for array items); empty for the whole payload."""
    detail: str

    def __str__(self) -> str:
        where = f" field {self.path!r}" if self.path else ""
        return f"{self.type_name}{where}: {self.kind.value}: {self.detail}"


class IncompatibleChange(ValueError):
    """Publishing was refused because current models break published contracts."""

    def __init__(self, changes: Sequence[BreakingChange]) -> None:
        self.changes = tuple(changes)
        lines = "\n".join(f"  - {change}" for change in self.changes)
        super().__init__(
            "breaking change(s) to published events; publish a new version of the type "
            f"(e.g. .v2) instead:\n{lines}"
        )


_ANNOTATIONS = frozenset(
    {
        "title",
        "description",
        "examples",
        "default",
        "$comment",
        "deprecated",
        "readOnly",
        "writeOnly",
        "$schema",
        "$id",
        "$defs",
        "definitions",
    }
)
_HANDLED = frozenset(
    {
        "$ref",
        "type",
        "format",
        "anyOf",
        "oneOf",
        "allOf",
        "enum",
        "const",
        "properties",
        "required",
        "items",
        "prefixItems",
        "additionalProperties",
    }
)
_COMPOSITIONS = (("anyOf", " | "), ("oneOf", " ^ "), ("allOf", " & "))


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


class _Comparison:
    def __init__(self, type_name: str, old_root: Mapping[str, Any], new_root: Mapping[str, Any]):
        self.type_name = type_name
        self.old_root = old_root
        self.new_root = new_root
        self.changes: list[BreakingChange] = []
        self._active: set[tuple[str, str]] = set()

    def report(self, kind: ChangeKind, path: str, detail: str) -> None:
        self.changes.append(BreakingChange(self.type_name, kind, path, detail))

    @staticmethod
    def resolve(schema: Any, root: Mapping[str, Any]) -> Any:
        seen: set[str] = set()
        while isinstance(schema, Mapping) and "$ref" in schema:
            ref = schema["$ref"]
            if not isinstance(ref, str) or not ref.startswith("#/") or ref in seen:
                raise ValueError(f"unsupported schema reference {ref!r}")
            seen.add(ref)
            target: Any = root
            for part in ref[2:].split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            siblings = {key: value for key, value in schema.items() if key != "$ref"}
            schema = {**target, **siblings}
        return schema

    def describe(self, schema: Any, root: Mapping[str, Any]) -> str:
        schema = self.resolve(schema, root)
        if isinstance(schema, bool):
            return "anything" if schema else "nothing"
        parts: list[str] = []
        declared = schema.get("type")
        if isinstance(declared, list):
            parts.append("|".join(sorted(str(item) for item in declared)))
        elif isinstance(declared, str):
            parts.append(declared)
        elif "properties" in schema:
            parts.append("object")
        if "format" in schema:
            parts.append(f"({schema['format']})")
        for keyword, separator in _COMPOSITIONS:
            if keyword in schema:
                branches = separator.join(self.describe(item, root) for item in schema[keyword])
                parts.append(f"[{branches}]")
        return " ".join(parts) or "any"

    def compare(self, old: Any, new: Any, path: str) -> None:
        if isinstance(old, Mapping) and isinstance(new, Mapping) and "$ref" in old:
            pair = (_canonical(old.get("$ref")), _canonical(new.get("$ref")))
            if pair in self._active:
                return  # a recursive definition already being compared
            self._active.add(pair)
            try:
                self._compare(old, new, path)
            finally:
                self._active.discard(pair)
        else:
            self._compare(old, new, path)

    def _compare(self, old: Any, new: Any, path: str) -> None:
        old_description = self.describe(old, self.old_root)
        new_description = self.describe(new, self.new_root)
        if old_description != new_description:
            self.report(
                ChangeKind.FIELD_TYPE_CHANGED, path, f"{old_description} → {new_description}"
            )
            return
        old = self.resolve(old, self.old_root)
        new = self.resolve(new, self.new_root)
        if isinstance(old, bool) or isinstance(new, bool):
            return  # equal descriptions: both true or both false
        for keyword, _ in _COMPOSITIONS:
            for old_branch, new_branch in zip(
                old.get(keyword, ()), new.get(keyword, ()), strict=True
            ):
                self.compare(old_branch, new_branch, path)
        self._compare_values(old, new, path)
        self._compare_properties(old, new, path)
        self._compare_items(old, new, path)
        for key in sorted((old.keys() | new.keys()) - _HANDLED - _ANNOTATIONS):
            if key.startswith("x-"):
                continue
            if _canonical(old.get(key)) != _canonical(new.get(key)):
                self.report(
                    ChangeKind.CONSTRAINT_CHANGED,
                    path,
                    f"{key}: {_shown(old, key)} → {_shown(new, key)}",
                )

    def _compare_values(self, old: Mapping[str, Any], new: Mapping[str, Any], path: str) -> None:
        old_values, new_values = _allowed_values(old), _allowed_values(new)
        if old_values is None and new_values is None:
            return
        if old_values is None:
            self.report(
                ChangeKind.CONSTRAINT_CHANGED, path, f"now restricted to {list(new_values or ())}"
            )
            return
        if new_values is None:
            self.report(
                ChangeKind.CONSTRAINT_CHANGED, path, f"no longer restricted to {list(old_values)}"
            )
            return
        new_keys = {_canonical(value) for value in new_values}
        old_keys = {_canonical(value) for value in old_values}
        for value in old_values:
            if _canonical(value) not in new_keys:
                self.report(ChangeKind.ENUM_VALUE_REMOVED, path, f"{value!r} is no longer allowed")
        for value in new_values:
            if _canonical(value) not in old_keys:
                self.report(
                    ChangeKind.ENUM_VALUE_ADDED,
                    path,
                    f"{value!r} is new: consumers of the published version reject it",
                )

    def _compare_properties(
        self, old: Mapping[str, Any], new: Mapping[str, Any], path: str
    ) -> None:
        old_properties: Mapping[str, Any] = old.get("properties", {})
        new_properties: Mapping[str, Any] = new.get("properties", {})
        old_required = set(old.get("required", ()))
        new_required = set(new.get("required", ()))
        for name, old_schema in old_properties.items():
            where = _join(path, name)
            if name not in new_properties:
                was = "required" if name in old_required else "optional"
                self.report(ChangeKind.FIELD_REMOVED, where, f"the {was} field is gone")
                continue
            self.compare(old_schema, new_properties[name], where)
            if name in old_required and name not in new_required:
                self.report(
                    ChangeKind.FIELD_NO_LONGER_REQUIRED,
                    where,
                    "consumers of the published version expect it in every event",
                )
            elif name not in old_required and name in new_required:
                self.report(
                    ChangeKind.FIELD_BECAME_REQUIRED,
                    where,
                    "events already published may lack it",
                )
        for name in new_properties:
            if name not in old_properties and name in new_required:
                self.report(
                    ChangeKind.REQUIRED_FIELD_ADDED,
                    _join(path, name),
                    "events already published lack it; add it as optional with a default",
                )
        old_extra, new_extra = old.get("additionalProperties"), new.get("additionalProperties")
        if isinstance(old_extra, Mapping) and isinstance(new_extra, Mapping):
            self.compare(old_extra, new_extra, _join(path, "*"))
        elif _canonical(old_extra) != _canonical(new_extra):
            self.report(
                ChangeKind.CONSTRAINT_CHANGED,
                path,
                f"additionalProperties: {_shown(old, 'additionalProperties')} → "
                f"{_shown(new, 'additionalProperties')}",
            )

    def _compare_items(self, old: Mapping[str, Any], new: Mapping[str, Any], path: str) -> None:
        where = f"{path}[]"
        old_items, new_items = old.get("items"), new.get("items")
        if isinstance(old_items, Mapping | bool) and isinstance(new_items, Mapping | bool):
            self.compare(old_items, new_items, where)
        elif _canonical(old_items) != _canonical(new_items):
            self.report(ChangeKind.FIELD_TYPE_CHANGED, where, "the item schema changed")
        old_prefix, new_prefix = old.get("prefixItems", []), new.get("prefixItems", [])
        if len(old_prefix) != len(new_prefix):
            self.report(
                ChangeKind.FIELD_TYPE_CHANGED,
                path,
                f"tuple of {len(old_prefix)} items → tuple of {len(new_prefix)} items",
            )
            return
        for index, (old_item, new_item) in enumerate(zip(old_prefix, new_prefix, strict=True)):
            self.compare(old_item, new_item, f"{path}[{index}]")


def _allowed_values(schema: Mapping[str, Any]) -> list[Any] | None:
    if "enum" in schema:
        return list(schema["enum"])
    if "const" in schema:
        return [schema["const"]]
    return None


def _shown(schema: Mapping[str, Any], key: str) -> str:
    return json.dumps(schema[key], sort_keys=True) if key in schema else "(absent)"


def find_breaking_changes(
    published: Mapping[str, Any], current: Mapping[str, Any], type_name: str | None = None
) -> list[BreakingChange]:
    """The changes from the ``published`` JSON Schema of an event to its ``current`` one that
    would break consumers (empty when the change is compatible)."""
    name = type_name or str(published.get("title", "?"))
    comparison = _Comparison(name, published, current)
    old_topic, new_topic = published.get(TOPIC_KEYWORD), current.get(TOPIC_KEYWORD)
    if old_topic != new_topic:
        comparison.report(ChangeKind.TOPIC_CHANGED, "", f"{old_topic!r} → {new_topic!r}")
    comparison.compare(published, current, "")
    return comparison.changes


def load_published(directory: Path | None = None) -> dict[str, dict[str, Any]]:
    """The committed snapshots, by type name (the file name without ``.json``)."""
    folder = PUBLISHED_DIR if directory is None else directory
    if not folder.is_dir():
        return {}
    return {
        path.name.removesuffix(".json"): json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(folder.glob("*.json"))
    }


def _current(contracts: Iterable[type[ContractEvent]] | None) -> dict[str, dict[str, Any]]:
    models = all_contracts() if contracts is None else contracts
    return {model.type_name: event_json_schema(model) for model in models}


def check_published(
    directory: Path | None = None, contracts: Iterable[type[ContractEvent]] | None = None
) -> list[BreakingChange]:
    """Every breaking change of the current contracts (default: all registered) against the
    published snapshots (default: the package's ``published`` folder)."""
    current = _current(contracts)
    changes: list[BreakingChange] = []
    for type_name, published in load_published(directory).items():
        if type_name not in current:
            changes.append(
                BreakingChange(
                    type_name,
                    ChangeKind.EVENT_TYPE_REMOVED,
                    "",
                    "events of this type are on the topic; keep its model registered",
                )
            )
            continue
        changes.extend(find_breaking_changes(published, current[type_name], type_name))
    return changes


def unpublished_contracts(
    directory: Path | None = None, contracts: Iterable[type[ContractEvent]] | None = None
) -> list[str]:
    """Type names of registered contracts that have no published snapshot yet."""
    published = load_published(directory)
    return sorted(name for name in _current(contracts) if name not in published)


@dataclass(frozen=True, slots=True)
class PublishResult:
    added: tuple[str, ...]
    """Types published for the first time."""
    updated: tuple[str, ...]
    """Published types whose snapshot took a compatible change (e.g. a new optional field)."""
    unchanged: tuple[str, ...]


def publish_snapshots(
    directory: Path | None = None, contracts: Iterable[type[ContractEvent]] | None = None
) -> PublishResult:
    """Record the current schemas as published: add snapshots for new types and versions,
    update snapshots with compatible changes. Refuses (raising :class:`IncompatibleChange`,
    writing nothing) if any change breaks a published contract."""
    folder = PUBLISHED_DIR if directory is None else directory
    models = tuple(all_contracts() if contracts is None else contracts)
    changes = check_published(folder, models)
    if changes:
        raise IncompatibleChange(changes)
    published = load_published(folder)
    added: list[str] = []
    updated: list[str] = []
    unchanged: list[str] = []
    folder.mkdir(parents=True, exist_ok=True)
    for type_name, schema in _current(models).items():
        if type_name not in published:
            added.append(type_name)
        elif published[type_name] != schema:
            updated.append(type_name)
        else:
            unchanged.append(type_name)
            continue
        (folder / f"{type_name}.json").write_text(dump_json(schema), encoding="utf-8")
    return PublishResult(tuple(added), tuple(updated), tuple(unchanged))
