"""Test helpers: the booking saga's request events as the booking service publishes them, fed
to the wallet application as the kit's consumer does (upstream notification id first, then the
Kafka offset), and the wallet's answers as they leave on its topic (its contract mapping)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from benecomune_contracts import BOOKING_TOPIC, EventEnvelope
from benecomune_contracts import booking as b
from benecomune_contracts import wallet as c
from benecomune_contracts.base import ContractEvent
from eventsourcing.persistence import Tracking
from servicekit.consumer import offset_position_name, upstream_position_name
from wallet.adapters.contract_mapping import to_contract
from wallet.application.app import WalletApplication

TOPIC = BOOKING_TOPIC.name
PARTITION = 1
AT = datetime(2025, 6, 1, 10, 0, tzinfo=UTC)
BOOKING = str(uuid.UUID("4f1c2a7e-0b3d-4e5f-8a9b-1c2d3e4f5a6b"))
ANSWERS = (
    c.FundsHeld,
    c.HoldRefused,
    c.HoldCaptured,
    c.HoldReleased,
    c.HoldExpired,
    c.RequestRefused,
)


def rid(step: str) -> str:
    """A booking's request id: ``booking:<booking id>:<step>``."""
    return f"booking:{BOOKING}:{step}"


def hold_requested(
    wallet_id: UUID | str, step: str = "c1:f1:hold", amount: int = 20_000, **changes: Any
) -> b.FundsHoldRequested:
    fields: dict[str, Any] = {
        "booking_id": BOOKING,
        "component": 1,
        "request_id": rid(step),
        "source": "wallet",
        "account_id": str(wallet_id),
        "amount_cents": amount,
        "category": "services_no_cap",
        "provider_id": "coop-1",
        "expires_at": AT + timedelta(days=40),
        "requested_at": AT,
    }
    return b.FundsHoldRequested(**{**fields, **changes})


def capture_requested(
    wallet_id: UUID | str,
    step: str = "c1:f1:capture",
    amount: int = 20_000,
    hold_step: str = "c1:f1:hold",
    **changes: Any,
) -> b.FundsCaptureRequested:
    fields: dict[str, Any] = {
        "booking_id": BOOKING,
        "component": 1,
        "request_id": rid(step),
        "source": "wallet",
        "account_id": str(wallet_id),
        "hold_request_id": rid(hold_step),
        "provider_id": "coop-1",
        "amount_cents": amount,
        "requested_at": AT,
    }
    return b.FundsCaptureRequested(**{**fields, **changes})


def release_requested(
    wallet_id: UUID | str, step: str = "c1:f1:release", hold_step: str = "c1:f1:hold"
) -> b.FundsReleaseRequested:
    return b.FundsReleaseRequested(
        booking_id=BOOKING,
        component=1,
        request_id=rid(step),
        source="wallet",
        account_id=str(wallet_id),
        hold_request_id=rid(hold_step),
        requested_at=AT,
    )


class Booking:
    """The booking topic's partition, as the wallet's consumer reads it."""

    def __init__(self, app: WalletApplication, at: datetime = AT) -> None:
        self.app = app
        self.at = at
        self.notification_id = 0
        self.offset = 0

    def send(self, event: ContractEvent) -> bool:
        """The booking's relay publishes ``event`` (a new notification id and offset)."""
        self.notification_id += 1
        self.offset += 1
        return self.deliver(event, self.notification_id, self.offset)

    def deliver(self, event: ContractEvent, notification_id: int, offset: int) -> bool:
        envelope = EventEnvelope(
            id=str(uuid.uuid4()),
            source="/benecomune/biella/booking",
            type=event.type_name,
            time=self.at,
            subject=BOOKING,
            notification_id=notification_id,
            sequence=notification_id,
        )
        positions = [
            Tracking(upstream_position_name(TOPIC, PARTITION), notification_id),
            Tracking(offset_position_name(TOPIC, PARTITION), offset + 1),
        ]
        return self.app.process_message(event, positions, envelope)


def answers(app: WalletApplication, since: int = 0) -> list[ContractEvent]:
    """The wallet's answers to the saga stored after notification ``since``, as they leave on
    the wallet topic."""
    found: list[ContractEvent] = []
    for notification in app.recorder.select_notifications(start=since + 1, limit=10_000):
        public = to_contract(app.mapper.to_domain_event(notification))
        if isinstance(public, ANSWERS):
            found.append(public)
    return found


def last_id(app: WalletApplication) -> int:
    return app.recorder.max_notification_id() or 0
