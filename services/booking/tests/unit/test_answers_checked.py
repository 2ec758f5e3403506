"""An answer moves a booking only if it is really that booking's: the catalog's names its
holder, the wallet's and the vouchers' the account (and the booking); a refused capture or
release never leaves the booking waiting silently."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from benecomune_contracts import booking as contract
from benecomune_contracts import catalog, vouchers, wallet
from booking.application.app import BookingApplication
from booking.application.views import Page

from ..answers import CHAIN, at, funds_held, slot_held
from .test_participants import feed, hold_everything, published, request


def test_a_slot_answer_held_for_another_booking_or_slot_is_ignored(
    app: BookingApplication,
) -> None:
    booking = request(app)
    ask = published(app, contract.SlotHoldRequested)[0]
    other = "booking:00000000-0000-0000-0000-000000000000"
    feed(app, slot_held(ask, holder=other))
    feed(app, slot_held(ask, slot_id="s-other"))
    assert app.get_booking(booking.id).component(1).slot.status == "requested"
    feed(app, slot_held(ask, holder=None))  # an older catalog: its request id is the booking's
    assert app.get_booking(booking.id).component(1).slot.status == "held"


def test_funds_answers_for_another_account_or_booking_are_ignored(
    app: BookingApplication,
) -> None:
    booking = request(
        app,
        vouchers=[{"voucher_id": "v-1", "available_cents": 3_000}],
        wallet={"wallet_id": "w-1", "available_cents": 7_000},
    )
    asks = {a.source: a for a in published(app, contract.FundsHoldRequested)}
    wrong_wallet = funds_held(asks["wallet"]).model_copy(update={"wallet_id": "w-2"})
    feed(app, wrong_wallet)
    other = "00000000-0000-0000-0000-000000000000"
    feed(app, funds_held(asks["voucher"]).model_copy(update={"booking_id": other}))
    # the wallet answering the voucher's request is not the voucher's answer
    feed(app, funds_held(asks["voucher"]).model_copy(update={"voucher_id": "v-9"}))
    b = app.get_booking(booking.id)
    assert {f.source: f.status for f in b.component(1).funds.values()} == {
        "voucher:v-1": "requested",
        "wallet:w-1": "requested",
    }
    hold_everything(app, booking.id)
    assert app.get_booking(booking.id).status == "confirmed"


def settle(app: BookingApplication, booking_id: object) -> None:
    later = datetime.now(UTC) + timedelta(days=5, minutes=5)
    b = app.get_booking(booking_id)  # type: ignore[arg-type]
    b.deliver(1, "p-1", None, later)
    b.confirm_delivery(1, "beneficiary", later)
    app.save(b)


def test_a_refused_capture_marks_the_booking_stuck_for_the_operator(
    app: BookingApplication,
) -> None:
    booking = request(app)
    hold_everything(app, booking.id)
    settle(app, booking.id)
    [capture] = published(app, contract.FundsCaptureRequested)
    feed(app, wallet.RequestRefused(
        request_id=capture.request_id, request="capture", booking_id=str(booking.id),
        wallet_id="w-1", hold_id=capture.hold_id, hold_request_id=capture.hold_request_id,
        hold_status="held", amount_cents=capture.amount_cents,
        reason_code="provider_mismatch", reason="not the hold's provider", refused_at=at(),
    ))  # fmt: skip
    b = app.get_booking(booking.id)
    assert b.component(1).funds["wallet:w-1"].status == "capture_refused"
    assert b.stuck == [
        {
            "index": 1,
            "source": "wallet:w-1",
            "request": "capture",
            "reason_code": "provider_mismatch",
        }
    ]
    stuck = app.operator_view("stuck", datetime.now(UTC), Page())
    assert [(r.booking_id, r.stuck_reason) for r in stuck] == [
        (booking.id, "capture_refused:provider_mismatch")
    ]


def test_a_capture_refused_because_the_hold_lapsed_pays_nothing_and_settles(
    app: BookingApplication,
) -> None:
    booking = request(app)
    hold_everything(app, booking.id)
    settle(app, booking.id)
    [capture] = published(app, contract.FundsCaptureRequested)
    feed(app, wallet.RequestRefused(
        request_id=capture.request_id, request="capture", booking_id=str(booking.id),
        wallet_id="w-1", hold_id=capture.hold_id, hold_request_id=capture.hold_request_id,
        hold_status="expired", reason_code="hold_not_open", reason="expired", refused_at=at(),
    ))  # fmt: skip
    b = app.get_booking(booking.id)
    assert b.status == "completed" and b.stuck == []
    assert b.component(1).settlement["wallet:w-1"] == 6_000
    [captured] = published(app, contract.ComponentCaptured)
    assert {p.source: p.amount_cents for p in captured.paid} == {"wallet": 0, "co_payment": 4_000}
    # the provider's statement: nothing through the platform, the co-payment due
    now = datetime.now(UTC)
    [line] = app.provider_statement("p-1", now - timedelta(days=1), now + timedelta(days=9), Page())
    assert (line.captured_cents, line.co_payment_due_cents, line.co_payment_paid) == (
        0,
        4_000,
        False,
    )


def test_a_release_refused_for_a_hold_the_wallet_never_had_completes_compensation(
    app: BookingApplication,
) -> None:
    booking = request(app, instant=False)
    [slot] = published(app, contract.SlotHoldRequested)
    feed(app, slot_held(slot))
    [hold] = published(app, contract.FundsHoldRequested)
    feed(app, funds_held(hold))
    b = app.get_booking(booking.id)
    b.cancel("c-1", "family", datetime.now(UTC))
    app.save(b)
    [release] = published(app, contract.FundsReleaseRequested)
    feed(app, wallet.RequestRefused(
        request_id=release.request_id, request="release", booking_id=str(booking.id),
        wallet_id="w-1", hold_request_id=release.hold_request_id,
        reason_code="hold_not_found", reason="no such hold", refused_at=at(),
    ))  # fmt: skip
    [slot_release] = published(app, contract.SlotReleaseRequested)
    feed(app, catalog.SlotReleased(
        slot_id="s-1", request_id=slot_release.request_id, quantity=1, released_at=at(),
        holder=f"booking:{booking.id}",
    ))  # fmt: skip
    assert app.get_booking(booking.id).status == "compensated"


def test_a_service_voucher_is_held_captured_and_paid_to_the_provider(
    app: BookingApplication,
) -> None:
    booking = request(app, vouchers=[{"voucher_id": "v-1", "available_cents": 10_000}])
    hold_everything(app, booking.id)
    assert app.get_booking(booking.id).status == "confirmed"
    settle(app, booking.id)
    [capture] = published(app, contract.FundsCaptureRequested)
    assert (capture.source, capture.hold_id, capture.amount_cents) == ("voucher", "hv-1", 10_000)
    feed(app, vouchers.ServiceVoucherCaptured(
        stream_id="v-1", **CHAIN, voucher_id="v-1", round_id="r-1", hold_id="hv-1",
        request_id=capture.request_id, booking_id=str(booking.id), redemption_id="x-1",
        provider_id="p-1", category="elderly_care", amount_cents=10_000, released_cents=0,
        held_cents=0, remaining_cents=0, captured_at=at(),
    ))  # fmt: skip
    assert app.get_booking(booking.id).status == "completed"
    [captured] = published(app, contract.ComponentCaptured)
    assert {p.source: p.amount_cents for p in captured.paid} == {"voucher": 10_000}
    now = datetime.now(UTC)
    [line] = app.provider_statement("p-1", now - timedelta(days=1), now + timedelta(days=9), Page())
    assert (line.captured_cents, line.co_payment_due_cents) == (10_000, 0)
