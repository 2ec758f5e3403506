"""The wallet's reports: an employer's statement of a plan, the payroll's taxable fringe
benefits, an employee's own fringe statement, what was captured for a provider."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Depends
from servicekit.auth import Principal, require_roles

from wallet.application import views
from wallet.application.app import WalletApplication
from wallet.application.figures import PayrollLine, PlanFigures
from wallet.entrypoints.access import READERS, may_read_plan, me, page_of, wallet_app

router = APIRouter(tags=["reports"])


@router.get(
    "/plans/{plan_id}/report",
    summary="Employer's statement of a plan, with its bulk loads (key, time, rows, credit)",
)
def plan_report(
    plan_id: UUID,
    app: WalletApplication = Depends(wallet_app),
    principal: Principal = Depends(require_roles("employer", *READERS)),
) -> dict[str, Any]:
    may_read_plan(app.get_plan(plan_id), principal)
    figures: PlanFigures = app.plan_figures(plan_id)
    return {**figures.as_dict(), "loads": views.loads_of(app.fresh_read_model(), plan_id)}


@router.get("/payroll/{year}", summary="Taxable fringe benefits per employee (payroll)")
def payroll(
    year: int,
    app: WalletApplication = Depends(wallet_app),
    principal: Principal = Depends(require_roles("employer", *READERS)),
) -> list[dict[str, Any]]:
    lines: list[PayrollLine] = app.payroll(principal.subject_id, year)
    return [line.__dict__ for line in lines]


@router.get(
    "/me/fringe/{year}",
    summary="The caller's fringe benefits of a year and the taxable amount (as on the payroll)",
)
def my_fringe(
    year: int,
    app: WalletApplication = Depends(wallet_app),
    principal: Principal = Depends(require_roles("beneficiary")),
) -> dict[str, Any]:
    line = app.fringe_statement(me(principal), year)
    if line is None:
        return {
            "employee_id": me(principal),
            "year": year,
            "cap_cents": None,
            "fringe_cents": 0,
            "taxable": False,
            "taxable_cents": 0,
        }
    return line.__dict__


@router.get("/providers/{provider_id}/captures", summary="What was captured for a provider")
def provider_captures(
    provider_id: str,
    page: views.Page = Depends(page_of),
    app: WalletApplication = Depends(wallet_app),
    principal: Principal = Depends(require_roles("provider", *READERS)),
) -> list[dict[str, Any]]:
    principal.require_subject("provider", provider_id, exempt_roles=READERS)
    return views.captures_for(app.fresh_read_model(), provider_id, page)
