"""Snapshots taken from the aggregate in memory when it was just saved at the snapshot's
version are the snapshots eventsourcing takes by reading the aggregate back from the store."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar
from uuid import UUID

import pytest
from eventsourcing.domain import Snapshot, event
from servicekit.domain import Aggregate
from servicekit.settings import REPO_ROOT, ServiceSettings
from servicekit.store import ServiceApplication, replay_events


class Tally(Aggregate):
    @event("Opened")
    def __init__(self, name: str) -> None:
        self.name = name
        self.entries: dict[str, int] = {}

    @event("Added")
    def add(self, key: str, amount: int) -> None:
        self.entries[key] = self.entries.get(key, 0) + amount


class TalliesApplication(ServiceApplication):
    snapshotting_intervals: ClassVar[dict[type[Any], int]] = {Tally: 3}


@pytest.fixture
def app(tmp_path: Path) -> TalliesApplication:
    settings = ServiceSettings(
        service_name="tallies", data_dir=tmp_path, territories_dir=REPO_ROOT / "territories"
    )
    return TalliesApplication(settings)


def stored_snapshots(app: TalliesApplication, tally_id: UUID) -> dict[int, dict[str, Any]]:
    assert app.snapshots is not None
    return {s.originator_version: s.state for s in app.snapshots.get(tally_id)}


def read_back(app: TalliesApplication, tally_id: UUID, version: int) -> dict[str, Any]:
    aggregate = app.repository.get(tally_id, version=version, projector_func=replay_events)
    return Snapshot.take(aggregate).state


@pytest.mark.parametrize("events_per_save", [1, 2, 5])
def test_snapshots_are_those_read_back_from_the_store(
    app: TalliesApplication, events_per_save: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    read_backs: list[int] = []
    take_snapshot = app.take_snapshot

    def counted(aggregate_id: UUID, version: int | None = None, **kwargs: Any) -> None:
        read_backs.append(version or 0)
        take_snapshot(aggregate_id, version, **kwargs)

    monkeypatch.setattr(app, "take_snapshot", counted)
    tally = Tally("biella")
    for n in range(1, 14):
        tally.add(f"k{n % 4}", n)
        if (n + 1) % events_per_save == 0:
            app.save(tally)
    app.save(tally)

    snapshots = stored_snapshots(app, tally.id)
    assert sorted(snapshots) == [3, 6, 9, 12]
    for version, state in snapshots.items():
        assert state == read_back(app, tally.id, version), version
    # Only a snapshot due before the last event of a save is read back from the store.
    due_inside = [v for v in (3, 6, 9, 12) if events_per_save > 1 and v % events_per_save != 0]
    assert sorted(read_backs) == due_inside
    assert app.repository.get(tally.id).entries == tally.entries
