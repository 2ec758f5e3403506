"""The wallet's expiry reminders reach the employee's inbox: each CreditExpiring becomes one
notice for ``beneficiary:<employee>``, in Italian and English, exactly once — through the kit's
exactly-once path (``process_message`` with the consumer's two tracking positions), whether
Kafka redelivers the message or the wallet's relay re-publishes it at a new offset."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from benecomune_contracts import WALLET_TOPIC, EventEnvelope
from benecomune_contracts.chain import GENESIS_HASH
from benecomune_contracts.wallet import CreditExpiring, HoldReleased
from eventsourcing.persistence import Tracking
from fastapi.testclient import TestClient
from notifications.application.app import NotificationsApplication
from notifications.domain.templates import render
from notifications.service import DEFINITION
from notifications.settings import NotificationsSettings
from servicekit.auth import DevIssuer
from servicekit.consumer import offset_position_name, upstream_position_name
from servicekit.http import create_http_app
from servicekit.service import ServiceRuntime

TOPIC = WALLET_TOPIC.name
PARTITION = 3


@pytest.fixture
def settings(tmp_path: Path) -> NotificationsSettings:
    return NotificationsSettings(data_dir=tmp_path / "data", keys_dir=tmp_path / "keys")


@pytest.fixture
def app(settings: NotificationsSettings) -> Iterator[NotificationsApplication]:
    application = NotificationsApplication(settings)
    yield application
    application.close()


def reminder(employee_id: str = "e1", threshold: int = 7) -> CreditExpiring:
    wallet_id = str(uuid.uuid4())
    return CreditExpiring(
        stream_id=wallet_id,
        sequence=4,
        prev_hash=GENESIS_HASH,
        event_hash="a" * 64,
        transfers=[],
        wallet_id=wallet_id,
        plan_id=str(uuid.uuid4()),
        employee_id=employee_id,
        expires_on=date(2026, 12, 31),
        threshold_days=threshold,
        days_left=5,
        amount_cents=123_450,
        held_cents=0,
        reminded_at=datetime(2026, 12, 26, 8, 0, tzinfo=UTC),
    )


def envelope_of(event: CreditExpiring | HoldReleased, notification_id: int) -> EventEnvelope:
    return EventEnvelope(
        id=str(uuid.uuid4()),
        source="/benecomune/biella/wallet",
        type=event.type_name,
        time=datetime(2026, 12, 26, 8, 0, tzinfo=UTC),
        subject=event.stream_id,
        notification_id=notification_id,
        sequence=event.sequence,
    )


def deliver(
    app: NotificationsApplication,
    event: CreditExpiring | HoldReleased,
    envelope: EventEnvelope,
    offset: int,
) -> bool:
    """As the kit's consumer does: the upstream notification id first, then the offset."""
    return app.process_message(
        event,
        [
            Tracking(upstream_position_name(TOPIC, PARTITION), envelope.notification_id),
            Tracking(offset_position_name(TOPIC, PARTITION), offset + 1),
        ],
        envelope,
    )


def test_the_notifications_service_consumes_the_wallet_topic() -> None:
    assert TOPIC in DEFINITION.consumes


def test_a_credit_expiring_event_becomes_one_notice_for_the_employee_even_when_delivered_again(
    app: NotificationsApplication,
) -> None:
    event = reminder("e1")
    envelope = envelope_of(event, notification_id=41)
    assert deliver(app, event, envelope, offset=100)
    assert not deliver(app, event, envelope, offset=100)  # Kafka redelivered it
    assert not deliver(app, event, envelope, offset=250)  # the relay re-published it
    [notice] = app.notices_for("beneficiary:e1")
    assert notice.template == "credit_expiring"
    assert notice.source_event_id == envelope.id
    assert app.notices_for("beneficiary:e2") == []
    assert render(notice.template, notice.params, "it") == (
        "Il tuo credito welfare di 1.234,50 € scade il 31/12/2026 (entro 7 giorni): usalo "
        "entro quella data, altrimenti torna al datore di lavoro."
    )
    assert render(notice.template, notice.params, "en") == (
        "Your welfare credit of €1,234.50 expires on 31 December 2026 (within 7 days): use it "
        "by then, or it goes back to your employer."
    )


def test_the_two_reminders_of_a_wallet_are_two_notices(app: NotificationsApplication) -> None:
    first, second = reminder("e1", threshold=30), reminder("e1", threshold=7)
    assert deliver(app, first, envelope_of(first, 10), offset=10)
    assert deliver(app, second, envelope_of(second, 11), offset=11)
    notices = app.notices_for("beneficiary:e1")
    assert sorted(n.params["threshold_days"] for n in notices) == ["30", "7"]


def test_other_wallet_events_are_tracked_without_a_notice(app: NotificationsApplication) -> None:
    wallet_id = str(uuid.uuid4())
    released = HoldReleased(
        stream_id=wallet_id,
        sequence=3,
        prev_hash=GENESIS_HASH,
        event_hash="b" * 64,
        transfers=[],
        wallet_id=wallet_id,
        employee_id="e1",
        hold_id=str(uuid.uuid4()),
        amount_cents=1_000,
        released_at=datetime(2026, 12, 1, tzinfo=UTC),
    )
    envelope = envelope_of(released, 7)
    assert deliver(app, released, envelope, offset=7)
    assert app.notices_for("beneficiary:e1") == []
    assert app.position(upstream_position_name(TOPIC, PARTITION)) == 7


def test_only_the_employee_reads_the_reminder_in_their_inbox(
    settings: NotificationsSettings,
) -> None:
    runtime = ServiceRuntime(DEFINITION, settings)
    issuer = DevIssuer(settings.territory, settings.keys_dir)
    with TestClient(create_http_app(runtime, with_workers=False)) as client:
        app = runtime.application
        assert isinstance(app, NotificationsApplication)
        event = reminder("e1", threshold=30)
        deliver(app, event, envelope_of(event, 5), offset=5)

        def inbox(subject: str, lang: str) -> tuple[int, object]:
            token = issuer.mint("beneficiary", subject)
            response = client.get(
                "/inbox/beneficiary:e1",
                params={"lang": lang},
                headers={"Authorization": f"Bearer {token}"},
            )
            return response.status_code, response.json()

        status, notices = inbox("e1", "en")
        assert status == 200
        assert [n["text"] for n in notices] == [  # type: ignore[union-attr]
            "Your welfare credit of €1,234.50 expires on 31 December 2026 (within 30 days): "
            "use it by then, or it goes back to your employer."
        ]
        assert inbox("e2", "it")[0] == 403
