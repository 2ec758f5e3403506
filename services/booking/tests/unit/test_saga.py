"""The booking saga's hold phase, without a store: request, holds, acceptance, confirmation,
compensation and the deadlines of the hold phase."""

from __future__ import annotations

from datetime import timedelta

import pytest
from booking.domain.components import REASONS, booking_of, request_id_for
from booking.domain.errors import (
    ConsentMissing,
    InvalidBooking,
    InvalidSplit,
    InvalidTransition,
    NotAParty,
)

from ..stories import CO_PAY, NOW, VOUCHER, WALLET, book, events, hold_everything, hold_id, spec


def test_a_request_holds_every_slot_and_every_paying_source_at_once() -> None:
    booking = book(
        spec(1), spec(2, provider="p-2"), split={VOUCHER: 5_000, WALLET: 12_000, CO_PAY: 3_000}
    )
    names = events(booking)
    assert names[0] == "Requested"
    assert names.count("SlotHoldRequested") == 2
    # two sources held per component; the co-payment is never held
    assert names.count("FundsHoldRequested") == 4
    assert booking.status == "requested"
    assert [c.shares for c in booking.components] == [
        {VOUCHER: 2_500, WALLET: 6_000, CO_PAY: 1_500},
        {VOUCHER: 2_500, WALLET: 6_000, CO_PAY: 1_500},
    ]


def test_request_ids_are_deterministic_and_name_their_booking() -> None:
    booking = book()
    request_id = booking.components[0].slot.request_id
    assert request_id == request_id_for(booking.id, "c1:slot")
    assert booking_of(request_id) == booking.id
    assert booking_of("till-42") is None
    assert booking.id == type(booking).create_id("beneficiary:b-1", "r-1")


def test_a_split_that_does_not_pay_the_price_is_refused() -> None:
    with pytest.raises(InvalidSplit):
        book(split={WALLET: 9_999})


def test_a_social_worker_books_on_someones_behalf_only_with_their_consent() -> None:
    with pytest.raises(ConsentMissing):
        book(requester={"role": "social_worker", "subject": "social_worker"})
    booking = book(
        requester={"role": "social_worker", "subject": "social_worker", "consent_reference": "C-1"}
    )
    assert booking.requester["consent_reference"] == "C-1"


def test_a_slot_in_the_past_or_the_same_slot_twice_is_refused() -> None:
    with pytest.raises(InvalidBooking):
        book(spec(starts_in=timedelta(hours=-1)))
    with pytest.raises(InvalidBooking):
        book(spec(1), spec(1))


def test_an_instant_offering_is_accepted_on_hold_and_the_booking_confirmed() -> None:
    booking = book(spec(instant=True))
    events(booking)
    hold_everything(booking)
    assert booking.status == "confirmed"
    assert events(booking)[-3:] == ["Accepted", "Confirmed", "SlotConfirmRequested"]
    booking.slot_confirmed(booking.components[0].slot.request_id, NOW)
    assert booking.components[0].slot.status == "confirmed"


def test_providers_are_asked_once_everything_is_held_and_confirmation_waits_for_all() -> None:
    booking = book(spec(1), spec(2, provider="p-2"))
    booking.slot_held(booking.components[0].slot.request_id, NOW)
    assert all(c.acceptance == "awaiting" for c in booking.components)
    hold_everything(booking)
    assert [c.acceptance for c in booking.components] == ["requested", "requested"]
    booking.accept(1, "p-1", NOW)
    assert booking.status == "requested"
    booking.accept(2, "p-2", NOW)
    assert booking.status == "confirmed"


def test_a_provider_answers_only_for_its_own_component() -> None:
    booking = book(spec(1), spec(2, provider="p-2"))
    hold_everything(booking)
    with pytest.raises(NotAParty):
        booking.accept(2, "p-1", NOW)


def test_a_provider_cannot_accept_before_being_asked() -> None:
    booking = book()
    with pytest.raises(InvalidTransition):
        booking.accept(1, "p-1", NOW)


def test_a_decline_releases_what_was_held_in_reverse_order_and_tells_why() -> None:
    booking = book(spec(1), spec(2, provider="p-2"))
    hold_everything(booking)
    events(booking)
    booking.decline(2, "p-2", "staff ill", NOW)
    assert booking.status == "compensating"
    pending = booking.collect_events()
    releases = [e for e in pending if type(e).__name__.endswith("ReleaseRequested")]
    # held in the order slot 1, wallet 1, slot 2, wallet 2: released the other way round
    assert [(type(e).__name__, e.index) for e in releases] == [
        ("FundsReleaseRequested", 2),
        ("SlotReleaseRequested", 2),
        ("FundsReleaseRequested", 1),
        ("SlotReleaseRequested", 1),
    ]
    for component in booking.components:
        booking.slot_released(component.slot.request_id, NOW)
        booking.funds_released(hold_id(component.funds[WALLET].request_id), "released", NOW)
    assert booking.status == "compensated"
    assert booking.reason_code == "provider_declined"
    italian, english = REASONS[booking.reason_code]
    assert "fornitore" in italian and "provider" in english


def test_a_refused_slot_compensates_and_a_late_hold_is_released_when_it_comes() -> None:
    booking = book()
    funds = booking.components[0].funds[WALLET]
    booking.slot_hold_refused(booking.components[0].slot.request_id, "full", NOW)
    assert booking.status == "compensating"
    assert funds.status == "release_pending"  # no hold id yet: released when it comes
    booking.funds_held(funds.request_id, "h-1", NOW)
    assert funds.status == "release_requested"
    assert booking.status == "compensating"
    booking.funds_released("h-1", "released", NOW)
    assert booking.status == "compensated"
    assert booking.reason_code == "slot_unavailable"


def test_a_refused_funds_hold_compensates_and_a_late_slot_answer_ends_it() -> None:
    booking = book()
    booking.funds_hold_refused(booking.components[0].funds[WALLET].request_id, "no_credit", NOW)
    slot = booking.components[0].slot
    assert slot.status == "release_requested"  # released before its answer: a tombstone
    booking.slot_hold_refused(slot.request_id, "full", NOW)
    assert booking.status == "compensated"
    assert booking.reason_code == "funds_refused"


def test_a_repeated_answer_changes_nothing() -> None:
    booking = book(spec(instant=True))
    hold_everything(booking)
    events(booking)
    hold_everything(booking)
    booking.slot_hold_refused(booking.components[0].slot.request_id, "late", NOW)
    assert events(booking) == []
    assert booking.status == "confirmed"


def test_unanswered_holds_compensate_at_their_deadline_and_a_second_firing_does_nothing() -> None:
    booking = book()
    booking.slot_held(booking.components[0].slot.request_id, NOW)
    assert booking.fire_due_deadlines(NOW + timedelta(minutes=29)) == []
    later = NOW + timedelta(minutes=31)
    assert booking.fire_due_deadlines(later) == ["holds"]
    assert booking.status == "compensating"
    assert booking.reason_code == "holds_unanswered"
    events(booking)
    assert booking.fire_due_deadlines(later) == []
    assert events(booking) == []


def test_a_provider_who_does_not_answer_in_time_compensates_the_booking() -> None:
    booking = book(spec(acceptance_hours=24))
    hold_everything(booking)
    assert booking.deadlines["acceptance:1"]["due_at"] == NOW + timedelta(hours=24)
    fired = booking.fire_due_deadlines(NOW + timedelta(hours=24, seconds=1))
    assert fired == ["holds", "acceptance:1"]
    assert booking.reason_code == "provider_no_answer"


def test_deadlines_of_a_confirmed_booking_fire_with_no_effect() -> None:
    booking = book(spec(instant=True))
    hold_everything(booking)
    fired = booking.fire_due_deadlines(NOW + timedelta(days=2))
    assert set(fired) == {"holds", "hold_expiry"}
    assert booking.status == "confirmed"
    assert "deadline_passed" not in [line["step"] for line in booking.timeline]


def test_the_requester_cancelling_before_confirmation_compensates_without_a_fee() -> None:
    booking = book()
    hold_everything(booking)
    booking.cancel("c-1", "family", NOW)
    assert booking.status == "compensating"
    assert booking.reason_code == "cancelled_by_requester"
    booking.cancel("c-1", "family", NOW)  # a retry
    with pytest.raises(InvalidTransition):
        booking.cancel("c-2", "family", NOW)


def test_a_package_is_booked_in_its_order() -> None:
    booking = book(spec(1, order=2), spec(2, provider="p-2", order=1))
    assert [c.spec.offering_id for c in booking.components] == ["o-2", "o-1"]


def test_the_timeline_names_every_step() -> None:
    booking = book(spec(instant=True))
    hold_everything(booking)
    assert [line["step"] for line in booking.timeline] == [
        "requested",
        "slot_hold_requested",
        "funds_hold_requested",
        "slot_held",
        "funds_held",
        "provider_accepted",
        "confirmed",
        "slot_confirm_requested",
    ]
