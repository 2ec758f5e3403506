"""A store written before family members, delegates, reminders and bonus conversions existed is
still read: its FundsHeld events (no member nor delegate) and its wallet and plan snapshots (none
of the new attributes) are upcast, and the hash chain of the old events still verifies."""

from __future__ import annotations

import json
from typing import Any

from benecomune_contracts.chain import ChainVerifier, LedgerEvent
from eventsourcing.domain import Snapshot
from wallet.adapters.contract_mapping import to_contract
from wallet.application import commands as cmd
from wallet.application.app import WalletApplication

from .test_wallet_flows import hold, make_plan


def test_a_funds_held_stored_before_the_upgrade_is_read_and_still_verifies(
    app: WalletApplication,
) -> None:
    plan_id = make_plan(app, employees={"e1": False})
    wallet_id = app.grant(plan_id, cmd.Grant(employee_id="e1"))
    hold_id = hold(app, wallet_id, 1_000, "old")
    with app.recorder.datastore.transaction(commit=True) as cursor:
        cursor.execute("SELECT originator_id, originator_version, state, topic FROM stored_events")
        target = next(r for r in cursor.fetchall() if r[3].endswith("Wallet.FundsHeld"))
        state = json.loads(bytes(target[2]))
        for added in ("member_id", "delegate_id", "class_version"):
            del state[added]
        cursor.execute(
            "UPDATE stored_events SET state = ? WHERE originator_id = ? AND originator_version = ?",
            (json.dumps(state).encode(), target[0], target[1]),
        )
    app.repository.cache = None  # type: ignore[assignment]
    wallet = app.get_wallet(wallet_id)
    assert wallet.holds[str(hold_id)]["member_id"] is None
    public: list[Any] = [to_contract(e) for e in app.events.get(wallet_id)]
    assert all(isinstance(e, LedgerEvent) for e in public)
    verifier = ChainVerifier()
    assert len(verifier.feed_all(public)) == len(public) and not verifier.breaks


def test_wallet_and_plan_snapshots_taken_before_the_upgrade_are_upcast(
    app: WalletApplication,
) -> None:
    plan_id = make_plan(app, employees={"e1": False})
    wallet_id = app.grant(plan_id, cmd.Grant(employee_id="e1"))
    for aggregate, added in (
        (app.get_wallet(wallet_id), ("reminded_days", "bonus_converted_cents", "bonus_requests")),
        (
            app.get_plan(plan_id),
            ("bonus_conversion", "bonus_converted_cents", "fiscal_codes", "fiscal_code_of"),
        ),
    ):
        snapshot = Snapshot.take(aggregate)
        old_state = {k: v for k, v in snapshot.state.items() if k not in (*added, "class_version")}
        old = Snapshot(
            originator_id=snapshot.originator_id,
            originator_version=snapshot.originator_version,
            timestamp=snapshot.timestamp,
            topic=snapshot.topic,
            state=old_state,
        )
        restored = old.mutate(None)
        assert type(restored) is type(aggregate)
        for name in added:
            assert getattr(restored, name) == getattr(aggregate, name), name


def test_enrolments_and_fringe_records_stored_before_the_upgrade_are_read(
    app: WalletApplication,
) -> None:
    plan_id = make_plan(app, employees={"e1": False})
    wallet_id = app.grant(plan_id, cmd.Grant(employee_id="e1"))
    h = hold(app, wallet_id, 1_000, "f", "fringe_purchase")
    app.release(wallet_id, h, cmd.Release(request_id="r"))
    olds = {
        "Plan.EmployeesEnrolled": "fiscal_fingerprints",
        "FringeYear.Recorded": "back_under_cap",
    }
    with app.recorder.datastore.transaction(commit=True) as cursor:
        cursor.execute("SELECT originator_id, originator_version, state, topic FROM stored_events")
        for row in cursor.fetchall():
            added = next((a for t, a in olds.items() if row[3].endswith(t)), None)
            if added is None:
                continue
            state = json.loads(bytes(row[2]))
            del state[added], state["class_version"]
            cursor.execute(
                "UPDATE stored_events SET state = ? "
                "WHERE originator_id = ? AND originator_version = ?",
                (json.dumps(state).encode(), row[0], row[1]),
            )
    app.repository.cache = None  # type: ignore[assignment]
    plan = app.get_plan(plan_id)
    assert plan.employees == {"e1": False} and plan.fiscal_codes == {}
    (line,) = app.payroll(None, 2025, check_year=False)
    assert (line.fringe_cents, line.taxable_cents) == (0, 0)
    public: list[Any] = [to_contract(e) for e in app.events.get(plan_id)]
    verifier = ChainVerifier()
    assert len(verifier.feed_all(public)) == len(public) and not verifier.breaks
