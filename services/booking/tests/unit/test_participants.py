"""The application's policy, fed the participants' contract events as the kit's consumer
would: each answer moves the saga once, and a booking goes from request to settled."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any
from uuid import UUID

from benecomune_contracts import booking as contract
from benecomune_contracts import catalog, wallet
from booking.adapters.contract_mapping import to_contract
from booking.application import commands as cmd
from booking.application import handlers
from booking.application.app import BookingApplication
from booking.application.parties import Caller
from booking.application.views import Page
from booking.domain.booking import Booking
from eventsourcing.persistence import Tracking

from ..answers import funds_held, slot_held

BENEFICIARY = Caller("beneficiary", "beneficiary:b-1", "b-1")
PROVIDER = Caller("provider", "provider:p-1", "p-1")
_positions = count(1)


def feed(app: BookingApplication, message: Any) -> bool:
    topic = "benecomune.catalog#0" if message.topic == "benecomune.catalog" else "wallet#0"
    return app.process_message(message, [Tracking(topic, next(_positions))])


def published(app: BookingApplication, kind: type[Any]) -> list[Any]:
    found = []
    for notification in app.recorder.select_notifications(start=1, limit=10_000):
        event = to_contract(app.mapper.to_domain_event(notification))
        if isinstance(event, kind):
            found.append(event)
    return found


def request(app: BookingApplication, instant: bool = True, **funding: Any) -> Booking:
    starts = datetime.now(UTC) + timedelta(days=5)
    command = cmd.RequestBooking.model_validate(
        {
            "request_id": "r-1",
            "components": [
                {
                    "offering_id": "o-1",
                    "provider_id": "p-1",
                    "slot_id": "s-1",
                    "starts_at": starts.isoformat(),
                    "ends_at": (starts + timedelta(hours=1)).isoformat(),
                    "price_cents": 10_000,
                    "category": "elderly_care",
                    "instant": instant,
                    "acceptance_hours": 0 if instant else 24,
                }
            ],
            "funding": funding or {"wallet": {"wallet_id": "w-1", "available_cents": 6_000}},
        }
    )
    return handlers.request_booking(app, command, BENEFICIARY, datetime.now(UTC))


def at() -> datetime:
    return datetime.now(UTC)


def hold_everything(app: BookingApplication, booking_id: UUID) -> None:
    for ask in published(app, contract.SlotHoldRequested):
        feed(app, slot_held(ask))
    for ask in published(app, contract.FundsHoldRequested):
        feed(app, funds_held(ask))


CHAIN: dict[str, Any] = {"sequence": 3, "prev_hash": "0" * 64, "event_hash": "0" * 64}


def test_the_default_split_holds_the_credit_and_leaves_the_rest_as_co_payment(
    app: BookingApplication,
) -> None:
    booking = request(app)
    holds = published(app, contract.FundsHoldRequested)
    assert [(h.source, h.account_id, h.amount_cents, h.category) for h in holds] == [
        ("wallet", "w-1", 6_000, "elderly_care")
    ]
    assert booking.split == {"wallet:w-1": 6_000, "co_payment": 4_000}
    assert published(app, contract.SlotHoldRequested)[0].request_id.startswith(
        f"booking:{booking.id}:"
    )


def test_the_participants_answers_confirm_an_instant_booking(app: BookingApplication) -> None:
    booking = request(app)
    hold_everything(app, booking.id)
    assert app.get_booking(booking.id).status == "confirmed"
    confirm = published(app, contract.SlotConfirmRequested)
    assert len(confirm) == 1
    feed(app, catalog.SlotHoldConfirmed(
        slot_id="s-1", request_id=confirm[0].request_id, quantity=1, confirmed_at=at()
    ))  # fmt: skip
    assert app.get_booking(booking.id).component(1).slot.status == "confirmed"
    assert len(published(app, contract.BookingConfirmed)) == 1


def test_a_refused_wallet_hold_compensates_and_the_slot_release_is_answered(
    app: BookingApplication,
) -> None:
    booking = request(app)
    ask = published(app, contract.FundsHoldRequested)[0]
    feed(app, wallet.HoldRefused(
        stream_id="w-1", **CHAIN, transfers=[], wallet_id="w-1", employee_id="b-1",
        request_id=ask.request_id, provider_id="p-1", category="elderly_care",
        amount_cents=ask.amount_cents, reason_code="insufficient_credit", reason="no",
        refused_at=at(),
    ))  # fmt: skip
    release = published(app, contract.SlotReleaseRequested)
    assert len(release) == 1
    feed(app, catalog.SlotReleased(
        slot_id="s-1", request_id=release[0].request_id, quantity=0, released_at=at()
    ))  # fmt: skip
    assert app.get_booking(booking.id).status == "compensated"
    told = published(app, contract.BookingCompensated)
    assert [t.reason_code for t in told] == ["funds_refused"]


def test_captures_answered_by_hold_settle_the_component(app: BookingApplication) -> None:
    booking = request(app)
    hold_everything(app, booking.id)
    later = datetime.now(UTC) + timedelta(days=5, minutes=5)
    b = app.get_booking(booking.id)
    b.deliver(1, "p-1", None, later)
    b.confirm_delivery(1, "beneficiary", later)
    app.save(b)
    capture = published(app, contract.FundsCaptureRequested)
    assert [(c.hold_id, c.amount_cents) for c in capture] == [("h-1", 6_000)]
    assert [d.amount_cents for d in published(app, contract.CoPaymentDue)] == [4_000]
    feed(app, wallet.HoldCaptured(
        stream_id="w-1", **CHAIN, transfers=[], wallet_id="w-1", employee_id="b-1",
        hold_id="h-1", provider_id="p-1", category="elderly_care", amount_cents=6_000,
        released_cents=0, captured_at=at(),
    ))  # fmt: skip
    settled = app.get_booking(booking.id)
    assert settled.status == "completed"
    [captured] = published(app, contract.ComponentCaptured)
    assert captured.total_cents == 10_000
    assert {p.source: p.amount_cents for p in captured.paid} == {
        "wallet": 6_000,
        "co_payment": 4_000,
    }


def test_a_repeated_answer_is_a_duplicate_and_an_unknown_request_is_ignored(
    app: BookingApplication,
) -> None:
    booking = request(app)
    ask = published(app, contract.SlotHoldRequested)[0]
    held = catalog.SlotHeld(
        slot_id="s-1", offering_id="o-1", provider_id="p-1", request_id=ask.request_id,
        quantity=1, expires_at=ask.expires_at, held_at=at(),
    )  # fmt: skip
    assert app.process_message(held, [Tracking("benecomune.catalog#1", 1)])
    assert not app.process_message(held, [Tracking("benecomune.catalog#1", 1)])
    version = app.get_booking(booking.id).version
    feed(app, held)  # the same answer again at a new position: no change
    stranger = held.model_copy(update={"request_id": "till-42"})
    feed(app, stranger)
    assert app.get_booking(booking.id).version == version


def test_the_wallets_word_makes_a_delegate_and_takes_it_back(app: BookingApplication) -> None:
    named = wallet.DelegateNamed(
        stream_id="f-1", **CHAIN, transfers=[], employee_id="b-1", delegate_id="d-1",
        named_at=at(),
    )  # fmt: skip
    feed(app, named)
    assert app.is_delegate("b-1", "d-1")
    feed(app, wallet.DelegateRevoked(
        stream_id="f-1", **CHAIN, transfers=[], employee_id="b-1", delegate_id="d-1",
        revoked_at=at(),
    ))  # fmt: skip
    assert not app.is_delegate("b-1", "d-1")


def test_the_deadlines_job_fires_a_due_deadline_once(app: BookingApplication) -> None:
    booking = request(app, instant=False)
    later = datetime.now(UTC) + timedelta(hours=1)
    assert app.bookings_with_deadlines_due(later) == [booking.id]
    assert handlers.fire_due_deadlines(app, later) >= 1
    assert app.get_booking(booking.id).status == "compensating"
    assert handlers.fire_due_deadlines(app, later) == 0
    stuck = app.operator_view("stuck", later + timedelta(hours=2), Page())
    assert [row.booking_id for row in stuck] == [booking.id]
