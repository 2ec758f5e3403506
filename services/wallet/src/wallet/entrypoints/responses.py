"""The wallet API's response bodies: plans, wallets with their holds, families, bulk-load
reports, and how each is made from an aggregate."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field

from wallet.domain.family import Family
from wallet.domain.plan import Plan
from wallet.domain.wallet import Wallet


class PlanView(BaseModel):
    plan_id: UUID
    employer_id: str
    vat_number: str
    year: int
    starts_on: date
    ends_on: date
    budget_cents: int
    credit_per_employee_cents: int
    categories: list[str]
    end_policy: str
    employees: int
    unallocated_cents: int
    bonus_conversion: bool = Field(
        description="Employees may convert their productivity bonus into this plan's credit"
    )
    bonus_converted_cents: int
    closed: bool


def plan_view(plan: Plan) -> PlanView:
    return PlanView(
        plan_id=plan.id,
        employer_id=plan.employer_id,
        vat_number=plan.vat_number,
        year=plan.year,
        starts_on=plan.starts_on,
        ends_on=plan.ends_on,
        budget_cents=plan.budget_cents,
        credit_per_employee_cents=plan.credit_per_employee_cents,
        categories=plan.categories,
        end_policy=plan.end_policy,
        employees=len(plan.employees),
        unallocated_cents=plan.funding_cents,
        bonus_conversion=plan.bonus_conversion,
        bonus_converted_cents=plan.bonus_converted_cents,
        closed=plan.closed,
    )


class HoldView(BaseModel):
    hold_id: UUID
    status: str
    provider_id: str
    category: str
    amount_cents: int
    captured_cents: int
    refunded_cents: int
    expires_at: datetime
    member_id: str | None = Field(description="The family member it is for (None: employee)")
    delegate_id: str | None = Field(description="The delegate who held it (None: not one)")


class WalletView(BaseModel):
    wallet_id: UUID
    plan_id: UUID
    employee_id: str
    year: int
    expires_on: date
    balance_by_category: dict[str, int] = Field(description="Credit per account (general = any)")
    available_by_category: dict[str, int] = Field(description="What a spend in each can use")
    held_cents: int
    total_cents: int
    bonus_converted_cents: int
    holds: list[HoldView]
    closed: bool


def wallet_view(w: Wallet) -> WalletView:
    return WalletView(
        wallet_id=w.id,
        plan_id=w.plan_id,
        employee_id=w.employee_id,
        year=w.year,
        expires_on=w.expires_on,
        balance_by_category={
            a.rsplit(":", 1)[1]: b for a, b in sorted(w.balances.items()) if a.startswith("wallet:")
        },
        available_by_category={c: w.available_for(c) for c in w.categories},
        held_cents=w.held_cents,
        total_cents=w.total_cents,
        bonus_converted_cents=w.bonus_converted_cents,
        holds=[
            HoldView(
                hold_id=UUID(hold_id),
                status=h["status"],
                provider_id=h["provider_id"],
                category=h["category"],
                amount_cents=h["amount"],
                captured_cents=h["captured"],
                refunded_cents=h["refunded"],
                expires_at=datetime.fromisoformat(h["expires_at"]),
                member_id=h.get("member_id"),
                delegate_id=h.get("delegate_id"),
            )
            for hold_id, h in w.holds.items()
        ],
        closed=w.closed,
    )


class HoldResult(BaseModel):
    hold_id: UUID
    wallet: WalletView


class AmountResult(BaseModel):
    amount_cents: int
    wallet: WalletView


class FamilyMemberView(BaseModel):
    member_id: str
    relationship: str


class FamilyView(BaseModel):
    employee_id: str
    members: list[FamilyMemberView]
    delegate_id: str | None = Field(description="Who may hold and spend besides the employee")


def family_view(employee_id: str, f: Family | None) -> FamilyView:
    if f is None:
        return FamilyView(employee_id=employee_id, members=[], delegate_id=None)
    return FamilyView(
        employee_id=f.employee_id,
        members=[
            FamilyMemberView(member_id=m, relationship=r) for m, r in sorted(f.members.items())
        ],
        delegate_id=f.delegate_id,
    )


class BonusConversionResult(BaseModel):
    wallet_id: UUID
    amount_cents: int
    year: int
    converted_this_year_cents: int = Field(description="The employee's total for the year")
    yearly_limit_cents: int = Field(description="What may be converted tax-free in the year")
    wallet: WalletView


class CsvReport(BaseModel):
    loaded: list[dict[str, Any]]
    rejected: list[dict[str, Any]] = Field(description="Each refused row: line and reason")
    loaded_cents: int
    sha256: str = Field(description="The file's SHA-256: the load's idempotency key")
    load_id: str | None = Field(description="The client's load id, if it gave one")
    loaded_at: datetime | None
    encoding: str = Field(description="utf-8, or cp1252 (Windows-1252) when not UTF-8")
    already_loaded: bool = Field(
        description="True: this file was loaded before; this is that load's report and "
        "nothing was credited now"
    )
    notes: list[str]
