"""Property-based: whatever sequence of grants, productivity-bonus conversions, holds, captures,
releases, refunds, hold expiries and plan ends happens (refused ones included), the ledger
rebuilt from the stored events alone balances to zero, no account that must not go negative
does, no employee's converted bonus crosses the yearly limit, and every aggregate's own
balances agree with that independent rebuild."""

from __future__ import annotations

import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from servicekit.domain import DomainError
from wallet.application import commands as cmd
from wallet.application.app import WalletApplication
from wallet.domain.wallet import Wallet
from wallet.settings import WalletSettings

from .ledger_check import assert_ledger_sound

NOW = datetime(2025, 6, 1, tzinfo=UTC)
EMPLOYEES = ["e0", "e1", "e2"]
CATEGORIES = ["services_no_cap", "transport", "fringe_purchase"]

employee = st.sampled_from(EMPLOYEES)
amount = st.integers(min_value=1, max_value=60_000)
pick = st.integers(min_value=0, max_value=50)
operation = st.one_of(
    st.tuples(st.just("grant"), employee, amount, st.sampled_from(["general", *CATEGORIES])),
    st.tuples(st.just("hold"), employee, amount, st.sampled_from(CATEGORIES), st.booleans()),
    st.tuples(st.just("capture"), pick, st.one_of(st.none(), amount)),
    st.tuples(st.just("release"), pick),
    st.tuples(st.just("refund"), pick, amount),
    st.tuples(st.just("expire_holds"), st.integers(min_value=0, max_value=5)),
    st.tuples(st.just("convert"), employee, st.integers(min_value=1, max_value=250_000)),
)
BONUS_LIMIT = 300_000


def run(app: WalletApplication, ops: list[tuple[Any, ...]], policy: str) -> UUID:
    plan_id = app.create_plan(
        "acme",
        cmd.CreatePlan(
            vat_number="06363391001",
            year=2025,
            starts_on=date(2025, 1, 1),
            ends_on=date(2025, 12, 31),
            budget_cents=300_000,
            credit_per_employee_cents=10_000,
            categories=CATEGORIES,  # type: ignore[arg-type]
            end_policy=policy,  # type: ignore[arg-type]
            productivity_bonus=True,
        ),
    )
    app.enrol(
        plan_id,
        cmd.Enrol(
            employees=[cmd.Employee(employee_id=e, dependent_children=e == "e1") for e in EMPLOYEES]
        ),
    )
    holds: list[tuple[Any, Any]] = []
    for n, op in enumerate(ops):
        try:
            if op[0] == "grant":
                app.grant(plan_id, cmd.Grant(employee_id=op[1], amount_cents=op[2], category=op[3]))
            elif op[0] == "hold":
                wallet_id = Wallet.id_for(plan_id, op[1])
                hold_id = app.hold(
                    wallet_id,
                    cmd.HoldFunds(
                        request_id=f"h{n}",
                        provider_id="coop",
                        category=op[3],
                        amount_cents=op[2],
                        expires_at=NOW + timedelta(days=n % 4),
                        confirm_taxable=op[4],
                    ),
                    NOW,
                )
                holds.append((wallet_id, hold_id))
            elif holds and op[0] == "capture":
                w, h = holds[op[1] % len(holds)]
                app.capture(w, h, cmd.Capture(request_id=f"c{n}", amount_cents=op[2]))
            elif holds and op[0] == "release":
                w, h = holds[op[1] % len(holds)]
                app.release(w, h, cmd.Release(request_id=f"r{n}"))
            elif holds and op[0] == "refund":
                w, h = holds[op[1] % len(holds)]
                app.refund(w, h, cmd.Refund(request_id=f"f{n}", amount_cents=op[2]))
            elif op[0] == "expire_holds":
                app.expire_holds(NOW + timedelta(days=op[1]))
            elif op[0] == "convert":
                app.convert_bonus(
                    plan_id,
                    cmd.ConvertBonus(request_id=f"b{n}", employee_id=op[1], amount_cents=op[2]),
                    NOW.date(),
                )
        except DomainError:
            pass  # a refusal changes nothing: the invariants below still hold
    next_plan = None
    if policy == "carry_over":
        next_plan = app.create_plan(
            "acme",
            cmd.CreatePlan(
                vat_number="06363391001",
                year=2026,
                starts_on=date(2026, 1, 1),
                ends_on=date(2026, 12, 31),
                budget_cents=1,
                credit_per_employee_cents=0,
                categories=["transport"],
            ),
        )
        app.enrol(next_plan, cmd.Enrol(employees=[cmd.Employee(employee_id="e0")]))
    app.close_plan(
        plan_id,
        cmd.ClosePlan(next_plan_id=str(next_plan) if next_plan else None),
        today=date(2026, 1, 1),
    )
    return plan_id


def owned_balances(app: WalletApplication) -> dict[str, int]:
    """Every account as its owning aggregate sees it."""
    owned: dict[str, int] = {}
    for plan in app.plans_of(None):
        owned.update(plan.balances)
        for wallet in app.wallets_of_plan(plan):
            owned.update({a: b for a, b in wallet.balances.items()})
            fringe = app.fringe_year(wallet.employee_id, wallet.year)
            if fringe is not None:
                owned.update(fringe.balances)
            bonus = app.bonus_year(wallet.employee_id, wallet.year)
            if bonus is not None:
                owned.update(bonus.balances)
    return owned


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(ops=st.lists(operation, max_size=30), policy=st.sampled_from(["reset", "carry_over"]))
@example(  # a second conversion would cross the employee's yearly limit
    ops=[
        ("convert", "e0", 200_000),
        ("hold", "e0", 50_000, "transport", False),
        ("convert", "e0", 150_000),
    ],
    policy="carry_over",
)
def test_any_sequence_of_movements_keeps_the_ledger_balanced_and_nothing_overdrawn(
    ops: list[tuple[Any, ...]], policy: str
) -> None:
    with tempfile.TemporaryDirectory() as root:
        app = WalletApplication(
            WalletSettings(data_dir=Path(root) / "data", keys_dir=Path(root) / "keys")
        )
        try:
            plan_id = run(app, ops, policy)
            rebuilt = assert_ledger_sound(app)
            for account, balance in owned_balances(app).items():
                assert rebuilt.get(account, 0) == balance, account
            converted = -rebuilt.get("employer:acme:productivity_bonus", 0)
            assert all(
                rebuilt.get(f"bonus:{e}:2025:converted", 0) <= BONUS_LIMIT for e in EMPLOYEES
            )
            assert converted == sum(rebuilt.get(f"bonus:{e}:2025:converted", 0) for e in EMPLOYEES)
            # After the plan's end every cent of the budget and of the converted bonus is spent,
            # returned or carried over.
            spent = sum(b for a, b in rebuilt.items() if a.startswith("provider:"))
            returned = sum(b for a, b in rebuilt.items() if a.endswith(":returned"))
            in_next_plan = (
                sum(
                    b
                    for a, b in rebuilt.items()
                    if a.startswith("wallet:") or a.startswith("plan:")
                )
                - returned
            )
            assert spent + returned + in_next_plan == (
                300_000 + (1 if policy == "carry_over" else 0) + converted
            )
            assert all(
                b == 0
                for a, b in rebuilt.items()
                if a.startswith(("hold:", f"wallet:{plan_id}:", f"plan:{plan_id}:funding"))
            )
        finally:
            batcher = app.__dict__.get("_batcher")
            if batcher is not None:
                batcher.close()
            app.close()
