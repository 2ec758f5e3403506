"""Holds the booking saga asks for by event: stored with the consumer's tracking position in
one transaction (a redelivered message has no second effect), idempotent by request id, and a
refusal is recorded as HoldRefused for the saga instead of stopping the consumer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

from eventsourcing.persistence import Tracking
from wallet.application import commands as cmd
from wallet.application.app import WalletApplication
from wallet.application.requests import CaptureRequest, HoldRequest, ReleaseRequest
from wallet.domain.wallet import Wallet

from .ledger_check import assert_ledger_sound
from .test_wallet_flows import make_plan


def request(wallet_id: UUID, request_id: str, amount: int) -> HoldRequest:
    return HoldRequest(
        wallet_id=wallet_id,
        request_id=request_id,
        provider_id="coop-1",
        category="services_no_cap",
        amount_cents=amount,
        expires_at=datetime.now(UTC) + timedelta(days=1),
    )


def test_a_hold_request_by_event_holds_once_even_when_redelivered(app: WalletApplication) -> None:
    plan_id = make_plan(app, year=datetime.now(UTC).year, employees={"e1": False})
    wallet_id = app.grant(plan_id, cmd.Grant(employee_id="e1"))
    assert app.process_message(request(wallet_id, "booking-1", 20_000), [Tracking("booking#0", 1)])
    assert not app.process_message(
        request(wallet_id, "booking-1", 20_000), [Tracking("booking#0", 1)]
    )
    # The relay re-published it at a new position: the request id still holds it once.
    assert app.process_message(request(wallet_id, "booking-1", 20_000), [Tracking("booking#0", 2)])
    wallet = app.get_wallet(wallet_id)
    assert wallet.held_cents == 20_000
    [hold_id] = [h for h in wallet.holds]
    app.process_message(
        CaptureRequest(wallet_id, hold_id=UUID(hold_id), request_id="c"),
        [Tracking("booking#0", 3)],
    )
    assert app.get_wallet(wallet_id).holds[hold_id]["status"] == "captured"
    # Releasing a captured hold is refused, logged and tracked: the consumer goes on.
    assert app.process_message(
        ReleaseRequest(wallet_id, UUID(hold_id), "r"),
        [Tracking("booking#0", 4)],
    )
    assert_ledger_sound(app)


def test_a_refused_hold_request_is_recorded_for_the_saga(app: WalletApplication) -> None:
    plan_id = make_plan(app, year=datetime.now(UTC).year, employees={"e1": False})
    wallet_id = app.grant(plan_id, cmd.Grant(employee_id="e1"))
    assert app.process_message(request(wallet_id, "too-much", 90_000), [Tracking("booking#0", 1)])
    events = list(app.events.get(wallet_id))
    refused = events[-1]
    assert isinstance(refused, Wallet.HoldRefused)
    assert refused.reason_code == "insufficient_funds" and refused.request_id == "too-much"
    assert app.get_wallet(wallet_id).held_cents == 0
    assert_ledger_sound(app)
