"""The wallet's rules exercised on the aggregates alone, without a store or an application:
the end of a plan (closing, carry-over, expiry), spending across the wallet and the fringe year,
bonus conversion, who may open a family, and a hold's transfers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from servicekit.chain import register_ledger_mapping
from wallet.adapters.contract_mapping import to_contract
from wallet.application import commands as cmd
from wallet.application.app import WalletApplication
from wallet.domain import holds, spending
from wallet.domain.bonus import BonusYear, convert_bonus
from wallet.domain.errors import (
    BonusLimitExceeded,
    InvalidTransition,
    NotEligible,
    PlanNotActive,
    RequestMismatch,
)
from wallet.domain.family import Family
from wallet.domain.fringe import FringeYear, OverFringeCap
from wallet.domain.plan import Plan
from wallet.domain.wallet import Wallet

NOW = datetime(2025, 6, 1, 10, 0, tzinfo=UTC)
FRINGE = "fringe_purchase"


@pytest.fixture(autouse=True)
def ledger_mapping() -> Iterator[None]:
    """Ledger events hash their public form: the mapping the application registers."""
    register_ledger_mapping(to_contract, *WalletApplication.ledger_aggregates)
    yield


def plan_of(
    year: int = 2025,
    policy: str = "reset",
    categories: tuple[str, ...] = ("services_no_cap", FRINGE),
    employer: str = "acme",
) -> Plan:
    plan = Plan.create(
        employer_id=employer,
        vat_number="06363391001",
        year=year,
        starts_on=date(year, 1, 1),
        ends_on=date(year, 12, 31),
        budget_cents=1_000_000,
        credit_per_employee_cents=50_000,
        categories=list(categories),
        end_policy=policy,  # type: ignore[arg-type]
        today=date(2025, 1, 10),
    )
    plan.enrol({"e1": False})
    return plan


def credited(plan: Plan, employee_id: str = "e1", category: str = "general") -> Wallet:
    wallet = plan.open_wallet(employee_id)
    plan.grant(wallet, None, category)
    return wallet


def terms(amount: int, request_id: str = "r1", **changes: Any) -> cmd.HoldFunds:
    values: dict[str, Any] = {
        "request_id": request_id,
        "provider_id": "coop",
        "category": FRINGE,
        "amount_cents": amount,
        "expires_at": NOW + timedelta(days=2),
        **changes,
    }
    return cmd.HoldFunds(**values)


def hold(wallet: Wallet, fringe: FringeYear, amount: int, **changes: Any) -> Any:
    return spending.hold(
        wallet,
        terms(amount, **changes),
        NOW,
        family_of=lambda: None,
        fringe_of=lambda: fringe,
    )


def fringe_of(wallet: Wallet, cap: int = 100_000) -> FringeYear:
    return FringeYear.open(wallet.employee_id, wallet.year, cap, False)


# --- the end of a plan --------------------------------------------------------------------


def test_a_plan_closes_on_or_after_its_end_date_and_once() -> None:
    plan = plan_of()
    with pytest.raises(InvalidTransition, match="runs until"):
        plan.check_closable(date(2025, 12, 30))
    plan.check_closable(date(2025, 12, 31))
    assert plan.close(None) == 1_000_000
    with pytest.raises(PlanNotActive):
        plan.check_closable(date(2026, 1, 1))


def test_only_a_carry_over_plan_names_a_later_plan_of_its_employer() -> None:
    carry = plan_of(policy="carry_over")
    with pytest.raises(InvalidTransition, match="name the next plan"):
        carry.check_carry_over_to(None)
    with pytest.raises(InvalidTransition, match="resets"):
        plan_of().check_carry_over_to(plan_of(year=2026))
    with pytest.raises(InvalidTransition, match="later plan of the employer"):
        carry.check_carry_over_to(plan_of(year=2026, employer="other"))
    with pytest.raises(InvalidTransition, match="later plan of the employer"):
        carry.check_carry_over_to(plan_of(year=2025))
    plan_of().check_carry_over_to(None)
    carry.check_carry_over_to(plan_of(year=2026))


def test_settling_a_reset_plans_wallet_releases_its_holds_and_returns_the_credit() -> None:
    plan = plan_of()
    wallet = credited(plan)
    fringe = fringe_of(wallet)
    assert isinstance(hold(wallet, fringe, 10_000), UUID)
    assert fringe.total_cents == 10_000
    expired, carried = plan.settle_wallet(wallet, lambda: fringe, None)
    assert (expired, carried) == (50_000, 0)
    assert wallet.closed and wallet.total_cents == 0 and wallet.held_cents == 0
    assert fringe.total_cents == 0
    assert plan.returned_from_wallets_cents == 50_000
    assert plan.close(None) == 1_000_000 - 50_000


def test_settling_a_carry_over_plans_wallet_moves_the_credit_to_the_next_plan() -> None:
    plan = plan_of(policy="carry_over", categories=("services_no_cap", "transport"))
    wallet = credited(plan, category="transport")
    later = plan_of(year=2026, categories=("services_no_cap",))
    target = later.open_wallet("e1")
    expired, carried = plan.settle_wallet(wallet, lambda: pytest.fail("no fringe"), lambda: target)
    assert (expired, carried) == (0, 50_000)
    assert wallet.closed and wallet.carried_out_cents == 50_000
    # transport is not a category of the next plan: the credit arrives as general credit
    assert target.balance("general") == 50_000 and target.carried_in_cents == 50_000
    assert plan.returned_from_wallets_cents == 0


# --- spending across the wallet and the fringe year ---------------------------------------


def test_a_fringe_spend_over_the_cap_is_refused_with_its_figures_unless_confirmed() -> None:
    wallet = credited(plan_of())
    fringe = fringe_of(wallet, cap=30_000)
    hold(wallet, fringe, 20_000)
    refused = hold(wallet, fringe, 15_000, request_id="r2")
    assert isinstance(refused, OverFringeCap)
    assert refused.figures["year_total_cents"] == 35_000 == refused.figures["taxable_cents"]
    assert type(fringe.pending_events[-1]).__name__ == "CapWarning"
    assert wallet.held_cents == 20_000
    hold(wallet, fringe, 15_000, request_id="r2", confirm_taxable=True)
    assert fringe.taxable and fringe.taxable_cents == 35_000 and wallet.held_cents == 35_000


def test_what_a_capture_does_not_take_goes_back_to_the_fringe_year_once() -> None:
    wallet = credited(plan_of())
    fringe = fringe_of(wallet)
    hold_id = hold(wallet, fringe, 10_000)
    assert spending.capture(wallet, hold_id, "c", 6_000, lambda: fringe) == 6_000
    assert spending.capture(wallet, hold_id, "c", 6_000, lambda: fringe) == 6_000  # a repeat
    assert fringe.total_cents == 6_000
    assert spending.refund(wallet, hold_id, "f", 1_000, lambda: fringe) == 1_000
    assert fringe.total_cents == 5_000 and wallet.total_cents == 50_000 - 5_000


def test_a_hold_request_id_reused_for_other_funds_is_refused() -> None:
    wallet = credited(plan_of())
    fringe = fringe_of(wallet)
    first = hold(wallet, fringe, 1_000)
    assert hold(wallet, fringe, 1_000) == first
    with pytest.raises(RequestMismatch):
        hold(wallet, fringe, 2_000)


def test_expired_holds_give_their_fringe_amount_back() -> None:
    wallet = credited(plan_of())
    fringe = fringe_of(wallet)
    hold(wallet, fringe, 4_000)
    assert spending.expire_holds(wallet, NOW + timedelta(days=3), lambda: fringe) == 4_000
    assert fringe.total_cents == 0 and wallet.held_cents == 0


def test_a_holds_money_goes_back_to_general_credit_first() -> None:
    hold_id = uuid4()
    funded = holds.funding(hold_id, "wallet:p:e:transport", 300, "wallet:p:e:general", 1_000)
    assert [(t["from_account"], t["amount_cents"]) for t in funded] == [
        ("wallet:p:e:transport", 300),
        ("wallet:p:e:general", 700),
    ]
    sources = [[t["from_account"], t["amount_cents"]] for t in funded]
    back = holds.give_back(hold_id, 800, sources)
    assert [(t["to_account"], t["amount_cents"]) for t in back] == [
        ("wallet:p:e:general", 700),
        ("wallet:p:e:transport", 100),
    ]


# --- bonus conversion and families ---------------------------------------------------------


def test_a_bonus_converts_once_per_request_and_never_over_the_yearly_limit() -> None:
    plan = plan_of()
    plan.allow_bonus_conversion(100_000)
    wallet = credited(plan)
    year = BonusYear.open("e1", 2025, 100_000)
    assert convert_bonus(plan, wallet, year, "hr-1", 60_000, date(2025, 6, 1))
    assert not convert_bonus(plan, wallet, year, "hr-1", 60_000, date(2025, 6, 1))
    with pytest.raises(RequestMismatch):
        convert_bonus(plan, wallet, year, "hr-1", 1_000, date(2025, 6, 1))
    with pytest.raises(BonusLimitExceeded):
        convert_bonus(plan, wallet, year, "hr-2", 50_000, date(2025, 6, 1))
    assert year.converted_cents == 60_000 and wallet.balance("general") == 110_000


def test_only_an_employee_with_a_wallet_opens_a_family() -> None:
    with pytest.raises(NotEligible):
        Family.open_for("e1", has_wallet=False)
    assert Family.open_for("e1", has_wallet=True).employee_id == "e1"
