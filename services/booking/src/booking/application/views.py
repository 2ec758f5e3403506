"""The read side: the lists, answered from the read model (:mod:`booking.adapters.read_model`),
never by scanning the event log. Each function takes the read model's store, caught up by its
caller, and returns plain rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal
from uuid import UUID

from servicekit.projection import ReadModelStore
from sqlalchemy import Select, and_, exists, or_, select

from booking.adapters import read_model as rm

MAX_PAGE = 200
# A booking waiting this long for a participant (or a settlement for its answers) is stuck.
STUCK_AFTER = timedelta(hours=1)

Queue = Literal["pending", "to_deliver"]
OperatorView = Literal["stuck", "disputed"]


@dataclass(frozen=True)
class Page:
    offset: int = 0
    limit: int = 50


@dataclass(frozen=True)
class ComponentRow:
    index: int
    provider_id: str
    offering_id: str
    slot_id: str
    starts_at: datetime
    price_cents: int
    acceptance: str
    stage: str


@dataclass(frozen=True)
class BookingRow:
    booking_id: UUID
    beneficiary_id: str
    requested_by: str
    status: str
    reason_code: str | None
    total_cents: int
    disputed: int
    stuck_reason: str | None
    created_at: datetime
    updated_at: datetime
    components: list[ComponentRow]


def _rows(store: ReadModelStore, query: Select[Any], page: Page) -> list[BookingRow]:
    b, c = rm.bookings, rm.components
    query = query.order_by(b.c.created_at.desc(), b.c.booking_id).offset(page.offset)
    with store.engine.connect() as connection:
        found = connection.execute(query.limit(page.limit)).all()
        ids = [r.booking_id for r in found]
        parts: dict[str, list[ComponentRow]] = {i: [] for i in ids}
        if ids:
            for r in connection.execute(
                select(c).where(c.c.booking_id.in_(ids)).order_by(c.c.booking_id, c.c.idx)
            ):
                row = ComponentRow(
                    index=r.idx,
                    provider_id=r.provider_id,
                    offering_id=r.offering_id,
                    slot_id=r.slot_id,
                    starts_at=rm.from_micros(r.starts_at),
                    price_cents=r.price_cents,
                    acceptance=r.acceptance,
                    stage=r.stage,
                )
                parts[r.booking_id].append(row)
    return [
        BookingRow(
            booking_id=UUID(r.booking_id),
            beneficiary_id=r.beneficiary_id,
            requested_by=r.requester_role,
            status=r.status,
            reason_code=r.reason_code,
            total_cents=r.total_cents,
            disputed=r.disputed,
            stuck_reason=r.stuck_reason,
            created_at=rm.from_micros(r.created_at),
            updated_at=rm.from_micros(r.updated_at),
            components=parts[r.booking_id],
        )
        for r in found
    ]


def bookings_of_beneficiary(
    store: ReadModelStore, beneficiary_id: str, caller: str, page: Page
) -> list[BookingRow]:
    """The bookings for the beneficiary, and those the caller requested (as a delegate)."""
    b = rm.bookings
    where = or_(b.c.beneficiary_id == beneficiary_id, b.c.caller == caller)
    return _rows(store, select(b).where(where), page)


def bookings_requested_by_social_workers(store: ReadModelStore, page: Page) -> list[BookingRow]:
    b = rm.bookings
    return _rows(store, select(b).where(b.c.requester_role == "social_worker"), page)


def provider_queue(
    store: ReadModelStore, provider_id: str, queue: Queue, page: Page
) -> list[BookingRow]:
    """``pending``: bookings waiting for the provider's acceptance; ``to_deliver``: confirmed
    components of the provider not yet delivered."""
    b, c = rm.bookings, rm.components
    if queue == "pending":
        part = and_(c.c.acceptance == "requested", b.c.status == "requested")
    else:
        part = c.c.stage == "booked"
    mine = exists().where(c.c.booking_id == b.c.booking_id, c.c.provider_id == provider_id, part)
    return _rows(store, select(b).where(mine), page)


def operator_view(
    store: ReadModelStore, view: OperatorView, now: datetime, page: Page
) -> list[BookingRow]:
    """``disputed``: bookings with a disputed component; ``stuck``: bookings waiting for a
    participant's answer (holds, releases, captures) for more than an hour, and at once those
    whose capture or release a participant refused while still holding the money."""
    b, c = rm.bookings, rm.components
    if view == "disputed":
        return _rows(store, select(b).where(b.c.disputed > 0), page)
    old = b.c.updated_at < rm.micros(now - STUCK_AFTER)
    settling = exists().where(c.c.booking_id == b.c.booking_id, c.c.stage == "settling")
    waiting = or_(b.c.status.in_(("requested", "compensating")), settling)
    refused = b.c.stuck_reason.is_not(None)
    return _rows(store, select(b).where(or_(and_(old, waiting), refused)), page)


def bookings_with_deadlines_due(store: ReadModelStore, now: datetime) -> list[UUID]:
    d = rm.deadlines
    query = (
        select(d.c.booking_id)
        .where(d.c.due_at <= rm.micros(now))
        .group_by(d.c.booking_id)
        .order_by(d.c.booking_id)
    )
    with store.engine.connect() as connection:
        return [UUID(r) for r in connection.execute(query).scalars()]


@dataclass(frozen=True)
class StatementLine:
    booking_id: UUID
    index: int
    offering_id: str
    settled_at: datetime | None
    captured_cents: int
    co_payment_due_cents: int
    co_payment_paid: bool


def provider_statement(
    store: ReadModelStore, provider_id: str, since: datetime, until: datetime, page: Page
) -> list[StatementLine]:
    """The provider's components settled in [since, until) (what the sources paid it, the
    co-payment the family owes it), and any co-payment still unpaid, whenever due."""
    c = rm.components
    in_period = and_(c.c.settled_at >= rm.micros(since), c.c.settled_at < rm.micros(until))
    unpaid = and_(c.c.co_payment_due_cents > 0, c.c.co_payment_paid == 0)
    query = (
        select(c)
        .where(c.c.provider_id == provider_id, or_(in_period, unpaid))
        .order_by(c.c.settled_at, c.c.booking_id, c.c.idx)
        .offset(page.offset)
        .limit(page.limit)
    )
    with store.engine.connect() as connection:
        return [
            StatementLine(
                booking_id=UUID(r.booking_id),
                index=r.idx,
                offering_id=r.offering_id,
                settled_at=rm.from_micros(r.settled_at) if r.settled_at is not None else None,
                captured_cents=r.captured_cents,
                co_payment_due_cents=r.co_payment_due_cents,
                co_payment_paid=bool(r.co_payment_paid),
            )
            for r in connection.execute(query)
        ]
