"""The booking read model: the booking's events projected into SQL tables for every list (a
beneficiary's bookings, a provider's queues, the operator's stuck and disputed bookings) and
for the deadlines job (which bookings have a deadline due), so that no query reads the event
log. The kit keeps the tables and their position (:mod:`servicekit.projection`); the queries
are in :mod:`booking.application.views`. A booking itself is read by id from the store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import singledispatchmethod
from typing import Any
from uuid import UUID

from servicekit.projection import Projection, ReadModelStore, read_model_url
from servicekit.settings import ServiceSettings
from sqlalchemy import (
    BigInteger,
    Column,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection

from booking.domain.aftercare_state import AftercareState as A
from booking.domain.booking_state import BookingState as S
from booking.domain.compensation_state import CompensationState as C

NAME = "booking"
VERSION = 3  # 2: stuck_reason; 3: what each component paid its provider
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def micros(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(microseconds=1)


def from_micros(value: int) -> datetime:
    return EPOCH + timedelta(microseconds=value)


metadata = MetaData()

bookings = Table(
    "bookings",
    metadata,
    Column("booking_id", String(36), primary_key=True),
    Column("beneficiary_id", String(140), nullable=False, index=True),
    Column("caller", String(160), nullable=False, index=True),
    Column("requester_role", String(20), nullable=False, index=True),
    Column("status", String(20), nullable=False, index=True),
    Column("reason_code", String(40), nullable=True),
    Column("total_cents", BigInteger, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Column("disputed", Integer, nullable=False, default=0),
    # a capture or release a participant refused, still holding the money: "<request>:<code>"
    Column("stuck_reason", String(80), nullable=True),
)

components = Table(
    "booking_components",
    metadata,
    Column("booking_id", String(36), nullable=False),
    Column("idx", Integer, nullable=False),
    Column("provider_id", String(140), nullable=False, index=True),
    Column("offering_id", String(140), nullable=False),
    Column("slot_id", String(140), nullable=False),
    Column("starts_at", BigInteger, nullable=False),
    Column("price_cents", BigInteger, nullable=False),
    Column("acceptance", String(20), nullable=False),
    Column("stage", String(20), nullable=False),
    # the provider's statement: what the sources paid (co-payment apart), what the family owes
    Column("captured_cents", BigInteger, nullable=False, default=0),
    Column("co_payment_due_cents", BigInteger, nullable=False, default=0),
    Column("co_payment_paid", Integer, nullable=False, default=0),
    Column("settled_at", BigInteger, nullable=True, index=True),
    PrimaryKeyConstraint("booking_id", "idx"),
)

deadlines = Table(
    "booking_deadlines",
    metadata,
    Column("booking_id", String(36), nullable=False),
    Column("key", String(40), nullable=False),
    Column("due_at", BigInteger, nullable=False, index=True),
    PrimaryKeyConstraint("booking_id", "key"),
)


class BookingProjection(Projection):
    name = NAME
    version = VERSION
    metadata = metadata

    @singledispatchmethod
    def apply(self, domain_event: object, connection: Connection) -> None:
        """Events no list needs are skipped (holds, releases, the timeline's details)."""

    @staticmethod
    def _booking(connection: Connection, e: Any, **values: object) -> None:
        connection.execute(
            update(bookings)
            .where(bookings.c.booking_id == str(e.originator_id))
            .values(updated_at=micros(e.at), **values)
        )

    @staticmethod
    def _component(connection: Connection, e: Any, **values: object) -> None:
        connection.execute(
            update(components)
            .where(components.c.booking_id == str(e.originator_id), components.c.idx == e.index)
            .values(**values)
        )
        BookingProjection._booking(connection, e)

    @staticmethod
    def _deadline(connection: Connection, booking_id: UUID, key: str, due_at: datetime) -> None:
        connection.execute(
            insert(deadlines).values(booking_id=str(booking_id), key=key, due_at=micros(due_at))
        )

    @apply.register
    def _(self, e: S.Requested, connection: Connection) -> None:
        booking_id = str(e.originator_id)
        connection.execute(
            insert(bookings).values(
                booking_id=booking_id,
                beneficiary_id=e.beneficiary_id,
                caller=e.caller,
                requester_role=e.requester["role"],
                status="requested",
                total_cents=sum(e.split.values()),
                created_at=micros(e.at),
                updated_at=micros(e.at),
                disputed=0,
            )
        )
        connection.execute(
            insert(components),
            [
                {
                    "booking_id": booking_id,
                    "idx": index,
                    "provider_id": c["provider_id"],
                    "offering_id": c["offering_id"],
                    "slot_id": c["slot_id"],
                    "starts_at": micros(c["starts_at"]),
                    "price_cents": c["price_cents"],
                    "acceptance": "awaiting",
                    "stage": "booking",
                    "captured_cents": 0,
                    "co_payment_due_cents": 0,
                    "co_payment_paid": 0,
                }
                for index, c in enumerate(e.components, start=1)
            ],
        )
        self._deadline(connection, e.originator_id, "holds", e.answers_due)
        self._deadline(connection, e.originator_id, "hold_expiry", e.hold_expires_at)

    @apply.register
    def _(self, e: S.AcceptanceRequested, connection: Connection) -> None:
        self._component(connection, e, acceptance="requested")
        self._deadline(connection, e.originator_id, f"acceptance:{e.index}", e.due_at)

    @apply.register
    def _(self, e: S.Accepted, connection: Connection) -> None:
        self._component(connection, e, acceptance="accepted")

    @apply.register
    def _(self, e: S.Declined, connection: Connection) -> None:
        self._component(connection, e, acceptance="declined")

    @apply.register
    def _(self, e: S.Confirmed, connection: Connection) -> None:
        self._booking(connection, e, status="confirmed")
        self._stage_all(connection, e, "booked")

    @staticmethod
    def _stage_all(connection: Connection, e: Any, stage: str) -> None:
        connection.execute(
            update(components)
            .where(components.c.booking_id == str(e.originator_id))
            .values(stage=stage)
        )

    @apply.register
    def _(self, e: C.CompensationStarted, connection: Connection) -> None:
        self._booking(connection, e, status="compensating", reason_code=e.reason_code)

    @apply.register
    def _(self, e: C.FundsRequestRefused, connection: Connection) -> None:
        self._booking(connection, e, stuck_reason=f"{e.request}_refused:{e.reason_code}"[:80])

    @apply.register
    def _(self, e: C.Compensated, connection: Connection) -> None:
        self._booking(connection, e, status="compensated")
        self._stage_all(connection, e, "compensated")

    @apply.register
    def _(self, e: C.DeadlineFired, connection: Connection) -> None:
        connection.execute(
            delete(deadlines).where(
                deadlines.c.booking_id == str(e.originator_id), deadlines.c.key == e.key
            )
        )

    @apply.register
    def _(self, e: A.Delivered, connection: Connection) -> None:
        self._component(connection, e, stage="delivered")
        self._deadline(connection, e.originator_id, f"confirmation:{e.index}", e.confirmation_due)

    @apply.register
    def _(self, e: A.Disputed, connection: Connection) -> None:
        self._component(connection, e, stage="disputed")
        self._booking(connection, e, disputed=bookings.c.disputed + 1)

    @apply.register
    def _(self, e: A.DisputeResolved, connection: Connection) -> None:
        self._booking(connection, e, disputed=bookings.c.disputed - 1)

    @apply.register
    def _(self, e: A.SettlementStarted, connection: Connection) -> None:
        connection.execute(
            update(components)
            .where(
                components.c.booking_id == str(e.originator_id),
                components.c.idx == e.index,
                components.c.stage.not_in(("cancelled", "no_show")),
            )
            .values(stage="settling")
        )
        self._booking(connection, e)

    @apply.register
    def _(self, e: A.ComponentCaptured, connection: Connection) -> None:
        connection.execute(
            update(components)
            .where(
                components.c.booking_id == str(e.originator_id),
                components.c.idx == e.index,
                components.c.stage == "settling",
            )
            .values(stage="captured")
        )
        paid = sum(cents for source, cents in e.settlement.items() if source != "co_payment")
        self._component(connection, e, captured_cents=paid, settled_at=micros(e.at))

    @apply.register
    def _(self, e: A.CoPaymentDue, connection: Connection) -> None:
        due = components.c.co_payment_due_cents + e.amount_cents
        self._component(connection, e, co_payment_due_cents=due)

    @apply.register
    def _(self, e: A.CoPaymentPaid, connection: Connection) -> None:
        self._component(connection, e, co_payment_paid=1)

    @apply.register
    def _(self, e: A.ComponentCancelled, connection: Connection) -> None:
        self._component(connection, e, stage="cancelled")

    @apply.register
    def _(self, e: A.NoShow, connection: Connection) -> None:
        self._component(connection, e, stage="no_show")

    @apply.register
    def _(self, e: A.Cancelled, connection: Connection) -> None:
        left = connection.execute(
            select(func.count())
            .select_from(components)
            .where(
                components.c.booking_id == str(e.originator_id), components.c.stage != "cancelled"
            )
        ).scalar_one()
        self._booking(connection, e, **({} if left else {"status": "cancelled"}))

    @apply.register
    def _(self, e: A.Completed, connection: Connection) -> None:
        self._booking(connection, e, status="completed")

    @apply.register
    def _(self, e: A.RescheduleRequested, connection: Connection) -> None:
        key = f"reschedule:{e.index}:{e.attempt}"
        self._deadline(connection, e.originator_id, key, e.due_at)
        self._booking(connection, e)

    @apply.register
    def _(self, e: A.Rescheduled, connection: Connection) -> None:
        self._component(connection, e, slot_id=e.slot_id, starts_at=micros(e.starts_at))


def open_read_model(settings: ServiceSettings) -> ReadModelStore:
    url, schema = read_model_url(settings, "booking-read-model.sqlite")
    return ReadModelStore(BookingProjection(), url, schema)
