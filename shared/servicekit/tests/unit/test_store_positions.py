"""The store records tracking positions atomically with effects, which the consumer and the
relay rely on for exactly-once effects."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from eventsourcing.dispatch import singledispatchmethod
from eventsourcing.domain import event
from eventsourcing.persistence import Tracking
from servicekit.domain import Aggregate, NotFound
from servicekit.messages import Processing
from servicekit.settings import REPO_ROOT, ServiceSettings
from servicekit.store import ServiceApplication


class Thing(Aggregate):
    @event("Made")
    def __init__(self, label: str) -> None:
        self.label = label


class Boom(Exception):
    pass


class ThingsApplication(ServiceApplication):
    @singledispatchmethod
    def policy(self, message: Any, processing: Any) -> None:
        pass

    @policy.register
    def _(self, message: str, processing: Processing) -> None:
        if message == "explode":
            raise Boom("policy failed")
        processing.collect_events(Thing(message))


@pytest.fixture
def app(tmp_path: Path) -> ThingsApplication:
    settings = ServiceSettings(
        service_name="things", data_dir=tmp_path, territories_dir=REPO_ROOT / "territories"
    )
    return ThingsApplication(settings)


def stored_labels(app: ThingsApplication) -> list[str]:
    notifications = app.recorder.select_notifications(start=1, limit=1000)
    return [app.mapper.to_domain_event(n).label for n in notifications]


def test_a_message_is_stored_with_both_positions(app: ThingsApplication) -> None:
    assert app.process_message("a", [Tracking("up#0", 7), Tracking("kafka:up#0", 100)])
    assert app.position("up#0") == 7
    assert app.position("kafka:up#0") == 100
    assert stored_labels(app) == ["a"]


def test_a_message_seen_again_at_a_new_offset_has_no_second_effect(
    app: ThingsApplication,
) -> None:
    app.process_message("a", [Tracking("up#0", 7), Tracking("kafka:up#0", 100)])
    again = app.process_message("a", [Tracking("up#0", 7), Tracking("kafka:up#0", 250)])
    assert again is False
    assert stored_labels(app) == ["a"]
    assert app.position("kafka:up#0") == 100  # the caller moves the offset on explicitly


def test_an_older_notification_id_counts_as_a_duplicate(app: ThingsApplication) -> None:
    app.process_message("a", [Tracking("up#0", 7), Tracking("kafka:up#0", 1)])
    assert app.process_message("b", [Tracking("up#0", 5), Tracking("kafka:up#0", 2)]) is False
    assert stored_labels(app) == ["a"]


def test_a_failing_policy_stores_neither_effects_nor_positions(app: ThingsApplication) -> None:
    with pytest.raises(Boom):
        app.process_message("explode", [Tracking("up#0", 1), Tracking("kafka:up#0", 1)])
    assert app.position("up#0") is None
    assert app.position("kafka:up#0") is None
    assert stored_labels(app) == []


def test_positions_alone_only_move_forward(app: ThingsApplication) -> None:
    assert app.record_positions([Tracking("outbox", 10)])
    assert not app.record_positions([Tracking("outbox", 10)])
    assert not app.record_positions([Tracking("outbox", 3)])
    assert app.position("outbox") == 10


def test_asking_for_a_missing_aggregate_names_it(app: ThingsApplication) -> None:
    from uuid import uuid4

    missing = uuid4()
    with pytest.raises(NotFound, match=f"no thing with id {missing}"):
        app.get_aggregate(missing, Thing, "thing")


def test_domain_events_carry_the_bound_correlation_id(app: ThingsApplication) -> None:
    from servicekit.correlation import correlation_scope

    with correlation_scope("corr-123"):
        thing = Thing("x")
    app.save(thing)
    [stored] = app.events.get(thing.id)
    assert stored.correlation_id == "corr-123"  # type: ignore[attr-defined]
