"""The clock job that reminds employees before their credit expires at the end of the plan: a
CreditExpiring within 30 days and another within 7, with the amount at stake, each once per
wallet however often the job runs; none for an empty wallet, nor for credit that carries over."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import UUID

from benecomune_contracts import wallet as c
from servicekit.service import PeriodicJob
from wallet.adapters.contract_mapping import to_contract
from wallet.application import commands as cmd
from wallet.application.app import WalletApplication
from wallet.domain.wallet import Wallet
from wallet.service import DEFINITION

from .ledger_check import assert_ledger_sound
from .test_wallet_flows import hold, make_plan

END = date(2025, 12, 31)


def job() -> PeriodicJob:
    [found] = [j for j in DEFINITION.periodic if j.name == "remind_expiring_credit"]
    return found


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 9, 0, tzinfo=UTC)


def reminders(app: WalletApplication, wallet_id: UUID) -> list[c.CreditExpiring]:
    found = []
    for event in app.events.get(wallet_id):
        public = to_contract(event)
        if isinstance(public, c.CreditExpiring):
            found.append(public)
    return found


def test_reminders_at_30_and_7_days_are_sent_once_each_however_often_the_job_runs(
    app: WalletApplication,
) -> None:
    plan_id = make_plan(app, employees={"e1": False, "e2": False})
    w1 = app.grant(plan_id, cmd.Grant(employee_id="e1"))
    w2 = app.grant(plan_id, cmd.Grant(employee_id="e2", amount_cents=20_000))
    hold(app, w2, 5_000, "pending", expires=at(END))
    run = job().run
    assert run(app, at(END - timedelta(days=31))) == 0  # not yet
    assert run(app, at(END - timedelta(days=30))) == 2
    for day in range(29, 8, -1):
        assert run(app, at(END - timedelta(days=day))) == 0
        assert run(app, at(END - timedelta(days=day))) == 0
    assert run(app, at(END - timedelta(days=7))) == 2
    for day in (6, 6, 3, 0):
        assert run(app, at(END - timedelta(days=day))) == 0
    assert run(app, at(END + timedelta(days=1))) == 0  # expired: too late to warn

    first, second = reminders(app, w2)
    assert (first.threshold_days, first.days_left) == (30, 30)
    assert (second.threshold_days, second.days_left) == (7, 7)
    assert (second.amount_cents, second.held_cents) == (15_000, 5_000)  # the credit at stake
    assert second.expires_on == END and second.employee_id == "e2"
    assert second.transfers == []
    assert [r.amount_cents for r in reminders(app, w1)] == [50_000, 50_000]
    assert_ledger_sound(app)


def test_no_reminder_for_an_empty_wallet(app: WalletApplication) -> None:
    plan_id = make_plan(app, employees={"e1": False, "e2": False})
    spent = app.grant(plan_id, cmd.Grant(employee_id="e1", amount_cents=10_000))
    app.spend(
        spent,
        cmd.Spend(request_id="all", provider_id="coop", category="transport", amount_cents=10_000),
        at(date(2025, 11, 1)),
    )
    assert app.get_wallet(spent).total_cents == 0
    # e2 is enrolled but was never granted anything: no wallet at all.
    assert job().run(app, at(END - timedelta(days=20))) == 0
    assert job().run(app, at(END - timedelta(days=5))) == 0
    assert reminders(app, spent) == []


def test_the_first_run_close_to_the_end_sends_only_the_most_urgent_reminder(
    app: WalletApplication,
) -> None:
    plan_id = make_plan(app, employees={"e1": False})
    wallet_id = app.grant(plan_id, cmd.Grant(employee_id="e1"))
    assert job().run(app, at(END - timedelta(days=5))) == 1
    assert job().run(app, at(END - timedelta(days=4))) == 0
    [only] = reminders(app, wallet_id)
    assert (only.threshold_days, only.days_left) == (7, 5)


def test_credit_that_carries_over_or_a_closed_plan_gets_no_reminder(
    app: WalletApplication,
) -> None:
    carried = make_plan(app, policy="carry_over", employees={"e1": False})
    w1 = app.grant(carried, cmd.Grant(employee_id="e1"))
    resets = make_plan(app, employees={"e2": False})
    app.grant(resets, cmd.Grant(employee_id="e2"))
    app.close_plan(resets, cmd.ClosePlan(), today=END)
    assert job().run(app, at(END)) == 0
    assert reminders(app, w1) == []
    assert reminders(app, Wallet.id_for(resets, "e2")) == []
