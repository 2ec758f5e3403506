"""What the booking API answers: a booking with its timeline, list rows, the cancellation
preview. Built from the aggregate (a booking by id) or from the read model's rows (lists)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field

from booking.application.views import BookingRow, StatementLine
from booking.domain.booking import Booking
from booking.domain.components import REASONS, Component


class Accepted(BaseModel):
    booking_id: UUID
    status: str
    location: str = Field(description="Where to follow the booking: GET it until it settles")


class Reason(BaseModel):
    code: str
    it: str
    en: str
    detail: str | None = None


class FundsView(BaseModel):
    source: str
    amount_cents: int
    status: str


class DisputeView(BaseModel):
    """The family's dispute of a delivered component, in its own words."""

    reason: str = Field(description="Why the family disputes the delivery, as it wrote it")
    opened_at: datetime


class ComponentView(BaseModel):
    index: int
    offering_id: str
    provider_id: str
    slot_id: str
    starts_at: datetime
    ends_at: datetime
    price_cents: int
    category: str
    instant: bool
    acceptance: str
    stage: str
    slot_status: str
    shares: dict[str, int] = Field(description="What each source pays for it, in cents")
    funds: list[FundsView]
    settlement: dict[str, int] = Field(description="What each source finally pays")
    co_payment_due_cents: int
    co_payment_paid: bool
    moving_to_slot: str | None
    cancellation: dict[str, int]
    dispute: DisputeView | None = Field(
        default=None,
        description="The family's dispute of this component, if it was disputed (kept once "
        "the operator decides it)",
    )


class TimelineLine(BaseModel):
    at: datetime
    step: str
    component: int | None
    source: str | None
    detail: str | None


class DeadlineView(BaseModel):
    key: str
    due_at: datetime
    fired: bool


class BookingView(BaseModel):
    booking_id: UUID
    status: Literal[
        "requested", "confirmed", "compensating", "compensated", "cancelled", "completed"
    ]
    beneficiary_id: str
    for_member_id: str | None
    requested_by: str
    package_id: str | None
    total_cents: int
    split: dict[str, int]
    reason: Reason | None
    components: list[ComponentView]
    deadlines: list[DeadlineView]
    timeline: list[TimelineLine]
    requested_at: datetime
    updated_at: datetime


def _dispute(b: Booking, c: Component) -> DisputeView | None:
    """The family's reason and when it disputed (the timeline's last ``disputed`` line).

    Shown to whoever sees the component: the family and the operator (who decides), the auditor,
    and the provider of that component, and of that one only (``_provider_view`` leaves other
    providers' components out). The provider is told because the dispute is about its own
    delivery and holds its payment back: it cannot answer the operator, or put things right
    with the family, without knowing what is contested. The reason is the family's free text
    about that service, no more personal than the booking the provider already sees."""
    if c.dispute_reason is None:
        return None
    opened = [
        line["at"]
        for line in b.timeline
        if line["step"] == "disputed" and line["component"] == c.index
    ]
    return DisputeView(reason=c.dispute_reason, opened_at=opened[-1] if opened else b.updated_at)


def _component(b: Booking, c: Component) -> ComponentView:
    return ComponentView(
        index=c.index,
        offering_id=c.spec.offering_id,
        provider_id=c.provider_id,
        slot_id=c.slot.slot_id,
        starts_at=c.slot.starts_at,
        ends_at=c.slot.ends_at,
        price_cents=c.spec.price_cents,
        category=c.spec.category,
        instant=c.spec.instant,
        acceptance=c.acceptance,
        stage=c.stage,
        slot_status=c.slot.status,
        shares=c.shares,
        funds=[
            FundsView(source=f.source, amount_cents=f.amount_cents, status=f.status)
            for f in c.funds.values()
        ],
        settlement=c.settlement,
        co_payment_due_cents=c.co_payment_due_cents,
        co_payment_paid=c.co_payment_paid,
        moving_to_slot=c.reschedule.hold.slot_id if c.reschedule is not None else None,
        cancellation=c.spec.policy.as_dict(),
        dispute=_dispute(b, c),
    )


def _deadline_index(key: str) -> int | None:
    """The component a deadline is about (``acceptance:2``, ``reschedule:2:1``), if any."""
    part = key.partition(":")[2].partition(":")[0]
    return int(part) if part.isdigit() else None


def booking_view(b: Booking, provider_id: str | None = None) -> BookingView:
    """The booking as the caller may see it: whole for the family, the operator and the
    auditor; for a provider (``provider_id``) only its own components, and the totals, split,
    deadlines and timeline of those (a line about the whole booking without its detail,
    which may be another provider's words)."""
    if provider_id is not None:
        return _provider_view(b, provider_id)
    reason = None
    if b.reason_code is not None:
        it, en = REASONS[b.reason_code]
        reason = Reason(code=b.reason_code, it=it, en=en, detail=b.reason_detail)
    return BookingView(
        booking_id=b.id,
        status=b.status,  # type: ignore[arg-type]
        beneficiary_id=b.beneficiary_id,
        for_member_id=b.for_member_id,
        requested_by=b.requester["role"],
        package_id=b.package_id,
        total_cents=sum(b.split.values()),
        split=b.split,
        reason=reason,
        components=[_component(b, c) for c in b.components],
        deadlines=[
            DeadlineView(key=k, due_at=d["due_at"], fired=d["fired"])
            for k, d in b.deadlines.items()
        ],
        timeline=[TimelineLine(**line) for line in b.timeline],
        requested_at=b.requested_at,
        updated_at=b.updated_at,
    )


def _provider_view(b: Booking, provider_id: str) -> BookingView:
    mine = [c for c in b.components if c.provider_id == provider_id]
    own = {c.index for c in mine}
    split: dict[str, int] = {}
    for c in mine:
        for source, cents in c.shares.items():
            split[source] = split.get(source, 0) + cents
    reason = None
    if b.reason_code is not None:
        it, en = REASONS[b.reason_code]
        reason = Reason(code=b.reason_code, it=it, en=en)
    timeline = [
        TimelineLine(**(line if line["component"] is not None else {**line, "detail": None}))
        for line in b.timeline
        if line["component"] is None or line["component"] in own
    ]
    return BookingView(
        booking_id=b.id,
        status=b.status,  # type: ignore[arg-type]
        beneficiary_id=b.beneficiary_id,
        for_member_id=b.for_member_id,
        requested_by=b.requester["role"],
        package_id=b.package_id,
        total_cents=sum(c.spec.price_cents for c in mine),
        split=split,
        reason=reason,
        components=[_component(b, c) for c in mine],
        deadlines=[
            DeadlineView(key=k, due_at=d["due_at"], fired=d["fired"])
            for k, d in b.deadlines.items()
            if _deadline_index(k) is None or _deadline_index(k) in own
        ],
        timeline=timeline,
        requested_at=b.requested_at,
        updated_at=b.updated_at,
    )


class ComponentSummary(BaseModel):
    index: int
    provider_id: str
    offering_id: str
    slot_id: str
    starts_at: datetime
    price_cents: int
    acceptance: str
    stage: str


class BookingSummary(BaseModel):
    booking_id: UUID
    status: str
    beneficiary_id: str
    requested_by: str
    reason_code: str | None
    stuck_reason: str | None = Field(
        default=None,
        description="A capture or release a participant refused while holding the money "
        "(<request>_refused:<reason code>): the operator's to settle",
    )
    total_cents: int
    disputed_components: int
    created_at: datetime
    updated_at: datetime
    components: list[ComponentSummary]


def summary(row: BookingRow, provider_id: str | None = None) -> BookingSummary:
    """A list row; for a provider, only its components and their total."""
    parts = [c for c in row.components if provider_id is None or c.provider_id == provider_id]
    return BookingSummary(
        booking_id=row.booking_id,
        status=row.status,
        beneficiary_id=row.beneficiary_id,
        requested_by=row.requested_by,
        reason_code=row.reason_code,
        stuck_reason=row.stuck_reason,
        total_cents=row.total_cents if provider_id is None else sum(c.price_cents for c in parts),
        disputed_components=row.disputed
        if provider_id is None
        else sum(c.stage == "disputed" for c in parts),
        created_at=row.created_at,
        updated_at=row.updated_at,
        components=[ComponentSummary(**vars(c)) for c in parts],
    )


class ComponentFee(BaseModel):
    index: int
    fee_cents: int
    by_source: dict[str, int]


class CancellationPreview(BaseModel):
    """What cancelling now would cost; before confirmation it is free (nothing was booked)."""

    booking_id: UUID
    status: str
    by: Literal["family", "provider"]
    fee_cents: int
    components: list[ComponentFee]
    at: datetime


class StatementLineView(BaseModel):
    booking_id: UUID
    index: int
    offering_id: str
    settled_at: datetime | None
    captured_cents: int = Field(description="What the vouchers and the welfare credit paid")
    co_payment_due_cents: int = Field(description="What the family owes (paid outside)")
    co_payment_paid: bool


class Statement(BaseModel):
    provider_id: str
    since: datetime
    until: datetime
    captured_cents: int = Field(description="Paid through the platform in the period")
    co_payment_due_cents: int = Field(description="Co-payments listed and still unpaid")
    lines: list[StatementLineView]


def statement(
    provider_id: str, since: datetime, until: datetime, lines: list[StatementLine]
) -> Statement:
    views = [StatementLineView(**vars(line)) for line in lines]
    return Statement(
        provider_id=provider_id,
        since=since,
        until=until,
        captured_cents=sum(
            v.captured_cents for v in views if v.settled_at is not None and v.settled_at >= since
        ),
        co_payment_due_cents=sum(v.co_payment_due_cents for v in views if not v.co_payment_paid),
        lines=views,
    )
