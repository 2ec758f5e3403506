"""The store records which notifications each transaction stored, and the relay never ends a
batch inside a transaction: a reader that stops part-way through a live topic (the auditor)
can keep a sale with the shop's credit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from eventsourcing.domain import event
from servicekit.domain import Aggregate
from servicekit.relay import OutboxRelay, published_transaction_ends
from servicekit.settings import REPO_ROOT, ServiceSettings
from servicekit.store import ServiceApplication


class Thing(Aggregate):
    @event("Made")
    def __init__(self, label: str) -> None:
        self.label = label


class ThingsApplication(ServiceApplication):
    pass


@pytest.fixture
def app(tmp_path: Path) -> ThingsApplication:
    settings = ServiceSettings(
        service_name="things", data_dir=tmp_path, territories_dir=REPO_ROOT / "territories"
    )
    return ThingsApplication(settings)


def relay(app: ServiceApplication, batch_size: int) -> OutboxRelay:
    return OutboxRelay(
        app,
        lambda e: None,
        topic="things",
        source="/things",
        bootstrap="127.0.0.1:9",
        batch_size=batch_size,
    )


def stored_in_transactions(app: ServiceApplication, sizes: list[int]) -> None:
    for n, size in enumerate(sizes):
        app.save(*(Thing(f"{n}.{m}") for m in range(size)))


def test_each_transaction_is_recorded_with_its_first_and_last_notification(
    app: ThingsApplication,
) -> None:
    stored_in_transactions(app, [1, 3, 2])
    assert app.recorder.select_transactions(1, 6) == [(1, 1), (2, 4), (5, 6)]  # type: ignore[attr-defined]
    assert app.recorder.select_transactions(3, 3) == [(2, 4)]  # type: ignore[attr-defined]


def test_a_batch_that_would_end_inside_a_transaction_is_extended_to_its_end(
    app: ThingsApplication,
) -> None:
    stored_in_transactions(app, [1, 3, 2])
    first_two = app.recorder.select_notifications(start=1, limit=2)
    batch, transactions = relay(app, 2)._whole_transactions(first_two)
    assert [n.id for n in batch] == [1, 2, 3, 4]
    assert transactions == [(1, 1), (2, 4)]
    rest = app.recorder.select_notifications(start=5, limit=2)
    batch, transactions = relay(app, 2)._whole_transactions(rest)
    assert [n.id for n in batch] == [5, 6] and transactions == [(5, 6)]


def test_each_message_names_the_last_published_notification_of_its_transaction() -> None:
    transactions = [(1, 1), (2, 5), (6, 7), (8, 9)]
    # 5 and 7 are private events: a reader must wait for 4 and 6, not for them.
    assert published_transaction_ends([1, 2, 3, 4, 6, 8, 9], transactions) == {
        1: 1,
        2: 4,
        3: 4,
        4: 4,
        6: 6,
        8: 9,
        9: 9,
    }
    # Stored before transactions were recorded (10, 11), or in a batch starting mid-way.
    assert published_transaction_ends([10, 11, 13], [(12, 14)]) == {13: 13}
    assert published_transaction_ends([3, 4], []) == {}


def test_events_stored_before_transactions_were_recorded_have_none(
    app: ThingsApplication,
) -> None:
    stored_in_transactions(app, [2, 1])
    recorder: Any = app.recorder
    with recorder.datastore.transaction(commit=True) as c:
        c.execute(f"DELETE FROM {recorder.transactions_table_name} WHERE last_id = 2")
    batch, transactions = relay(app, 10)._whole_transactions(
        app.recorder.select_notifications(start=1, limit=10)
    )
    assert [n.id for n in batch] == [1, 2, 3] and transactions == [(3, 3)]
