"""The auditor's replay of the wallet ledger (the auditor's engine, benecomune_auditor, with the
wallet's own tally): from the store it rebuilds every account, finds the rules hold and every figure
matches the service's to the cent — productivity bonuses converted into credit included, while
family members, delegates and expiry reminders change no figure; a tampered event is named."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from uuid import UUID

from benecomune_auditor.store_reader import store_records
from benecomune_auditor.wallet import audit_wallet, compare, figures_from_store
from wallet.application import commands as cmd
from wallet.application.app import WalletApplication
from wallet.audit_hook import WalletLedgerStore

from .test_wallet_flows import hold, make_plan


def busy_ledger(app: WalletApplication) -> tuple[UUID, UUID]:
    old = make_plan(
        app,
        policy="carry_over",
        per_employee=150_000,
        employees={"e1": True, "e2": False},
        bonus=True,
    )
    w1 = app.grant(old, cmd.Grant(employee_id="e1"))
    w2 = app.grant(old, cmd.Grant(employee_id="e2", amount_cents=120_000))
    app.convert_bonus(
        old,
        cmd.ConvertBonus(request_id="bonus-e2", employee_id="e2", amount_cents=80_000),
        today=date(2025, 6, 1),
    )
    app.name_family_member("e1", "father-1", cmd.NameFamilyMember(relationship="parent"))
    app.name_delegate("e1", cmd.NameDelegate(delegate_id="carer-1"))
    hold(app, w1, 6_000, "care", "elderly_care", member="father-1", delegate="carer-1")
    app.revoke_delegate("e1")
    h = hold(app, w1, 40_000, "a", "fringe_purchase")
    app.capture(w1, h, cmd.Capture(request_id="c", amount_cents=30_000))
    app.refund(w1, h, cmd.Refund(request_id="r", amount_cents=5_000))
    b = hold(app, w2, 90_000, "b", "fringe_purchase")
    over = hold(app, w2, 20_000, "over", "fringe_purchase", confirm=True)
    app.capture(w2, b, cmd.Capture(request_id="same-request-id"))
    app.capture(w2, over, cmd.Capture(request_id="same-request-id"))
    hold(app, w1, 7_000, "open")
    hold(app, w1, 3_000, "open-too", "transport")
    reset = make_plan(app, employees={"e3": False})
    app.grant(reset, cmd.Grant(employee_id="e3"))
    assert app.remind_expiring_credit(datetime(2025, 12, 1, tzinfo=UTC)) == 1
    new = make_plan(app, year=2026, employees={"e1": False})
    app.close_plan(old, cmd.ClosePlan(next_plan_id=str(new)), today=date(2026, 1, 1))
    return old, reset


def test_the_replay_of_the_store_matches_the_service_to_the_cent(app: WalletApplication) -> None:
    old, reset = busy_ledger(app)
    audit = audit_wallet(
        store_records(WalletLedgerStore(app)),
        source="store",
        figures=lambda upto: figures_from_store(WalletLedgerStore(app), upto),
    )
    assert audit.ok, "\n".join(audit.summary_lines())
    assert audit.differences == []
    assert audit.replay.private_events == 0  # family, delegate and reminder events are public
    assert sum(audit.tally.balances.values()) == 0
    assert audit.as_dict()["taxable_fringe"] == [
        {"employee_id": "e1", "year": 2025, "taxable_cents": 0},
        {"employee_id": "e2", "year": 2025, "taxable_cents": 110_000},
    ]
    plans = audit.as_dict()["plans"]
    assert plans[str(old)]["bonus_converted_cents"] == 80_000
    assert "bonus_converted_cents" not in plans[str(reset)]  # the plan does not allow it
    accounts = audit.as_dict()["accounts"]
    assert accounts["employer:acme:productivity_bonus"] == -80_000
    assert accounts["bonus:e2:2025:converted"] == 80_000
    # Credit in = credit out, with the converted bonus.
    f = plans[str(old)]
    assert f["loaded_cents"] + f["carried_in_cents"] + f["bonus_converted_cents"] == (
        f["spent_cents"]
        + f["held_cents"]
        + f["left_cents"]
        + f["expired_cents"]
        + f["carried_over_cents"]
    )
    bonus_rows = [r for r in audit.csv_rows() if r["figure"] == "bonus_converted_cents"]
    assert [(r["subject"], r["cents"]) for r in bonus_rows] == [(str(old), 80_000)]


def test_a_service_figure_of_converted_bonus_that_disagrees_is_named(
    app: WalletApplication,
) -> None:
    old, _ = busy_ledger(app)
    audit = audit_wallet(store_records(WalletLedgerStore(app)), source="store")
    service = figures_from_store(WalletLedgerStore(app))
    figures = dict(service.plans[str(old)], bonus_converted_cents=79_999)
    wrong = replace(service, plans={**service.plans, str(old): figures})
    [difference] = compare(audit.tally, wrong)
    assert (difference.figure, difference.tally_cents, difference.service_cents) == (
        "bonus_converted_cents",
        80_000,
        79_999,
    )


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
        store_records(WalletLedgerStore(app)),
        source="store",
        figures=lambda upto: figures_from_store(WalletLedgerStore(app), upto),
    )
    assert not audit.ok
    assert [b.kind for b in audit.replay.breaks] == ["edited"]


def test_a_service_that_moved_on_during_the_replay_is_compared_where_the_replay_ended(
    app: WalletApplication,
) -> None:
    _, reset = busy_ledger(app)
    replayed = list(store_records(WalletLedgerStore(app)))  # what the replay read ...
    up_to_now = figures_from_store(WalletLedgerStore(app), app.last_notification_id())
    live_then = figures_from_store(WalletLedgerStore(app))
    w3 = app.wallets_of_plan(app.get_plan(reset))[0].id
    hold(app, w3, 2_000, "meanwhile")  # ... and a booking held on a wallet meanwhile

    where_it_ended = audit_wallet(
        replayed,
        source="store",
        figures=lambda upto: figures_from_store(WalletLedgerStore(app), upto),
    )
    live = audit_wallet(
        replayed, source="store", figures=figures_from_store(WalletLedgerStore(app))
    )

    # Up to the store's end, the figures at a point are the live ones.
    assert (up_to_now.plans, up_to_now.taxable_fringe) == (
        live_then.plans,
        live_then.taxable_fringe,
    )
    assert where_it_ended.ok, "\n".join(where_it_ended.summary_lines())
    point = where_it_ended.replay.last_position
    assert f"comparison with the service's application (up to notification {point})" in (
        "\n".join(where_it_ended.summary_lines())
    )
    assert live.differences  # the live figures count the grant the replay never read


def test_the_auditors_own_copy_of_the_negative_rule_agrees_with_the_ledgers() -> None:
    """The auditor keeps its own copy of the rule it checks (it imports no service): the two
    copies answer alike for every kind of account the wallet keeps."""
    from benecomune_auditor.wallet.rules import may_go_negative as auditors
    from wallet.domain import accounts

    names = [
        accounts.employer_contributions("acme"),
        accounts.employer_bonus("acme"),
        accounts.plan_funding("p-1"),
        accounts.plan_returned("p-1"),
        accounts.wallet_account("p-1", "e1", "general"),
        accounts.hold_account("h-1"),
        accounts.provider_payable("acme-care"),
        *(accounts.fringe_account("e1", 2025, k) for k in ("exempt", "taxable", "contra")),
        *(accounts.bonus_account("e1", 2025, k) for k in ("converted", "contra")),
        "fringe:e1:2025:contra:x",
    ]
    for account in names:
        assert auditors(account) == accounts.may_go_negative(account), account
