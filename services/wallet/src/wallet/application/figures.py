"""The money figures the service reports (and the auditor's independent tally must match)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from wallet.domain.fringe import FringeYear
from wallet.domain.plan import Plan
from wallet.domain.wallet import Wallet


@dataclass(frozen=True)
class PlanFigures:
    """The employer's statement of a plan."""

    plan_id: str
    employer_id: str
    year: int
    budget_cents: int
    loaded_cents: int
    carried_in_cents: int
    bonus_converted_cents: int | None
    """Productivity bonus converted into the plan's wallets (None: the plan does not allow it).
    Credit came in as loaded + carried in + converted; it went out as spent + held + left +
    expired + carried over."""
    spent_by_category: dict[str, int]
    spent_cents: int
    held_cents: int
    left_cents: int
    expired_cents: int
    carried_over_cents: int
    unallocated_cents: int
    returned_to_employer_cents: int
    employees: int
    closed: bool

    @classmethod
    def of(cls, plan: Plan, wallets: Sequence[Wallet]) -> PlanFigures:
        spent: dict[str, int] = {}
        for w in wallets:
            for category, cents in w.spent_by_category.items():
                spent[category] = spent.get(category, 0) + cents
        return cls(
            plan_id=str(plan.id),
            employer_id=plan.employer_id,
            year=plan.year,
            budget_cents=plan.budget_cents,
            loaded_cents=plan.allocated_cents,
            carried_in_cents=sum(w.carried_in_cents for w in wallets),
            bonus_converted_cents=plan.bonus_converted_cents if plan.bonus_conversion else None,
            spent_by_category=dict(sorted(spent.items())),
            spent_cents=sum(spent.values()),
            held_cents=sum(w.held_cents for w in wallets),
            left_cents=sum(w.total_cents for w in wallets),
            expired_cents=sum(w.expired_cents for w in wallets),
            carried_over_cents=sum(w.carried_out_cents for w in wallets),
            unallocated_cents=plan.funding_cents,
            returned_to_employer_cents=plan.balances.get(f"plan:{plan.id}:returned", 0),
            employees=len(plan.employees),
            closed=plan.closed,
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class PayrollLine:
    """The taxable fringe benefits of one employee in one year (for the payslip and the
    employee's own statement): the year's whole fringe total when it is over the cap, nothing
    when it is at the cap or below (the rule the auditor's tally applies too)."""

    employee_id: str
    year: int
    cap_cents: int
    fringe_cents: int
    taxable: bool
    taxable_cents: int

    @classmethod
    def of(cls, fringe: FringeYear) -> PayrollLine:
        total = fringe.total_cents
        taxable = fringe.taxable_for(total)
        return cls(
            employee_id=fringe.employee_id,
            year=fringe.year,
            cap_cents=fringe.cap_cents,
            fringe_cents=total,
            taxable=taxable,
            taxable_cents=total if taxable else 0,
        )
