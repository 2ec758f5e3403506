"""The booking saga's requests as the catalog's consumer hands them over, and the answers the
catalog publishes (its stored events mapped through its contract mapping, as the relay does)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from benecomune_contracts import BOOKING_TOPIC, EventEnvelope
from benecomune_contracts import booking as b
from benecomune_contracts import catalog as c
from benecomune_contracts.base import ContractEvent
from catalog.adapters.contract_mapping import to_contract
from catalog.application.app import CatalogApplication
from eventsourcing.persistence import Tracking
from servicekit.consumer import offset_position_name, upstream_position_name

TOPIC = BOOKING_TOPIC.name
ANSWERS = (c.SlotHeld, c.SlotHoldRefused, c.SlotHoldConfirmed, c.SlotReleased)


def envelope_of(event: ContractEvent, notification_id: int) -> EventEnvelope:
    return EventEnvelope(
        id=str(uuid.uuid4()),
        source="/benecomune/biella/booking",
        type=event.type_name,
        time=datetime.now(UTC),
        subject=str(getattr(event, "booking_id", "x")),
        notification_id=notification_id,
        sequence=1,
    )


def deliver(
    app: CatalogApplication,
    event: ContractEvent,
    notification_id: int | None = None,
    partition: int = 0,
) -> bool:
    """As the kit's consumer does: the booking relay's notification id, then the offset. The
    partition's next notification id unless one is given (the same one again is a redelivery)."""
    upstream = upstream_position_name(TOPIC, partition)
    number = notification_id or (app.position(upstream) or 0) + 1
    return app.process_message(
        event,
        [
            Tracking(upstream, number),
            Tracking(offset_position_name(TOPIC, partition), number),
        ],
        envelope_of(event, number),
    )


class Booking:
    """One booking's requests for one slot (component 1)."""

    def __init__(self, slot_id: UUID | str, offering_id: UUID, provider_id: str) -> None:
        self.booking_id = str(uuid.uuid4())
        self.slot_id = str(slot_id)
        self.offering_id = str(offering_id)
        self.provider_id = provider_id
        self.request_id = f"booking:{self.booking_id}:c1:slot"

    @property
    def holder(self) -> str:
        return f"booking:{self.booking_id}"

    def hold(self, **changes: Any) -> b.SlotHoldRequested:
        now = datetime.now(UTC)
        fields: dict[str, Any] = {
            "booking_id": self.booking_id,
            "component": 1,
            "request_id": self.request_id,
            "slot_id": self.slot_id,
            "offering_id": self.offering_id,
            "provider_id": self.provider_id,
            "expires_at": now + timedelta(minutes=30),
            "requested_at": now,
        }
        return b.SlotHoldRequested(**{**fields, **changes})

    def confirm(self) -> b.SlotConfirmRequested:
        return b.SlotConfirmRequested(
            booking_id=self.booking_id,
            component=1,
            request_id=self.request_id,
            slot_id=self.slot_id,
            requested_at=datetime.now(UTC),
        )

    def release(self) -> b.SlotReleaseRequested:
        return b.SlotReleaseRequested(
            booking_id=self.booking_id,
            component=1,
            request_id=self.request_id,
            slot_id=self.slot_id,
            requested_at=datetime.now(UTC),
        )


def published(app: CatalogApplication) -> list[ContractEvent]:
    """Every contract event the relay would publish from the store, in order."""
    found: list[ContractEvent] = []
    start = 1
    while batch := app.recorder.select_notifications(start=start, limit=1000):
        for notification in batch:
            event = to_contract(app.mapper.to_domain_event(notification))
            if event is not None:
                found.append(event)
        start = batch[-1].id + 1
    return found


def answers(app: CatalogApplication, request_id: str | None = None) -> list[Any]:
    """The catalog's answers about slot holds (to one request id, if given)."""
    return [
        e
        for e in published(app)
        if isinstance(e, ANSWERS) and (request_id is None or e.request_id == request_id)
    ]


def kinds(events: list[Any]) -> list[str]:
    return [type(e).__name__ for e in events]
