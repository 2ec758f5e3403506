"""A funds hold names whose booking it is, so the wallet can refuse a wallet its beneficiary
does not hold; and a refused capture or release of a hold that already ended pays nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from benecomune_contracts import booking as contract
from benecomune_contracts import catalog, vouchers, wallet
from booking.application.app import BookingApplication

from ..answers import funds_held, slot_held
from .test_participants import feed, published, request

CHAIN: dict[str, Any] = {"sequence": 3, "prev_hash": "0" * 64, "event_hash": "0" * 64}


def at() -> datetime:
    return datetime.now(UTC)


def test_the_hold_request_names_the_beneficiary(app: BookingApplication) -> None:
    request(app)
    [ask] = published(app, contract.FundsHoldRequested)
    assert ask.beneficiary_id == "b-1"


def test_a_wallet_the_beneficiary_does_not_hold_is_refused_and_compensated(
    app: BookingApplication,
) -> None:
    booking = request(app, wallet={"wallet_id": "w-other", "available_cents": 6_000})
    [slot] = published(app, contract.SlotHoldRequested)
    feed(app, slot_held(slot))
    [ask] = published(app, contract.FundsHoldRequested)
    feed(app, wallet.HoldRefused(
        stream_id="w-other", **CHAIN, transfers=[], wallet_id="w-other", employee_id="b-9",
        request_id=ask.request_id, provider_id="p-1", category="elderly_care",
        amount_cents=ask.amount_cents, reason_code="not_wallet_holder",
        reason="the booking's beneficiary b-1 does not hold this wallet", refused_at=at(),
    ))  # fmt: skip
    [release] = published(app, contract.SlotReleaseRequested)
    feed(app, catalog.SlotReleased(
        slot_id="s-1", request_id=release.request_id, quantity=1, released_at=at(),
        holder=f"booking:{booking.id}",
    ))  # fmt: skip
    b = app.get_booking(booking.id)
    assert b.status == "compensated"
    assert [t.reason_code for t in published(app, contract.BookingCompensated)] == ["funds_refused"]
    assert published(app, contract.BookingConfirmed) == []


def _voucher_release_refused(app: BookingApplication, reason_code: str) -> str:
    booking = request(
        app, instant=False, vouchers=[{"voucher_id": "v-1", "available_cents": 10_000}]
    )
    [slot] = published(app, contract.SlotHoldRequested)
    feed(app, slot_held(slot))
    [hold] = published(app, contract.FundsHoldRequested)
    feed(app, funds_held(hold))
    b = app.get_booking(booking.id)
    b.cancel("c-1", "family", datetime.now(UTC))
    app.save(b)
    [release] = published(app, contract.FundsReleaseRequested)
    feed(app, vouchers.ServiceVoucherRequestRefused(
        stream_id="v-1", **CHAIN, voucher_id="v-1", booking_id=str(booking.id),
        request_id=release.request_id, hold_request_id=release.hold_request_id,
        request="release", reason_code=reason_code, refused_at=at(),
    ))  # fmt: skip
    [slot_release] = published(app, contract.SlotReleaseRequested)
    feed(app, catalog.SlotReleased(
        slot_id="s-1", request_id=slot_release.request_id, quantity=1, released_at=at(),
        holder=f"booking:{booking.id}",
    ))  # fmt: skip
    return str(app.get_booking(booking.id).status)


def test_a_voucher_release_refused_because_the_hold_was_released_compensates(
    app: BookingApplication,
) -> None:
    assert _voucher_release_refused(app, "hold_released") == "compensated"


def test_a_voucher_release_refused_because_the_hold_lapsed_compensates(
    app: BookingApplication,
) -> None:
    assert _voucher_release_refused(app, "hold_lapsed") == "compensated"


def test_a_voucher_release_refused_while_the_hold_is_open_is_stuck(
    app: BookingApplication,
) -> None:
    assert _voucher_release_refused(app, "not_the_provider") != "compensated"
