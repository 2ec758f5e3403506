"""Changes to published events must not break existing consumers."""

from __future__ import annotations

import copy
import json
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar, Literal

import pytest
from benecomune_contracts import (
    ChangeKind,
    ContractEvent,
    FundAllocated,
    IncompatibleChange,
    all_contracts,
    check_published,
    event_json_schema,
    find_breaking_changes,
    publish_snapshots,
)
from benecomune_contracts.compat import PUBLISHED_DIR, load_published, unpublished_contracts
from benecomune_contracts.schemas import dump_json
from pydantic import BaseModel

FUND_ALLOCATED = "benecomune.vouchers.FundAllocated.v1"


def published_fund_allocated() -> dict[str, Any]:
    return copy.deepcopy(load_published()[FUND_ALLOCATED])


def kinds(published: dict[str, Any], current: dict[str, Any]) -> list[tuple[ChangeKind, str]]:
    return [(change.kind, change.path) for change in find_breaking_changes(published, current)]


# The guard itself: these fail when someone breaks a published event.


def test_no_published_event_has_a_breaking_change() -> None:
    changes = check_published()
    assert not changes, "breaking changes to published events:\n" + "\n".join(map(str, changes))


def test_every_registered_event_type_is_published() -> None:
    missing = unpublished_contracts()
    assert not missing, (
        f"unpublished event types {missing}: run `python -m benecomune_contracts.generate "
        "--publish` and commit shared/contracts/src/benecomune_contracts/published/"
    )


def test_published_snapshots_record_the_current_schemas() -> None:
    outdated = [
        model.type_name
        for model in all_contracts()
        if load_published().get(model.type_name) != event_json_schema(model)
    ]
    assert not outdated, (
        f"{outdated} changed compatibly since published: run `python -m "
        "benecomune_contracts.generate --publish` to record the change"
    )


def test_snapshot_files_are_named_after_their_type_and_formatted_deterministically() -> None:
    for path in sorted(PUBLISHED_DIR.glob("*.json")):
        schema = json.loads(path.read_text(encoding="utf-8"))
        assert schema["title"] == path.name.removesuffix(".json")
        assert path.read_text(encoding="utf-8") == dump_json(schema)


# The checker detects each kind of breaking change.


def test_removing_a_field_from_a_published_event_is_detected() -> None:
    current = published_fund_allocated()
    del current["properties"]["source_reference"]
    current["required"].remove("source_reference")
    assert kinds(published_fund_allocated(), current) == [
        (ChangeKind.FIELD_REMOVED, "source_reference")
    ]


def test_changing_the_type_of_a_field_is_detected() -> None:
    current = published_fund_allocated()
    current["properties"]["amount_cents"] = {"type": "number", "title": "Amount"}
    changes = find_breaking_changes(published_fund_allocated(), current)
    assert [(c.kind, c.path) for c in changes] == [(ChangeKind.FIELD_TYPE_CHANGED, "amount_cents")]
    assert "integer → number" in str(changes[0])


def test_changing_the_format_of_a_field_is_detected() -> None:
    current = published_fund_allocated()
    current["properties"]["allocated_at"]["format"] = "date"
    assert kinds(published_fund_allocated(), current) == [
        (ChangeKind.FIELD_TYPE_CHANGED, "allocated_at")
    ]


def test_making_a_field_nullable_is_detected() -> None:
    current = published_fund_allocated()
    current["properties"]["fund_id"] = {
        "anyOf": [{"type": "string", "minLength": 1, "maxLength": 128}, {"type": "null"}]
    }
    assert kinds(published_fund_allocated(), current) == [
        (ChangeKind.FIELD_TYPE_CHANGED, "fund_id")
    ]


def test_adding_a_required_field_is_detected() -> None:
    current = published_fund_allocated()
    current["properties"]["household_count"] = {"type": "integer"}
    current["required"].append("household_count")
    assert kinds(published_fund_allocated(), current) == [
        (ChangeKind.REQUIRED_FIELD_ADDED, "household_count")
    ]


def test_removing_an_enum_value_is_detected() -> None:
    current = published_fund_allocated()
    current["properties"]["source_kind"]["enum"] = ["state_transfer"]
    changes = find_breaking_changes(published_fund_allocated(), current)
    assert [(c.kind, c.path) for c in changes] == [(ChangeKind.ENUM_VALUE_REMOVED, "source_kind")]
    assert "'donation'" in str(changes[0])


def test_adding_an_enum_value_is_detected_because_old_consumers_reject_it() -> None:
    current = published_fund_allocated()
    current["properties"]["source_kind"]["enum"].append("eu_grant")
    assert kinds(published_fund_allocated(), current) == [
        (ChangeKind.ENUM_VALUE_ADDED, "source_kind")
    ]


def test_making_a_required_field_optional_or_an_optional_field_required_is_detected() -> None:
    current = published_fund_allocated()
    current["required"].remove("source_reference")
    assert kinds(published_fund_allocated(), current) == [
        (ChangeKind.FIELD_NO_LONGER_REQUIRED, "source_reference")
    ]
    assert kinds(current, published_fund_allocated()) == [
        (ChangeKind.FIELD_BECAME_REQUIRED, "source_reference")
    ]


def test_changing_a_constraint_is_detected() -> None:
    current = published_fund_allocated()
    current["properties"]["municipality_istat"]["pattern"] = "^[0-9]{5}$"
    current["properties"]["fund_id"]["maxLength"] = 64
    assert kinds(published_fund_allocated(), current) == [
        (ChangeKind.CONSTRAINT_CHANGED, "fund_id"),
        (ChangeKind.CONSTRAINT_CHANGED, "municipality_istat"),
    ]


def test_moving_an_event_to_another_topic_is_detected() -> None:
    current = published_fund_allocated()
    current["x-benecomune-topic"] = "benecomune.wallet"
    assert kinds(published_fund_allocated(), current) == [(ChangeKind.TOPIC_CHANGED, "")]


def test_several_breaking_changes_are_all_reported() -> None:
    current = published_fund_allocated()
    del current["properties"]["fund_id"]
    current["properties"]["amount_cents"]["type"] = "string"
    current["properties"]["source_kind"]["enum"] = ["donation"]
    assert {kind for kind, _ in kinds(published_fund_allocated(), current)} == {
        ChangeKind.FIELD_REMOVED,
        ChangeKind.FIELD_TYPE_CHANGED,
        ChangeKind.ENUM_VALUE_REMOVED,
    }


# Compatible changes are accepted.


def test_adding_an_optional_field_is_compatible() -> None:
    current = published_fund_allocated()
    current["properties"]["note"] = {"anyOf": [{"type": "string"}, {"type": "null"}]}
    assert find_breaking_changes(published_fund_allocated(), current) == []


def test_editing_titles_and_descriptions_is_compatible() -> None:
    current = published_fund_allocated()
    current["description"] = "Reworded."
    current["properties"]["amount_cents"]["title"] = "Importo"
    current["properties"]["amount_cents"]["description"] = "In euro cents."
    assert find_breaking_changes(published_fund_allocated(), current) == []


# Changes made to the pydantic models are caught too.


class FundAllocatedWithFloatAmount(ContractEvent):
    """A careless edit of FundAllocated: the amount became a float and the act went away."""

    type_name: ClassVar[str] = FUND_ALLOCATED
    topic: ClassVar[str] = "benecomune.vouchers"

    fund_id: str
    municipality_istat: str
    source_kind: Literal["state_transfer", "donation"]
    amount_cents: float
    allocated_at: datetime


def test_a_breaking_edit_of_a_model_fails_the_check_against_the_snapshots() -> None:
    edited = [
        FundAllocatedWithFloatAmount if model is FundAllocated else model
        for model in all_contracts()
    ]
    changes = check_published(contracts=edited)
    assert all(change.type_name == FUND_ALLOCATED for change in changes)
    found = {(change.kind, change.path) for change in changes}
    assert (ChangeKind.FIELD_REMOVED, "source_reference") in found
    assert (ChangeKind.FIELD_TYPE_CHANGED, "amount_cents") in found
    assert (ChangeKind.FIELD_TYPE_CHANGED, "allocated_at") not in found  # same wire format
    assert (ChangeKind.CONSTRAINT_CHANGED, "municipality_istat") in found


def test_dropping_a_published_event_type_is_detected() -> None:
    remaining = [model for model in all_contracts() if model is not FundAllocated]
    changes = check_published(contracts=remaining)
    assert [(c.type_name, c.kind) for c in changes] == [
        (FUND_ALLOCATED, ChangeKind.EVENT_TYPE_REMOVED)
    ]


class Address(BaseModel):
    street_id: str
    zone: Literal["north", "south"]


class WithNestedModel(ContractEvent):
    type_name: ClassVar[str] = "benecomune.catalog.Example.v1"
    topic: ClassVar[str] = "benecomune.catalog"
    places: list[Address]


class AddressWithoutZone(BaseModel):
    street_id: str


class WithNestedModelChanged(ContractEvent):
    type_name: ClassVar[str] = "benecomune.catalog.Example.v1"
    topic: ClassVar[str] = "benecomune.catalog"
    places: list[AddressWithoutZone]


def test_changes_inside_nested_models_are_detected_through_references() -> None:
    old, new = event_json_schema(WithNestedModel), event_json_schema(WithNestedModelChanged)
    assert kinds(old, new) == [(ChangeKind.FIELD_REMOVED, "places[].zone")]
    assert kinds(old, old) == []


# Publishing snapshots.


def test_publishing_adds_snapshots_for_new_types_only_once(tmp_path: Path) -> None:
    first = publish_snapshots(tmp_path)
    assert set(first.added) == {model.type_name for model in all_contracts()}
    again = publish_snapshots(tmp_path)
    assert (again.added, again.updated) == ((), ())
    assert (tmp_path / f"{FUND_ALLOCATED}.json").read_text() == (
        PUBLISHED_DIR / f"{FUND_ALLOCATED}.json"
    ).read_text()


def test_publishing_records_a_compatible_change(tmp_path: Path) -> None:
    publish_snapshots(tmp_path)
    snapshot = tmp_path / f"{FUND_ALLOCATED}.json"
    older = json.loads(snapshot.read_text())
    older["description"] = "An older wording."
    snapshot.write_text(dump_json(older))
    assert publish_snapshots(tmp_path).updated == (FUND_ALLOCATED,)
    assert json.loads(snapshot.read_text()) == event_json_schema(FundAllocated)


def test_publishing_a_breaking_change_is_refused_and_writes_nothing(tmp_path: Path) -> None:
    publish_snapshots(tmp_path)
    snapshot = tmp_path / f"{FUND_ALLOCATED}.json"
    older = json.loads(snapshot.read_text())
    older["properties"]["legacy_code"] = {"type": "string"}
    snapshot.write_text(dump_json(older))
    (tmp_path / "benecomune.vouchers.FundToppedUp.v1.json").unlink()
    with pytest.raises(IncompatibleChange, match="legacy_code") as caught:
        publish_snapshots(tmp_path)
    assert [change.kind for change in caught.value.changes] == [ChangeKind.FIELD_REMOVED]
    assert json.loads(snapshot.read_text()) == older
    assert not (tmp_path / "benecomune.vouchers.FundToppedUp.v1.json").exists()
