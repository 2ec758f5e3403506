"""The wallet's core flows, driven through the application on a real SQLite store."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import UUID

import pytest
from servicekit.italian_ids import fiscal_code_check_character
from wallet.application import commands as cmd
from wallet.application.app import WalletApplication
from wallet.domain.errors import (
    CategoryNotAllowed,
    FringeCapExceeded,
    InsufficientFunds,
    InvalidTransition,
    NotEligible,
    RequestMismatch,
)
from wallet.domain.wallet import Wallet

from .ledger_check import assert_ledger_sound

ACME_VAT = "06363391001"
EMPLOYER = "acme"
NOW = datetime(2025, 6, 1, 10, 0, tzinfo=UTC)
ALL = ["services_no_cap", "education_childcare", "elderly_care", "transport", "fringe_purchase"]


def code(body: str) -> str:
    return body + fiscal_code_check_character(body)


GOOD_CODE_FOR_TESTS = code("RSSMRA85T10A562")


def person(n: int) -> str:
    """A valid fiscal code of the n-th person (0-9): one person, one code."""
    return code(f"VRDLGU80A01L21{n}")


def make_plan(
    app: WalletApplication,
    *,
    year: int = 2025,
    budget: int = 1_000_000,
    per_employee: int = 50_000,
    policy: str = "reset",
    employees: dict[str, bool] | None = None,
    bonus: bool = False,
    employer: str = EMPLOYER,
) -> UUID:
    plan_id = app.create_plan(
        employer,
        cmd.CreatePlan(
            vat_number=ACME_VAT,
            year=year,
            starts_on=date(year, 1, 1),
            ends_on=date(year, 12, 31),
            budget_cents=budget,
            credit_per_employee_cents=per_employee,
            categories=ALL,  # type: ignore[arg-type]
            end_policy=policy,  # type: ignore[arg-type]
            productivity_bonus=bonus,
        ),
        today=date(year, 6, 1),  # plan years are plausible around "today"
    )
    if employees:
        app.enrol(
            plan_id,
            cmd.Enrol(
                employees=[
                    cmd.Employee(employee_id=e, dependent_children=c) for e, c in employees.items()
                ]
            ),
        )
    return plan_id


def hold(
    app: WalletApplication,
    wallet_id: UUID,
    amount: int,
    request: str,
    category: str = "services_no_cap",
    *,
    confirm: bool = False,
    expires: datetime = NOW + timedelta(days=3),
    member: str | None = None,
    delegate: str | None = None,
) -> UUID:
    return app.hold(
        wallet_id,
        cmd.HoldFunds(
            request_id=request,
            provider_id="coop-1",
            category=category,  # type: ignore[arg-type]
            amount_cents=amount,
            expires_at=expires,
            confirm_taxable=confirm,
            for_member_id=member,
        ),
        NOW,
        delegate_id=delegate,
    )


def test_a_grant_moves_budget_from_the_plan_to_the_wallet_and_the_books_balance(
    app: WalletApplication,
) -> None:
    plan_id = make_plan(app, employees={"e1": False})
    wallet_id = app.grant(plan_id, cmd.Grant(employee_id="e1"))
    wallet = app.get_wallet(wallet_id)
    assert wallet.available_for("transport") == 50_000
    assert app.get_plan(plan_id).funding_cents == 950_000
    balances = assert_ledger_sound(app)
    assert balances[f"employer:{EMPLOYER}:contributions"] == -1_000_000


def test_a_grant_to_someone_not_enrolled_is_refused(app: WalletApplication) -> None:
    plan_id = make_plan(app, employees={"e1": False})
    with pytest.raises(NotEligible):
        app.grant(plan_id, cmd.Grant(employee_id="stranger"))


def test_grants_cannot_exceed_the_budget(app: WalletApplication) -> None:
    plan_id = make_plan(app, budget=60_000, employees={"e1": False, "e2": False})
    app.grant(plan_id, cmd.Grant(employee_id="e1"))
    with pytest.raises(InsufficientFunds):
        app.grant(plan_id, cmd.Grant(employee_id="e2"))
    assert_ledger_sound(app)


def test_hold_capture_part_and_refund_move_money_as_balanced_transfers(
    app: WalletApplication,
) -> None:
    plan_id = make_plan(app, employees={"e1": False})
    wallet_id = app.grant(plan_id, cmd.Grant(employee_id="e1"))
    hold_id = hold(app, wallet_id, 30_000, "booking-1")
    assert app.get_wallet(wallet_id).available_for("services_no_cap") == 20_000
    assert app.capture(wallet_id, hold_id, cmd.Capture(request_id="c1", amount_cents=25_000)) == (
        25_000
    )
    assert app.get_wallet(wallet_id).available_for("services_no_cap") == 25_000
    app.refund(wallet_id, hold_id, cmd.Refund(request_id="r1", amount_cents=10_000))
    with pytest.raises(InsufficientFunds):
        app.refund(wallet_id, hold_id, cmd.Refund(request_id="r2", amount_cents=20_000))
    balances = assert_ledger_sound(app)
    assert balances["provider:coop-1:payable"] == 15_000
    assert app.get_wallet(wallet_id).available_for("services_no_cap") == 35_000
    report = app.plan_figures(plan_id)
    assert report.spent_by_category == {"services_no_cap": 15_000}


def test_a_repeated_hold_request_holds_once_and_a_reused_id_is_refused(
    app: WalletApplication,
) -> None:
    plan_id = make_plan(app, employees={"e1": False})
    wallet_id = app.grant(plan_id, cmd.Grant(employee_id="e1"))
    first = hold(app, wallet_id, 10_000, "same")
    assert hold(app, wallet_id, 10_000, "same") == first
    assert app.get_wallet(wallet_id).held_cents == 10_000
    with pytest.raises(RequestMismatch):
        hold(app, wallet_id, 20_000, "same")
    assert app.capture(wallet_id, first, cmd.Capture(request_id="x")) == 10_000
    assert app.capture(wallet_id, first, cmd.Capture(request_id="x")) == 10_000
    with pytest.raises(InvalidTransition, match="captured"):
        app.release(wallet_id, first, cmd.Release(request_id="y"))


def test_a_release_and_an_expiry_give_the_money_back(app: WalletApplication) -> None:
    plan_id = make_plan(app, employees={"e1": False})
    wallet_id = app.grant(plan_id, cmd.Grant(employee_id="e1"))
    h1 = hold(app, wallet_id, 10_000, "a")
    hold(app, wallet_id, 5_000, "b", expires=NOW + timedelta(hours=1))
    assert app.release(wallet_id, h1, cmd.Release(request_id="ra")) == 10_000
    assert app.expire_holds(NOW + timedelta(hours=2)) == 5_000
    wallet = app.get_wallet(wallet_id)
    assert wallet.held_cents == 0 and wallet.total_cents == 50_000
    with pytest.raises(InvalidTransition):
        app.capture(wallet_id, h1, cmd.Capture(request_id="late"))
    assert_ledger_sound(app)


def test_category_credit_pays_only_its_category_while_general_credit_pays_any(
    app: WalletApplication,
) -> None:
    plan_id = make_plan(app, employees={"e1": False})
    app.grant(plan_id, cmd.Grant(employee_id="e1", amount_cents=10_000, category="transport"))
    wallet_id = app.grant(plan_id, cmd.Grant(employee_id="e1", amount_cents=5_000))
    wallet = app.get_wallet(wallet_id)
    assert wallet.available_for("transport") == 15_000
    assert wallet.available_for("elderly_care") == 5_000
    with pytest.raises(InsufficientFunds):
        hold(app, wallet_id, 6_000, "x", "elderly_care")
    hold(app, wallet_id, 12_000, "y", "transport")
    assert app.get_wallet(wallet_id).available_for("elderly_care") == 3_000
    assert_ledger_sound(app)


def test_a_category_the_plan_does_not_allow_is_refused(app: WalletApplication) -> None:
    plan_id = app.create_plan(
        EMPLOYER,
        cmd.CreatePlan(
            vat_number=ACME_VAT,
            year=2025,
            starts_on=date(2025, 1, 1),
            ends_on=date(2025, 12, 31),
            budget_cents=100_000,
            credit_per_employee_cents=10_000,
            categories=["transport"],
        ),
    )
    app.enrol(plan_id, cmd.Enrol(employees=[cmd.Employee(employee_id="e1")]))
    with pytest.raises(CategoryNotAllowed):
        app.grant(plan_id, cmd.Grant(employee_id="e1", category="elderly_care"))
    wallet_id = app.grant(plan_id, cmd.Grant(employee_id="e1"))
    with pytest.raises(CategoryNotAllowed):
        hold(app, wallet_id, 1_000, "x", "elderly_care")


@pytest.mark.parametrize(("children", "cap"), [(False, 100_000), (True, 200_000)])
def test_the_fringe_cap_warns_then_refuses_unless_the_taxable_consequence_is_confirmed(
    app: WalletApplication, children: bool, cap: int
) -> None:
    plan_id = make_plan(app, per_employee=300_000, employees={"e1": children})
    wallet_id = app.grant(plan_id, cmd.Grant(employee_id="e1"))
    hold(app, wallet_id, cap - 10_000, "under", "fringe_purchase")
    with pytest.raises(FringeCapExceeded, match="WHOLE year"):
        hold(app, wallet_id, 20_000, "over", "fringe_purchase")
    fringe = app.fringe_year("e1", 2025)
    assert fringe is not None and not fringe.taxable and fringe.total_cents == cap - 10_000
    assert app.get_wallet(wallet_id).held_cents == cap - 10_000  # nothing was held
    hold(app, wallet_id, 20_000, "over", "fringe_purchase", confirm=True)
    fringe = app.fringe_year("e1", 2025)
    assert fringe is not None and fringe.taxable
    assert fringe.taxable_cents == cap + 10_000  # the whole year's amount, not the excess
    [line] = app.payroll(EMPLOYER, 2025)
    assert (line.employee_id, line.taxable_cents, line.cap_cents) == ("e1", cap + 10_000, cap)
    assert_ledger_sound(app)


def test_spending_up_to_the_cap_exactly_is_tax_free(app: WalletApplication) -> None:
    plan_id = make_plan(app, per_employee=300_000, employees={"e1": False})
    wallet_id = app.grant(plan_id, cmd.Grant(employee_id="e1"))
    h = hold(app, wallet_id, 100_000, "all", "fringe_purchase")
    app.capture(wallet_id, h, cmd.Capture(request_id="c", amount_cents=60_000))
    fringe = app.fringe_year("e1", 2025)
    assert fringe is not None and fringe.total_cents == 60_000 and fringe.taxable_cents == 0
    [line] = app.payroll(EMPLOYER, 2025)
    assert not line.taxable
    assert_ledger_sound(app)


def test_at_the_end_of_a_reset_plan_unspent_credit_returns_to_the_employer(
    app: WalletApplication,
) -> None:
    plan_id = make_plan(app, employees={"e1": False, "e2": False})
    w1 = app.grant(plan_id, cmd.Grant(employee_id="e1"))
    hold(app, w1, 20_000, "open-hold")
    hold(app, w1, 5_000, "another-open-hold", "transport")
    app.grant(plan_id, cmd.Grant(employee_id="e2", amount_cents=10_000))
    with pytest.raises(InvalidTransition):
        app.close_plan(plan_id, cmd.ClosePlan(), today=date(2025, 6, 1))
    result = app.close_plan(plan_id, cmd.ClosePlan(), today=date(2026, 1, 1))
    assert result == {
        "expired_cents": 60_000,
        "carried_over_cents": 0,
        "unallocated_returned_cents": 940_000,
    }
    balances = assert_ledger_sound(app)
    assert balances[f"plan:{plan_id}:returned"] == 1_000_000
    figures = app.plan_figures(plan_id)
    assert figures.expired_cents == 60_000 and figures.left_cents == 0 and figures.closed
    assert figures.held_cents == 0  # every open hold was released first


def test_at_the_end_of_a_carry_over_plan_credit_moves_to_the_next_plan(
    app: WalletApplication,
) -> None:
    old = make_plan(app, policy="carry_over", employees={"e1": False, "e2": False})
    w1 = app.grant(old, cmd.Grant(employee_id="e1", amount_cents=30_000, category="transport"))
    app.grant(old, cmd.Grant(employee_id="e2", amount_cents=10_000))
    new = make_plan(app, year=2026, employees={"e1": False})  # e2 left the company
    result = app.close_plan(old, cmd.ClosePlan(next_plan_id=str(new)), today=date(2026, 1, 1))
    assert result["carried_over_cents"] == 30_000 and result["expired_cents"] == 10_000
    carried = app.get_wallet(Wallet.id_for(new, "e1"))
    assert carried.balance("transport") == 30_000 and carried.carried_in_cents == 30_000
    assert app.get_wallet(w1).closed
    assert app.plan_figures(new).carried_in_cents == 30_000
    assert_ledger_sound(app)


def test_a_reset_plan_refuses_to_carry_over(app: WalletApplication) -> None:
    old = make_plan(app, employees={"e1": False})
    new = make_plan(app, year=2026, employees={"e1": False})
    with pytest.raises(InvalidTransition):
        app.close_plan(old, cmd.ClosePlan(next_plan_id=str(new)), today=date(2026, 1, 1))


def test_a_csv_with_bad_rows_loads_the_good_ones_and_explains_each_bad_one(
    app: WalletApplication,
) -> None:
    plan_id = make_plan(app, budget=200_000, per_employee=50_000)
    good = code("RSSMRA85T10A562")
    text = "\n".join(
        [
            "employee_id;fiscal_code;dependent_children;amount_eur;category",
            f"e1;{good};no;500,00;",
            f"e2;{good[:-1]}X;no;;",  # wrong check character
            f"e3;{person(3)};maybe;100;",
            f"e4;{person(4)};sì;1.000,50;transport",
            f"e5;{person(5)};no;abc;",
            f"e6;{person(6)};no;;teleport",
            f"e1;{good};no;10;",  # twice
            f"e7;{person(7)};no;9999;",  # over what is left of the budget
            f"bad id!;{person(9)};no;;",
        ]
    )
    report = app.load_csv(plan_id, text)
    assert [r["employee_id"] for r in report.loaded] == ["e1", "e4"]
    assert report.loaded_cents == 50_000 + 100_050
    reasons = {r["line"]: r["reason"] for r in report.rejected}
    assert sorted(reasons) == [3, 4, 6, 7, 8, 9, 10]
    assert "check" in reasons[3].lower()
    assert "yes or no" in reasons[4]
    assert "already appears on line 2" in reasons[8]
    assert "cents" in reasons[9]
    plan = app.get_plan(plan_id)
    assert plan.employees == {"e1": False, "e4": True, "e7": False}
    assert app.get_wallet(Wallet.id_for(plan_id, "e4")).balance("transport") == 100_050
    assert_ledger_sound(app)


def test_the_clock_job_releases_expired_holds_once(app: WalletApplication) -> None:
    from wallet.service import DEFINITION

    (job,) = [j for j in DEFINITION.periodic if j.name == "expire_holds"]
    plan_id = make_plan(app, employees={"e1": False, "e2": False})
    w1 = app.grant(plan_id, cmd.Grant(employee_id="e1"))
    w2 = app.grant(plan_id, cmd.Grant(employee_id="e2"))
    hold(app, w1, 4_000, "soon", expires=NOW + timedelta(hours=1))
    hold(app, w2, 6_000, "later", expires=NOW + timedelta(days=2))
    assert job.run(app, NOW + timedelta(hours=2)) == 4_000
    assert job.run(app, NOW + timedelta(hours=2)) == 0
    assert app.get_wallet(w1).held_cents == 0 and app.get_wallet(w2).held_cents == 6_000
    assert_ledger_sound(app)
