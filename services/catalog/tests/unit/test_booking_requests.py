"""The booking saga asks the catalog by event (``benecomune.booking``) to hold, confirm and
release places; the catalog answers on its own topic, once per request, naming the booking as
the holder — refusals included, with a reason code the booking can tell the family."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
from benecomune_contracts import booking as b
from catalog.application import commands as cmd
from catalog.application.app import CatalogApplication
from catalog.application.handlers import slots as slot_handlers
from catalog.domain.errors import InvalidBookingRequest

from ..booking_messages import Booking, answers, deliver, kinds
from ..conftest import offer, register, slot


def a_booking(app: CatalogApplication, capacity: int = 2, **offering: object) -> Booking:
    provider = register(app)
    offering_id = offer(app, provider, **offering)  # type: ignore[arg-type]
    return Booking(slot(app, offering_id, capacity=capacity), offering_id, provider)


def free_places(app: CatalogApplication, booking: Booking) -> int:
    return app.get_slot(UUID(booking.slot_id)).available_at(datetime.now(UTC))


def refusal_of(app: CatalogApplication, booking: Booking) -> str:
    (answer,) = answers(app, booking.request_id)
    assert type(answer).__name__ == "SlotHoldRefused", answer
    assert answer.holder == booking.holder
    return str(answer.reason)


def test_a_booking_hold_request_is_answered_slot_held_naming_the_booking(
    app: CatalogApplication,
) -> None:
    booking = a_booking(app)
    request = booking.hold(quantity=2)
    assert deliver(app, request)
    (held,) = answers(app)
    assert type(held).__name__ == "SlotHeld"
    assert held.holder == booking.holder
    assert (held.request_id, held.slot_id, held.quantity) == (
        booking.request_id,
        booking.slot_id,
        2,
    )
    assert held.offering_id == booking.offering_id and held.provider_id == booking.provider_id
    assert held.expires_at == request.expires_at
    assert free_places(app, booking) == 0


def test_a_hold_request_delivered_again_answers_nothing_new(app: CatalogApplication) -> None:
    booking = a_booking(app)
    request = booking.hold()
    assert deliver(app, request, notification_id=7)
    assert not deliver(app, request, notification_id=7)  # Kafka redelivered it: a duplicate
    assert deliver(app, request)  # re-published at a new position: same request id, done once
    assert kinds(answers(app)) == ["SlotHeld"]
    assert free_places(app, booking) == 1


def test_the_hold_for_a_place_no_longer_free_is_refused_not_enough_places(
    app: CatalogApplication,
) -> None:
    first = a_booking(app, capacity=1)
    second = Booking(first.slot_id, first.offering_id, first.provider_id)
    deliver(app, first.hold())
    deliver(app, second.hold())
    assert refusal_of(app, second) == "not_enough_places"
    deliver(app, first.release())  # the place comes back; the refusal stands
    deliver(app, second.hold())
    assert kinds(answers(app, second.request_id)) == ["SlotHoldRefused"]


def test_a_booking_and_an_http_caller_compete_for_the_same_places_by_the_same_rules(
    app: CatalogApplication,
) -> None:
    booking = a_booking(app, capacity=1)
    app.hold_slot(UUID(booking.slot_id), cmd.HoldSlot(request_id="r1"), "beneficiary:b1")
    deliver(app, booking.hold())
    assert refusal_of(app, booking) == "not_enough_places"


def test_a_withdrawn_offerings_slot_is_refused_offering_withdrawn(app: CatalogApplication) -> None:
    booking = a_booking(app)
    app.withdraw_offering(UUID(booking.offering_id), cmd.WithdrawOffering(reason="closing"))
    deliver(app, booking.hold())
    assert refusal_of(app, booking) == "offering_withdrawn"


def test_a_suspended_providers_slot_is_refused_not_bookable(app: CatalogApplication) -> None:
    booking = a_booking(app)
    app.suspend_provider(
        booking.provider_id, cmd.SuspendProvider(reason_code="audit_pending"), "operator"
    )
    deliver(app, booking.hold())
    assert refusal_of(app, booking) == "not_bookable"


def test_a_draft_offerings_slot_is_refused_not_bookable(app: CatalogApplication) -> None:
    booking = a_booking(app, publish=False)
    deliver(app, booking.hold())
    assert refusal_of(app, booking) == "not_bookable"


def test_a_slot_of_another_offering_or_provider_than_the_booking_named_is_refused(
    app: CatalogApplication,
) -> None:
    booking = a_booking(app)
    deliver(app, booking.hold(provider_id="coop-altra"))
    assert refusal_of(app, booking) == "slot_mismatch"
    assert free_places(app, booking) == 2


def test_a_slot_the_catalog_does_not_have_is_refused_and_its_release_answered_once_each(
    app: CatalogApplication,
) -> None:
    booking = a_booking(app)
    for slot_id in ("no-such-slot", "7f1d2c3b-0000-4000-8000-000000000000"):
        lost = Booking(slot_id, UUID(booking.offering_id), booking.provider_id)
        deliver(app, lost.hold())
        deliver(app, lost.hold())
        deliver(app, lost.release())
        deliver(app, lost.release())
        refused, released = answers(app, lost.request_id)
        assert (refused.reason, refused.slot_id, refused.holder) == (
            "unknown_slot",
            slot_id,
            lost.holder,
        )
        assert (type(released).__name__, released.quantity) == ("SlotReleased", 0)


def test_a_hold_that_comes_after_its_expiry_is_refused_hold_expired(
    app: CatalogApplication,
) -> None:
    booking = a_booking(app)
    deliver(app, booking.hold(expires_at=datetime.now(UTC) - timedelta(minutes=1)))
    assert refusal_of(app, booking) == "hold_expired"


def test_a_slot_that_has_started_is_refused_slot_started(
    app: CatalogApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    booking = a_booking(app)
    later = datetime.now(UTC) + timedelta(days=8)  # the slot starts in 7 days
    monkeypatch.setattr(slot_handlers, "now_utc", lambda: later)
    deliver(app, booking.hold(expires_at=later + timedelta(minutes=30)))
    assert refusal_of(app, booking) == "slot_started"


def test_a_confirmation_is_answered_once_and_the_place_stays_taken(
    app: CatalogApplication,
) -> None:
    booking = a_booking(app)
    deliver(app, booking.hold())
    deliver(app, booking.confirm())
    deliver(app, booking.confirm())
    _held, confirmed = answers(app)
    assert type(confirmed).__name__ == "SlotHoldConfirmed"
    assert (confirmed.holder, confirmed.quantity) == (booking.holder, 1)
    assert free_places(app, booking) == 1


def test_a_confirmation_of_a_hold_that_is_not_held_is_tracked_and_answers_nothing(
    app: CatalogApplication,
) -> None:
    booking = a_booking(app)
    assert deliver(app, booking.confirm())  # no hold: nothing to confirm, not dead-lettered
    assert answers(app) == []


def test_a_release_gives_the_places_back_once(app: CatalogApplication) -> None:
    booking = a_booking(app)
    deliver(app, booking.hold(quantity=2))
    deliver(app, booking.confirm())
    deliver(app, booking.release())
    deliver(app, booking.release())
    assert kinds(answers(app)) == ["SlotHeld", "SlotHoldConfirmed", "SlotReleased"]
    released = answers(app)[-1]
    assert (released.quantity, released.holder) == (2, booking.holder)
    assert free_places(app, booking) == 2


def test_a_release_before_its_hold_is_answered_and_the_late_hold_refused_released_first(
    app: CatalogApplication,
) -> None:
    booking = a_booking(app)
    deliver(app, booking.release())
    deliver(app, booking.hold())
    deliver(app, booking.hold())
    deliver(app, booking.release())
    released, refused = answers(app)
    assert (type(released).__name__, released.quantity) == ("SlotReleased", 0)
    assert (type(refused).__name__, refused.reason) == ("SlotHoldRefused", "released_first")
    assert free_places(app, booking) == 2


def test_the_release_of_a_refused_hold_is_answered_with_nothing_given_back_once(
    app: CatalogApplication,
) -> None:
    first = a_booking(app, capacity=1)
    second = Booking(first.slot_id, first.offering_id, first.provider_id)
    deliver(app, first.hold())
    deliver(app, second.hold())
    deliver(app, second.release())
    deliver(app, second.release())
    refused, released = answers(app, second.request_id)
    assert (type(refused).__name__, type(released).__name__) == ("SlotHoldRefused", "SlotReleased")
    assert (released.quantity, released.holder) == (0, second.holder)
    assert free_places(app, first) == 0  # the first booking keeps its place


def test_a_request_whose_id_names_another_booking_is_refused_as_unreadable(
    app: CatalogApplication,
) -> None:
    booking = a_booking(app)
    other = Booking(booking.slot_id, UUID(booking.offering_id), "x")
    with pytest.raises(InvalidBookingRequest, match="does not belong to booking"):
        deliver(app, booking.hold(request_id=other.request_id))  # the consumer dead-letters it
    assert answers(app) == []


def test_booking_events_that_ask_nothing_of_the_catalog_are_tracked_and_ignored(
    app: CatalogApplication,
) -> None:
    booking = a_booking(app)
    confirmed = b.BookingConfirmed(
        booking_id=booking.booking_id,
        beneficiary_id="b-001",
        total_cents=2200,
        confirmed_at=datetime.now(UTC),
    )
    assert deliver(app, confirmed, notification_id=900)
    assert not deliver(app, confirmed, notification_id=900)
    assert answers(app) == []


def test_http_holds_answers_name_no_holder(app: CatalogApplication) -> None:
    booking = a_booking(app)
    app.hold_slot(UUID(booking.slot_id), cmd.HoldSlot(request_id="r1"), "beneficiary:b1")
    app.release_hold(UUID(booking.slot_id), "r1", "beneficiary:b1")
    assert [a.holder for a in answers(app)] == [None, None]
