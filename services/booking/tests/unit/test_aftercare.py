"""After confirmation, without a store: delivery and its confirmation, disputes, settlement
per funding source, cancellation, no-show and rescheduling."""

from __future__ import annotations

from datetime import timedelta

import pytest
from booking.domain.booking import Booking
from booking.domain.errors import InvalidAmount, InvalidTransition, RequestReused
from booking.domain.funding import Offer, default_split
from hypothesis import given, settings
from hypothesis import strategies as st

from ..stories import CO_PAY, NOW, VOUCHER, WALLET, confirmed, events, hold_id, spec, steps

SPLIT = {VOUCHER: 5_000, WALLET: 3_000, CO_PAY: 2_000}
STARTED = NOW + timedelta(days=5, minutes=5)


def captures(booking: Booking) -> dict[str, int]:
    return {
        e.source: e.amount_cents
        for e in booking.collect_events()
        if type(e).__name__ == "FundsCaptureRequested"
    }


def answer_captures(booking: Booking, index: int = 1) -> None:
    for funds in booking.component(index).funds.values():
        if funds.status == "capture_requested":
            booking.funds_captured(hold_id(funds.request_id), funds.amount_cents, STARTED)
        elif funds.status == "release_requested":
            booking.funds_released(hold_id(funds.request_id), "released", STARTED)


def delivered(booking: Booking, index: int = 1) -> Booking:
    booking.deliver(index, booking.component(index).provider_id, "all done", STARTED)
    return booking


def test_a_component_is_delivered_once_its_slot_has_started() -> None:
    booking = confirmed(split=SPLIT)
    with pytest.raises(InvalidTransition):
        booking.deliver(1, "p-1", None, NOW)
    delivered(booking)
    assert booking.component(1).stage == "delivered"
    assert booking.deadlines["confirmation:1"]["due_at"] == STARTED + timedelta(hours=48)


def test_a_confirmed_delivery_captures_each_sources_share_and_the_co_payment_is_due() -> None:
    booking = delivered(confirmed(split=SPLIT))
    events(booking)
    booking.confirm_delivery(1, "beneficiary", STARTED)
    pending = booking.collect_events()
    assert {e.source: e.amount_cents for e in pending if hasattr(e, "hold_id")} == {
        VOUCHER: 5_000,
        WALLET: 3_000,
    }
    due = [e for e in pending if type(e).__name__ == "CoPaymentDue"]
    assert [(d.provider_id, d.amount_cents) for d in due] == [("p-1", 2_000)]
    answer_captures(booking)
    assert booking.component(1).stage == "captured"
    assert booking.status == "completed"


def test_a_delivery_is_confirmed_automatically_after_48_hours_unless_disputed() -> None:
    booking = delivered(confirmed(spec(1), spec(2, provider="p-2"), split=SPLIT | {CO_PAY: 12_000}))
    delivered(booking, 2)
    booking.dispute(2, "nobody came", STARTED)
    booking.fire_due_deadlines(STARTED + timedelta(hours=48))
    assert booking.component(1).stage == "settling"
    assert booking.component(2).stage == "disputed"
    assert "deadline_passed" in steps(booking)


def test_an_operators_partial_capture_is_shared_across_the_sources_to_the_cent() -> None:
    booking = delivered(confirmed(split=SPLIT))
    booking.dispute(1, "half the session", STARTED)
    events(booking)
    booking.resolve(1, "partial_capture", 3_333, "half", STARTED)
    assert captures(booking) == {VOUCHER: 1_666, WALLET: 1_000}
    assert booking.component(1).settlement == {VOUCHER: 1_666, WALLET: 1_000, CO_PAY: 667}


def test_a_refund_decision_releases_every_hold() -> None:
    booking = delivered(confirmed(split=SPLIT))
    booking.dispute(1, "not delivered", STARTED)
    events(booking)
    booking.resolve(1, "refund", None, None, STARTED)
    assert events(booking).count("FundsReleaseRequested") == 2
    answer_captures(booking)
    assert booking.component(1).settled


def test_a_partial_capture_must_be_less_than_the_price() -> None:
    booking = delivered(confirmed(split=SPLIT))
    booking.dispute(1, "?", STARTED)
    with pytest.raises(InvalidAmount):
        booking.resolve(1, "partial_capture", 10_000, None, STARTED)


def test_a_confirmed_delivery_cannot_be_disputed() -> None:
    booking = delivered(confirmed())
    booking.confirm_delivery(1, "beneficiary", STARTED)
    with pytest.raises(InvalidTransition):
        booking.dispute(1, "too late", STARTED)


def test_cancelling_early_is_free_and_releases_everything() -> None:
    booking = confirmed(split=SPLIT)
    assert booking.cancellation_fees("family", None, NOW)[0]["fee_cents"] == 0
    events(booking)
    booking.cancel("c-1", "family", NOW)
    names = events(booking)
    assert names.count("FundsReleaseRequested") == 2 and "SlotReleaseRequested" in names
    assert booking.status == "cancelled"


def test_cancelling_late_costs_the_policys_fee_split_per_source() -> None:
    booking = confirmed(split=SPLIT)
    late = NOW + timedelta(days=4)  # 24 hours before the slot, free until 48
    fees = booking.cancellation_fees("family", None, late)
    assert fees == [
        {
            "index": 1,
            "fee_cents": 5_000,
            "by_source": {VOUCHER: 2_500, WALLET: 1_500, CO_PAY: 1_000},
        }
    ]
    events(booking)
    booking.cancel("c-1", "family", late)
    assert captures(booking) == {VOUCHER: 2_500, WALLET: 1_500}
    assert booking.component(1).co_payment_due_cents == 1_000


def test_a_providers_cancellation_is_always_free_for_the_family() -> None:
    booking = confirmed(spec(1), spec(2, provider="p-2"))
    booking.cancel("p-c-1", "provider", NOW + timedelta(days=4, hours=23), provider_id="p-2")
    assert booking.component(2).stage == "cancelled"
    assert booking.component(2).settlement == {WALLET: 0}
    assert booking.status == "confirmed"  # the other component still goes ahead


def test_cancelling_twice_is_a_retry_with_the_same_request_id_and_refused_with_another() -> None:
    booking = confirmed()
    booking.cancel("c-1", "family", NOW)
    events(booking)
    booking.cancel("c-1", "family", NOW)
    assert events(booking) == []
    with pytest.raises(InvalidTransition):
        booking.cancel("c-2", "family", NOW)


def test_a_request_id_cannot_name_two_different_commands() -> None:
    booking = confirmed()
    booking.reschedule(
        1, "x-1", "s-9", NOW + timedelta(days=6), NOW + timedelta(days=6, hours=1), NOW
    )
    with pytest.raises(RequestReused):
        booking.cancel("x-1", "family", NOW)


def test_a_no_show_costs_the_policys_no_show_fee() -> None:
    booking = confirmed(split=SPLIT)
    with pytest.raises(InvalidTransition):
        booking.no_show(1, "p-1", NOW)
    events(booking)
    booking.no_show(1, "p-1", STARTED)
    assert captures(booking) == {VOUCHER: 5_000, WALLET: 3_000}
    assert booking.component(1).stage == "no_show"


def test_a_move_holds_the_new_slot_before_releasing_the_old_one() -> None:
    booking = confirmed()
    old = booking.component(1).slot
    events(booking)
    new_start = NOW + timedelta(days=6)
    booking.reschedule(1, "m-1", "s-9", new_start, new_start + timedelta(hours=1), NOW)
    assert events(booking) == ["RescheduleRequested", "SlotHoldRequested"]
    assert old.status == "confirm_requested"  # untouched until the new slot is held
    new = booking.component(1).reschedule
    assert new is not None
    booking.slot_held(new.hold.request_id, NOW)
    assert events(booking) == [
        "SlotHeld",
        "Rescheduled",
        "SlotReleaseRequested",
        "SlotConfirmRequested",
    ]
    assert booking.component(1).slot.slot_id == "s-9"
    assert old.status == "release_requested"


def test_a_failed_move_leaves_the_booking_as_it_was() -> None:
    booking = confirmed()
    new_start = NOW + timedelta(days=6)
    booking.reschedule(1, "m-1", "s-9", new_start, new_start + timedelta(hours=1), NOW)
    pending = booking.component(1).reschedule
    assert pending is not None
    booking.slot_hold_refused(pending.hold.request_id, "full", NOW)
    assert booking.component(1).slot.slot_id == "s-1"
    assert booking.component(1).reschedule is None
    assert booking.status == "confirmed"


def test_a_move_nobody_answers_fails_at_its_deadline_and_its_hold_is_released() -> None:
    booking = confirmed()
    new_start = NOW + timedelta(days=6)
    booking.reschedule(1, "m-1", "s-9", new_start, new_start + timedelta(hours=1), NOW)
    events(booking)
    booking.fire_due_deadlines(NOW + timedelta(hours=1))
    assert events(booking)[-2:] == ["RescheduleFailed", "SlotReleaseRequested"]
    assert booking.component(1).slot.slot_id == "s-1"


def test_the_provider_marks_the_co_payment_paid() -> None:
    booking = delivered(confirmed(split=SPLIT))
    with pytest.raises(InvalidTransition):
        booking.mark_co_payment_paid(1, "p-1", STARTED)
    booking.confirm_delivery(1, "beneficiary", STARTED)
    booking.mark_co_payment_paid(1, "p-1", STARTED)
    assert booking.component(1).co_payment_paid


def test_a_hold_the_wallet_let_expire_pays_nothing_and_the_component_still_settles() -> None:
    booking = delivered(confirmed(split={WALLET: 6_000, CO_PAY: 4_000}))
    booking.funds_released(hold_id(booking.component(1).funds[WALLET].request_id), "expired", NOW)
    booking.confirm_delivery(1, "beneficiary", STARTED)
    assert booking.component(1).settled
    captured = [e for e in booking.collect_events() if type(e).__name__ == "ComponentCaptured"]
    assert captured[-1].settlement == {WALLET: 0, CO_PAY: 4_000}


@settings(max_examples=40, deadline=None)
@given(
    prices=st.lists(st.integers(1, 50_000), min_size=1, max_size=4),
    voucher=st.integers(0, 100_000),
    credit=st.integers(0, 100_000),
    outcome=st.sampled_from(["confirm", "dispute_half", "cancel_late"]),
)
def test_whatever_happens_each_source_pays_at_most_its_split_and_the_shares_add_up(
    prices: list[int], voucher: int, credit: int, outcome: str
) -> None:
    total = sum(prices)
    split = default_split(total, [Offer(VOUCHER, voucher), Offer(WALLET, credit)])
    specs = [spec(n, provider=f"p-{n}", price=p) for n, p in enumerate(prices, start=1)]
    booking = confirmed(*specs, split=split)
    for c in booking.components:
        if outcome == "cancel_late":
            continue
        delivered(booking, c.index)
        if outcome == "confirm":
            booking.confirm_delivery(c.index, "beneficiary", STARTED)
        else:
            booking.dispute(c.index, "half", STARTED)
            decision = "partial_capture" if c.spec.price_cents > 1 else "refund"
            booking.resolve(c.index, decision, c.spec.price_cents // 2 or None, None, STARTED)  # type: ignore[arg-type]
    if outcome == "cancel_late":
        booking.cancel("c-1", "family", NOW + timedelta(days=4, hours=12))
    for c in booking.components:
        answer_captures(booking, c.index)
    paid: dict[str, int] = {}
    for c in booking.components:
        assert c.settled
        assert sum(c.settlement.values()) <= c.spec.price_cents
        for source, cents in c.settlement.items():
            assert 0 <= cents <= c.shares[source]
            paid[source] = paid.get(source, 0) + cents
    assert all(paid[s] <= split[s] for s in paid)
    if outcome == "confirm":
        assert paid == split
        assert booking.status == "completed"
