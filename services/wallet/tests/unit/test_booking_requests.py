"""The booking saga asks the wallet by event (``FundsHoldRequested``, ``FundsCaptureRequested``,
``FundsReleaseRequested`` on the booking topic, ``source="wallet"``) and hears one answer per
request id on the wallet topic: ``FundsHeld`` or ``HoldRefused`` / ``RequestRefused`` for a
hold, ``HoldCaptured`` or ``RequestRefused`` for a capture, ``HoldReleased`` or
``RequestRefused`` for a release. Fed here as the kit's consumer feeds them; the answers are
read as they leave the wallet (its contract mapping)."""

from __future__ import annotations

from uuid import UUID

from benecomune_auditor.store_reader import store_records
from benecomune_auditor.wallet import audit_wallet, figures_from_store
from benecomune_contracts import BOOKING_TOPIC
from benecomune_contracts import booking as b
from benecomune_contracts import wallet as c
from wallet.application import commands as cmd
from wallet.application.app import WalletApplication
from wallet.audit_hook import WalletLedgerStore
from wallet.service import DEFINITION

from .booking_messages import (
    Booking,
    answers,
    capture_requested,
    hold_requested,
    last_id,
    release_requested,
)
from .ledger_check import assert_ledger_sound
from .test_wallet_flows import make_plan


def funded_wallet(app: WalletApplication, per_employee: int = 50_000) -> str:
    plan_id = make_plan(app, per_employee=per_employee, employees={"e1": False})
    return str(app.grant(plan_id, cmd.Grant(employee_id="e1")))


def held_cents(app: WalletApplication, wallet_id: str) -> int:
    return app.get_wallet(UUID(wallet_id)).held_cents


def test_the_wallet_consumes_the_booking_topic() -> None:
    assert BOOKING_TOPIC.name in DEFINITION.consumes


def test_a_hold_the_booking_asks_for_is_held_and_answered_funds_held(
    app: WalletApplication,
) -> None:
    wallet_id = funded_wallet(app)
    since = last_id(app)
    asked = hold_requested(wallet_id)
    assert Booking(app).send(asked)
    [held] = answers(app, since)
    assert isinstance(held, c.FundsHeld)
    assert (held.request_id, held.wallet_id, held.provider_id) == (
        asked.request_id,
        wallet_id,
        "coop-1",
    )
    assert (held.amount_cents, held.expires_at) == (20_000, asked.expires_at)
    assert held_cents(app, wallet_id) == 20_000
    assert_ledger_sound(app)


def test_a_hold_for_a_family_member_names_the_member(app: WalletApplication) -> None:
    wallet_id = funded_wallet(app)
    app.name_family_member("e1", "mother-1", cmd.NameFamilyMember(relationship="parent"))
    since = last_id(app)
    Booking(app).send(hold_requested(wallet_id, for_member_id="mother-1", category="elderly_care"))
    [held] = answers(app, since)
    assert isinstance(held, c.FundsHeld) and held.member_id == "mother-1"


def test_a_hold_for_a_wallet_the_wallet_does_not_know_is_refused(app: WalletApplication) -> None:
    funded_wallet(app)
    booking = Booking(app)
    since = last_id(app)
    for unknown in ("8b0e5c57-9a7e-4d0c-b2f1-3c4d5e6f7a8b", "not-a-wallet-id"):
        asked = hold_requested(unknown, step=f"c1:f1:hold-{unknown[:3]}")
        assert booking.send(asked)
        refused = answers(app, since)[-1]
        assert isinstance(refused, c.RequestRefused)
        assert (refused.request, refused.request_id, refused.wallet_id) == (
            "hold",
            asked.request_id,
            unknown,
        )
        assert refused.reason_code == "wallet_not_found" and refused.booking_id == asked.booking_id
    assert len(answers(app, since)) == 2


def test_a_hold_over_the_credit_or_in_a_category_not_allowed_is_refused_with_its_reason(
    app: WalletApplication,
) -> None:
    wallet_id = funded_wallet(app)
    booking = Booking(app)
    since = last_id(app)
    booking.send(hold_requested(wallet_id, "c1:f1:hold", amount=90_000))
    booking.send(hold_requested(wallet_id, "c2:f1:hold", category="general"))
    booking.send(hold_requested(wallet_id, "c3:f1:hold", category="physiotherapy"))
    too_much, general, unknown = answers(app, since)
    assert isinstance(too_much, c.HoldRefused) and too_much.reason_code == "insufficient_funds"
    assert isinstance(general, c.HoldRefused) and general.reason_code == "category_not_allowed"
    assert isinstance(unknown, c.RequestRefused) and unknown.reason_code == "category_not_allowed"
    assert held_cents(app, wallet_id) == 0
    assert_ledger_sound(app)


def test_a_fringe_hold_over_the_cap_is_refused_unless_the_employee_confirmed_it(
    app: WalletApplication,
) -> None:
    wallet_id = funded_wallet(app, per_employee=300_000)
    booking = Booking(app)
    since = last_id(app)
    fringe = {"category": "fringe_purchase", "amount": 150_000}
    booking.send(hold_requested(wallet_id, "c1:f1:hold", **fringe))  # type: ignore[arg-type]
    booking.send(hold_requested(wallet_id, "c2:f1:hold", confirm_taxable=True, **fringe))  # type: ignore[arg-type]
    refused, held = answers(app, since)
    assert isinstance(refused, c.HoldRefused) and refused.reason_code == "fringe_cap_warning"
    assert isinstance(held, c.FundsHeld) and held.amount_cents == 150_000


def test_the_same_request_delivered_twice_is_answered_once(app: WalletApplication) -> None:
    wallet_id = funded_wallet(app)
    booking = Booking(app)
    since = last_id(app)
    hold, refused_capture = hold_requested(wallet_id), capture_requested(wallet_id, amount=1)
    for request in (hold, refused_capture.model_copy(update={"provider_id": "coop-2"})):
        assert booking.send(request)
        # Kafka delivers it again: the tracking position knows it.
        assert not booking.deliver(request, booking.notification_id, booking.offset)
        # The booking's relay re-publishes it at a new position: the request id knows it.
        assert booking.send(request)
    held, refused = answers(app, since)
    assert isinstance(held, c.FundsHeld)
    assert isinstance(refused, c.RequestRefused) and refused.reason_code == "provider_mismatch"
    assert held_cents(app, wallet_id) == 20_000


def test_a_refused_hold_asked_again_after_credit_arrived_stays_refused(
    app: WalletApplication,
) -> None:
    plan_id = make_plan(app, employees={"e1": False})
    wallet_id = str(app.grant(plan_id, cmd.Grant(employee_id="e1")))
    booking = Booking(app)
    since = last_id(app)
    asked = hold_requested(wallet_id, amount=80_000)
    booking.send(asked)
    app.grant(plan_id, cmd.Grant(employee_id="e1", amount_cents=50_000))
    booking.send(asked)  # the relay re-published it
    [refused] = answers(app, since)
    assert isinstance(refused, c.HoldRefused)
    assert held_cents(app, wallet_id) == 0


def test_a_capture_pays_the_provider_and_gives_the_rest_of_the_hold_back(
    app: WalletApplication,
) -> None:
    wallet_id = funded_wallet(app)
    booking = Booking(app)
    booking.send(hold_requested(wallet_id))
    since = last_id(app)
    booking.send(capture_requested(wallet_id, amount=15_000))
    [captured] = answers(app, since)
    assert isinstance(captured, c.HoldCaptured)
    assert (captured.amount_cents, captured.released_cents) == (15_000, 5_000)
    wallet = app.get_wallet(UUID(wallet_id))
    assert wallet.held_cents == 0 and wallet.available_for("services_no_cap") == 35_000
    assert assert_ledger_sound(app)["provider:coop-1:payable"] == 15_000


def test_a_capture_of_more_than_was_held_is_refused_and_moves_nothing(
    app: WalletApplication,
) -> None:
    wallet_id = funded_wallet(app)
    booking = Booking(app)
    booking.send(hold_requested(wallet_id))
    [held] = answers(app, last_id(app) - 1)
    since = last_id(app)
    booking.send(capture_requested(wallet_id, amount=20_001, hold_id=held.hold_id))  # type: ignore[attr-defined]
    [refused] = answers(app, since)
    assert isinstance(refused, c.RequestRefused)
    assert (refused.request, refused.reason_code, refused.hold_status) == (
        "capture",
        "capture_exceeds_hold",
        "held",
    )
    assert refused.hold_id == held.hold_id and refused.amount_cents == 20_001  # type: ignore[attr-defined]
    assert refused.hold_request_id == held.request_id  # type: ignore[attr-defined]
    assert held_cents(app, wallet_id) == 20_000
    # The booking asks again, for what was held, under a new request id: it goes through.
    booking.send(capture_requested(wallet_id, step="c1:f1:capture-2"))
    assert isinstance(answers(app, since)[-1], c.HoldCaptured)
    assert_ledger_sound(app)


def test_a_capture_or_release_of_a_hold_never_made_is_refused(app: WalletApplication) -> None:
    wallet_id = funded_wallet(app)
    booking = Booking(app)
    since = last_id(app)
    booking.send(capture_requested(wallet_id, hold_step="c9:f1:hold"))
    booking.send(release_requested("8b0e5c57-9a7e-4d0c-b2f1-3c4d5e6f7a8b"))
    no_hold, no_wallet = answers(app, since)
    assert isinstance(no_hold, c.RequestRefused) and no_hold.reason_code == "hold_not_found"
    assert isinstance(no_wallet, c.RequestRefused) and no_wallet.reason_code == "wallet_not_found"


def test_a_release_asked_twice_gives_the_money_back_once(app: WalletApplication) -> None:
    wallet_id = funded_wallet(app)
    booking = Booking(app)
    booking.send(hold_requested(wallet_id))
    since = last_id(app)
    booking.send(release_requested(wallet_id))
    booking.send(release_requested(wallet_id))  # the same request again
    booking.send(release_requested(wallet_id, step="c1:f1:release-again"))  # another one
    released, refused = answers(app, since)
    assert isinstance(released, c.HoldReleased) and released.amount_cents == 20_000
    assert isinstance(refused, c.RequestRefused)
    assert (refused.request, refused.reason_code, refused.hold_status) == (
        "release",
        "hold_not_open",
        "released",
    )
    wallet = app.get_wallet(UUID(wallet_id))
    assert wallet.held_cents == 0 and wallet.available_for("services_no_cap") == 50_000
    assert_ledger_sound(app)


def test_a_release_of_a_captured_hold_is_refused_saying_it_was_captured(
    app: WalletApplication,
) -> None:
    wallet_id = funded_wallet(app)
    booking = Booking(app)
    booking.send(hold_requested(wallet_id))
    booking.send(capture_requested(wallet_id))
    since = last_id(app)
    booking.send(release_requested(wallet_id))
    [refused] = answers(app, since)
    assert isinstance(refused, c.RequestRefused) and refused.hold_status == "captured"


def test_a_request_for_a_service_voucher_is_not_the_wallets(app: WalletApplication) -> None:
    wallet_id = funded_wallet(app)
    since = last_id(app)
    assert Booking(app).send(hold_requested(wallet_id, source="voucher"))
    assert answers(app, since) == []


def test_a_beneficiary_named_by_the_request_must_hold_the_wallet(app: WalletApplication) -> None:
    """The booking's request names its beneficiary (an optional field of the contract): the
    wallet then holds only for the employee whose wallet it is."""
    wallet_id = funded_wallet(app)
    booking = Booking(app)
    since = last_id(app)
    fields = hold_requested(wallet_id).model_dump()
    booking.send(b.FundsHoldRequested(**{**fields, "beneficiary_id": "someone-else"}))
    ok = {**fields, "request_id": fields["request_id"] + "-2", "beneficiary_id": "e1"}
    booking.send(b.FundsHoldRequested(**ok))
    refused, held = answers(app, since)
    assert isinstance(refused, c.HoldRefused) and refused.reason_code == "not_wallet_holder"
    assert isinstance(held, c.FundsHeld)


def test_the_auditors_replay_of_a_ledger_with_the_sagas_answers_is_sound(
    app: WalletApplication,
) -> None:
    wallet_id = funded_wallet(app)
    booking = Booking(app)
    booking.send(hold_requested(wallet_id))
    booking.send(hold_requested("not-a-wallet-id", step="c2:f1:hold"))
    booking.send(capture_requested(wallet_id, amount=25_000))
    booking.send(capture_requested(wallet_id, step="c1:f1:capture-2", amount=12_000))
    audit = audit_wallet(
        store_records(WalletLedgerStore(app)),
        source="store",
        figures=lambda upto: figures_from_store(WalletLedgerStore(app), upto),
    )
    assert audit.ok, "\n".join(audit.summary_lines())
    assert audit.differences == []
    assert audit.tally.balances["provider:coop-1:payable"] == 12_000
