"""A booking's hold near its plan's end, and at its own end. The booking asks its hold to last
until the last slot + 48 h + 30 days (confirmation, then a dispute's time): a booking's hold may
run into the plan's settlement grace (45 days after its last day), no further; the plan closes
only once such holds are settled; a hold that runs out is released by the hold-expiry job and
answered ``HoldExpired``."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import UUID

import pytest
from benecomune_contracts import wallet as c
from wallet.application import commands as cmd
from wallet.application.app import WalletApplication
from wallet.domain.errors import HoldsAwaitSettlement, InvalidHoldExpiry
from wallet.domain.settlement import SETTLEMENT_GRACE

from .booking_messages import Booking, answers, capture_requested, hold_requested, last_id
from .ledger_check import assert_ledger_sound
from .test_wallet_flows import make_plan

# The plan of 2025 ends on 31 December; a booking asked the day before, for the last day.
ASKED_AT = datetime(2025, 12, 30, 10, 0, tzinfo=UTC)
LAST_SLOT_ENDS = datetime(2025, 12, 31, 11, 0, tzinfo=UTC)
BOOKING_EXPIRY = LAST_SLOT_ENDS + timedelta(hours=48) + timedelta(days=30)
END_OF_PLAN = datetime(2026, 1, 1, tzinfo=UTC)


def near_the_end(app: WalletApplication) -> tuple[UUID, str, Booking]:
    plan_id = make_plan(app, employees={"e1": False})
    wallet_id = str(app.grant(plan_id, cmd.Grant(employee_id="e1")))
    return plan_id, wallet_id, Booking(app, at=ASKED_AT)


def test_a_booking_hold_for_the_plans_last_day_runs_into_the_settlement_grace(
    app: WalletApplication,
) -> None:
    _, wallet_id, booking = near_the_end(app)
    since = last_id(app)
    booking.send(hold_requested(wallet_id, expires_at=BOOKING_EXPIRY))
    [held] = answers(app, since)
    assert isinstance(held, c.FundsHeld) and held.expires_at == BOOKING_EXPIRY
    assert held.expires_at > END_OF_PLAN


def test_a_booking_hold_past_the_settlement_grace_is_refused_saying_so(
    app: WalletApplication,
) -> None:
    _, wallet_id, booking = near_the_end(app)
    since = last_id(app)
    latest = END_OF_PLAN + SETTLEMENT_GRACE
    booking.send(hold_requested(wallet_id, "c1:f1:hold", expires_at=latest + timedelta(hours=1)))
    booking.send(hold_requested(wallet_id, "c2:f1:hold", expires_at=latest))
    refused, held = answers(app, since)
    assert isinstance(refused, c.HoldRefused) and refused.reason_code == "hold_outlives_plan"
    assert latest.isoformat() in refused.reason
    assert isinstance(held, c.FundsHeld)


def test_a_booking_asked_once_the_plans_credit_expired_is_refused(app: WalletApplication) -> None:
    _, wallet_id, _ = near_the_end(app)
    since = last_id(app)
    Booking(app, at=END_OF_PLAN + timedelta(hours=1)).send(
        hold_requested(wallet_id, expires_at=END_OF_PLAN + timedelta(days=10))
    )
    [refused] = answers(app, since)
    assert isinstance(refused, c.HoldRefused) and refused.reason_code == "credit_expired"


def test_an_employees_own_hold_still_ends_with_the_plan(app: WalletApplication) -> None:
    _, wallet_id, _ = near_the_end(app)
    terms = cmd.HoldFunds(
        request_id="own",
        provider_id="coop-1",
        category="services_no_cap",
        amount_cents=1_000,
        expires_at=END_OF_PLAN + timedelta(days=1),
    )
    with pytest.raises(InvalidHoldExpiry) as refused:
        app.hold(UUID(wallet_id), terms, ASKED_AT)
    assert refused.value.code == "invalid_hold_expiry"


def test_a_plan_closes_only_once_its_booking_holds_in_the_grace_are_captured(
    app: WalletApplication,
) -> None:
    plan_id, wallet_id, booking = near_the_end(app)
    booking.send(hold_requested(wallet_id, expires_at=BOOKING_EXPIRY))
    with pytest.raises(HoldsAwaitSettlement) as refused:
        app.close_plan(plan_id, cmd.ClosePlan(), today=date(2026, 1, 2))
    assert refused.value.fields["held_cents"] == 20_000
    since = last_id(app)
    booking.at = datetime(2026, 1, 3, tzinfo=UTC)  # the family confirmed the delivery
    booking.send(capture_requested(wallet_id))
    [captured] = answers(app, since)
    assert isinstance(captured, c.HoldCaptured) and captured.amount_cents == 20_000
    result = app.close_plan(plan_id, cmd.ClosePlan(), today=date(2026, 1, 3))
    assert result["expired_cents"] == 30_000
    assert assert_ledger_sound(app)["provider:coop-1:payable"] == 20_000


def test_a_booking_hold_that_runs_out_is_released_and_answered_hold_expired(
    app: WalletApplication,
) -> None:
    plan_id, wallet_id, booking = near_the_end(app)
    booking.send(hold_requested(wallet_id, expires_at=BOOKING_EXPIRY))
    [held] = answers(app, last_id(app) - 1)
    since = last_id(app)
    assert app.expire_holds(BOOKING_EXPIRY - timedelta(seconds=1)) == 0
    assert app.expire_holds(BOOKING_EXPIRY) == 20_000
    assert app.expire_holds(BOOKING_EXPIRY + timedelta(minutes=1)) == 0  # once
    [expired] = answers(app, since)
    assert isinstance(expired, c.HoldExpired)
    assert (expired.hold_id, expired.amount_cents) == (held.hold_id, 20_000)  # type: ignore[attr-defined]
    # Nothing is held any more: the plan closes, the credit returns to the employer.
    result = app.close_plan(plan_id, cmd.ClosePlan(), today=BOOKING_EXPIRY.date())
    assert result["expired_cents"] == 50_000
    assert_ledger_sound(app)
