"""Bookings as the tests tell them: components, splits, and the participants' answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from booking.domain.booking import Booking
from booking.domain.components import CancellationPolicy, ComponentSpec

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
WALLET = "wallet:w-1"
VOUCHER = "voucher:v-1"
CO_PAY = "co_payment"
POLICY = CancellationPolicy(free_until_hours=48, fee_percent=50, no_show_fee_percent=100)


def spec(
    n: int = 1,
    *,
    provider: str = "p-1",
    price: int = 10_000,
    instant: bool = False,
    starts_in: timedelta = timedelta(days=5),
    acceptance_hours: int = 24,
    order: int | None = None,
    policy: CancellationPolicy = POLICY,
) -> ComponentSpec:
    starts = NOW + starts_in
    return ComponentSpec(
        offering_id=f"o-{n}",
        provider_id=provider,
        slot_id=f"s-{n}",
        starts_at=starts,
        ends_at=starts + timedelta(hours=1),
        price_cents=price,
        category="services_no_cap",
        instant=instant,
        acceptance_hours=0 if instant else acceptance_hours,
        policy=policy,
        order=n if order is None else order,
    )


def book(
    *specs: ComponentSpec,
    split: dict[str, int] | None = None,
    requester: dict[str, Any] | None = None,
    now: datetime = NOW,
) -> Booking:
    chosen = list(specs) or [spec()]
    total = sum(s.price_cents for s in chosen)
    booking: Booking = Booking.request(
        client_request_id="r-1",
        caller="beneficiary:b-1",
        beneficiary_id="b-1",
        for_member_id=None,
        requester=requester or {"role": "beneficiary", "subject": "b-1"},
        package_id=None,
        specs=chosen,
        split=split if split is not None else {WALLET: total},
        confirm_taxable=False,
        now=now,
    )
    return booking


def hold_id(request_id: str) -> str:
    return f"hold-{request_id[-40:]}"


def hold_everything(booking: Booking, now: datetime = NOW) -> None:
    """Every participant holds what the booking asked for."""
    for component in booking.components:
        booking.slot_held(component.slot.request_id, now)
        for funds in list(component.funds.values()):
            booking.funds_held(funds.request_id, hold_id(funds.request_id), now)


def confirmed(*specs: ComponentSpec, split: dict[str, int] | None = None) -> Booking:
    booking = book(*specs, split=split)
    hold_everything(booking)
    for component in booking.components:
        if component.acceptance == "requested":
            booking.accept(component.index, component.provider_id, NOW)
    assert booking.status == "confirmed"
    return booking


def events(booking: Booking) -> list[str]:
    """The names of the events recorded since last asked."""
    return [type(e).__name__ for e in booking.collect_events()]


def steps(booking: Booking) -> list[str]:
    return [line["step"] for line in booking.timeline]
