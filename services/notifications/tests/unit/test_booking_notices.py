"""Booking facts reach the family's and the providers' inboxes, in Italian and English,
exactly once: confirmed, compensated (with the reason), cancelled (with the fee), a component
delivered awaiting confirmation (``beneficiary:<id>``, remembered from the request), a
pending acceptance with its deadline (``provider:<id>``)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from benecomune_contracts import BOOKING_TOPIC, EventEnvelope
from benecomune_contracts import booking as b
from eventsourcing.persistence import Tracking
from notifications.application.app import NotificationsApplication
from notifications.domain.templates import render
from notifications.service import DEFINITION
from notifications.settings import NotificationsSettings
from servicekit.consumer import offset_position_name, upstream_position_name

TOPIC = BOOKING_TOPIC.name
BOOKING = str(uuid.uuid4())
AT = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
_ids = count(1)


@pytest.fixture
def app(tmp_path: Path) -> Iterator[NotificationsApplication]:
    settings = NotificationsSettings(data_dir=tmp_path / "data", keys_dir=tmp_path / "keys")
    application = NotificationsApplication(settings)
    yield application
    application.close()


def deliver(
    app: NotificationsApplication, event: Any, envelope: EventEnvelope | None = None
) -> Any:
    n = next(_ids)
    envelope = envelope or EventEnvelope(
        id=str(uuid.uuid4()), source="/benecomune/biella/booking", type=event.type_name,
        time=AT, subject=BOOKING, notification_id=n, sequence=n,
    )  # fmt: skip
    app.process_message(
        event,
        [
            Tracking(upstream_position_name(TOPIC, 0), envelope.notification_id),
            Tracking(offset_position_name(TOPIC, 0), n * 10),
        ],
        envelope,
    )
    return envelope


def texts(app: NotificationsApplication, recipient: str, language: str) -> list[str]:
    return [render(n.template, n.params, language) for n in app.notices_for(recipient)]


def requested(beneficiary: str = "b-1") -> b.BookingRequested:
    return b.BookingRequested(
        booking_id=BOOKING, beneficiary_id=beneficiary, requested_by="beneficiary",
        components=[], total_cents=10_000, split=[], requested_at=AT,
    )  # fmt: skip


def test_the_notifications_service_consumes_the_booking_topic() -> None:
    assert TOPIC in DEFINITION.consumes


def test_a_confirmed_booking_is_told_once_to_its_beneficiary(app: NotificationsApplication) -> None:
    confirmed = b.BookingConfirmed(
        booking_id=BOOKING, beneficiary_id="b-1", total_cents=13_000, confirmed_at=AT
    )
    envelope = deliver(app, confirmed)
    deliver(app, confirmed, envelope)  # redelivered
    deliver(app, confirmed, envelope.model_copy(update={"notification_id": 999}))  # re-published
    assert texts(app, "beneficiary:b-1", "it") == [
        "La tua prenotazione è confermata: 130,00 € in totale, tutti i fornitori hanno accettato."
    ]
    assert texts(app, "beneficiary:b-1", "en") == [
        "Your booking is confirmed: €130.00 in total, every provider accepted."
    ]


def test_a_compensated_booking_says_why(app: NotificationsApplication) -> None:
    deliver(app, b.BookingCompensated(
        booking_id=BOOKING, beneficiary_id="b-1", reason_code="provider_declined",
        compensated_at=AT,
    ))  # fmt: skip
    [it] = texts(app, "beneficiary:b-1", "it")
    [en] = texts(app, "beneficiary:b-1", "en")
    assert "il fornitore non può accettare la prenotazione." in it
    assert en.startswith("Your booking did not go through: the provider cannot accept")


def test_a_cancellation_tells_the_fee(app: NotificationsApplication) -> None:
    deliver(app, b.BookingCancelled(
        booking_id=BOOKING, beneficiary_id="b-1", by="family", fee_cents=2_250, cancelled_at=AT,
    ))  # fmt: skip
    assert texts(app, "beneficiary:b-1", "en") == [
        "Your booking was cancelled; cancellation fee: €22.50."
    ]
    assert texts(app, "beneficiary:b-1", "it") == [
        "La tua prenotazione è stata annullata; penale di annullamento: 22,50 €."
    ]


def test_a_delivered_component_goes_to_the_booking_beneficiary(
    app: NotificationsApplication,
) -> None:
    deliver(app, requested("b-7"))
    deliver(app, b.ComponentDelivered(
        booking_id=BOOKING, component=2, provider_id="p-1",
        confirmation_due=AT + timedelta(days=2), delivered_at=AT,
    ))  # fmt: skip
    assert texts(app, "beneficiary:b-7", "en") == [
        "Service 2 of your booking was marked delivered: confirm or dispute it by 3 March 2027 "
        "at 10:00; after that it is confirmed on its own."
    ]
    assert app.notices_for("provider:p-1") == []


def test_a_provider_is_told_of_a_pending_acceptance_with_its_deadline(
    app: NotificationsApplication,
) -> None:
    deliver(app, requested())
    deliver(app, b.ProviderAcceptanceRequested(
        booking_id=BOOKING, component=1, request_id=f"booking:{BOOKING}:c1:acceptance",
        provider_id="p-1", offering_id="o-1", starts_at=AT + timedelta(days=5),
        due_at=AT + timedelta(hours=24), requested_at=AT,
    ))  # fmt: skip
    assert texts(app, "provider:p-1", "it") == [
        "Nuova prenotazione da accettare (servizio del 06/03/2027 alle 10:00): rispondi entro "
        "il 02/03/2027 alle 10:00, poi sarà annullata."
    ]
    assert app.notices_for("beneficiary:b-1") == []  # the request itself tells nobody
