"""The auditor's replay of the wallet ledger (the shared servicekit.audit code with the wallet's
own tally): from the store it rebuilds every account, finds the rules hold and every figure
matches the service's to the cent; a tampered event is named."""

from __future__ import annotations

from datetime import date

from servicekit.audit import store_records
from wallet.application import commands as cmd
from wallet.application.app import WalletApplication
from wallet.audit import audit_wallet, figures_from_application
from wallet.contract_mapping import to_contract

from .test_wallet_flows import hold, make_plan


def busy_ledger(app: WalletApplication) -> None:
    old = make_plan(
        app, policy="carry_over", per_employee=150_000, employees={"e1": True, "e2": False}
    )
    w1 = app.grant(old, cmd.Grant(employee_id="e1"))
    w2 = app.grant(old, cmd.Grant(employee_id="e2", amount_cents=120_000))
    h = hold(app, w1, 40_000, "a", "fringe_purchase")
    app.capture(w1, h, cmd.Capture(request_id="c", amount_cents=30_000))
    app.refund(w1, h, cmd.Refund(request_id="r", amount_cents=5_000))
    b = hold(app, w2, 90_000, "b", "fringe_purchase")
    over = hold(app, w2, 20_000, "over", "fringe_purchase", confirm=True)
    app.capture(w2, b, cmd.Capture(request_id="same-request-id"))
    app.capture(w2, over, cmd.Capture(request_id="same-request-id"))
    hold(app, w1, 7_000, "open")
    hold(app, w1, 3_000, "open-too", "transport")
    new = make_plan(app, year=2026, employees={"e1": False})
    app.close_plan(old, cmd.ClosePlan(next_plan_id=str(new)), today=date(2026, 1, 1))


def test_the_replay_of_the_store_matches_the_service_to_the_cent(app: WalletApplication) -> None:
    busy_ledger(app)
    audit = audit_wallet(
        store_records(app, to_contract),
        source="store",
        figures=lambda: figures_from_application(app),
    )
    assert audit.ok, "\n".join(audit.summary_lines())
    assert audit.differences == []
    assert sum(audit.tally.balances.values()) == 0
    assert audit.as_dict()["taxable_fringe"] == [
        {"employee_id": "e1", "year": 2025, "taxable_cents": 0},
        {"employee_id": "e2", "year": 2025, "taxable_cents": 110_000},
    ]


def test_a_tampered_amount_in_the_store_is_named_by_the_audit(app: WalletApplication) -> None:
    busy_ledger(app)
    with app.recorder.datastore.transaction(commit=True) as cursor:
        cursor.execute("SELECT originator_id, originator_version, state, topic FROM stored_events")
        rows = cursor.fetchall()
        target = next(r for r in rows if r[3].endswith("Wallet.HoldCaptured"))
        state = bytes(target[2]).replace(b'"amount_cents":30000', b'"amount_cents":3000', 1)
        assert state != bytes(target[2])
        cursor.execute(
            "UPDATE stored_events SET state = ? WHERE originator_id = ? AND originator_version = ?",
            (state, target[0], target[1]),
        )
    audit = audit_wallet(
        store_records(app, to_contract),
        source="store",
        figures=lambda: figures_from_application(app),
    )
    assert not audit.ok
    assert [b.kind for b in audit.replay.breaks] == ["edited"]
