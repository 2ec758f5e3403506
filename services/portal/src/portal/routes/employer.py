"""Pages of the employer (HR): the company's welfare plans with their figures, the bulk load of
employees from a CSV file (each refused row shown by its line and reason, a file sent twice
reported as already loaded: the wallet service judges the file, the page shows its report) and
the plans' reports with their charts. Every call goes to the wallet service with the
employer's own token."""

from __future__ import annotations

import asyncio
import re
from typing import Annotated, Any

from babel.numbers import format_currency
from fastapi import APIRouter, File, Form, Request, Response, UploadFile

from portal import charts
from portal.access import signed_in
from portal.clients import employer as wallet_api
from portal.clients.base import Problem
from portal.labels import CATEGORY_LABELS, N_
from portal.rendering import language_of, render
from portal.security import check_csrf

router = APIRouter()

LOAD_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")  # as the wallet accepts it
PLAN_ID = r"^[0-9a-fA-F-]{36}$"

END_POLICIES = {
    "carry_over": N_("Credit left carries over to next year"),
    "reset": N_("Credit left expires at the end of the year"),
}


def _money(request: Request) -> Any:
    language = language_of(request)
    return lambda cents: format_currency(cents / 100, "EUR", locale=language)


def _translate(request: Request) -> Any:
    from portal.i18n import translations

    return translations(language_of(request)).gettext


@router.get("/employer/plans", include_in_schema=False)
async def plans(request: Request) -> Response:
    session = signed_in(request, "employer")
    wallet = request.app.state.services.wallet
    found = await wallet_api.plans(wallet, session.token)
    return render(request, "employer/plans.html", {"plans": found, "end_policies": END_POLICIES})


async def _plan_page(
    request: Request,
    plan_id: str,
    *,
    report: dict[str, Any] | None = None,
    problem: Problem | None = None,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    session = signed_in(request, "employer")
    wallet = request.app.state.services.wallet
    found, statement = await asyncio.gather(
        wallet_api.plan(wallet, session.token, plan_id),
        wallet_api.plan_report(wallet, session.token, plan_id),
    )
    context = {
        "plan": found,
        "loads": statement.get("loads", []),
        "report": report,
        "problem": problem,
        "errors": errors or {},
        "form": form or {},
        "end_policies": END_POLICIES,
    }
    return render(request, "employer/plan.html", context, status=status)


@router.get("/employer/plans/{plan_id}", include_in_schema=False)
async def plan(request: Request, plan_id: str) -> Response:
    signed_in(request, "employer")
    if not re.match(PLAN_ID, plan_id):
        return render(request, "error.html", {"problem": "not_found"}, status=404)
    return await _plan_page(request, plan_id)


@router.post("/employer/plans/{plan_id}/employees", include_in_schema=False)
async def load_employees(
    request: Request,
    plan_id: str,
    csrf_token: Annotated[str | None, Form()] = None,
    load_id: Annotated[str, Form(max_length=200)] = "",
    employees_file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    check_csrf(request, csrf_token)
    session = signed_in(request, "employer")
    if not re.match(PLAN_ID, plan_id):
        return render(request, "error.html", {"problem": "not_found"}, status=404)
    load_id = load_id.strip()
    errors: dict[str, str] = {}
    content = b""
    if employees_file is not None:
        content = await employees_file.read(wallet_api.CSV_LIMIT_BYTES + 1)
    if not content:
        errors["employees_file"] = N_("Choose the CSV file of the employees to load.")
    elif len(content) > wallet_api.CSV_LIMIT_BYTES:
        errors["employees_file"] = N_("The file is larger than 5 MB: split it into smaller files.")
    if load_id and not LOAD_ID.match(load_id):
        errors["load_id"] = N_(
            "Use letters, digits and . _ : - only (at most 64), for example payroll-2026-03."
        )
    form = {"load_id": load_id}
    if errors:
        return await _plan_page(request, plan_id, errors=errors, form=form, status=422)
    wallet = request.app.state.services.wallet
    try:
        report = await wallet_api.load_employees(
            wallet, session.token, plan_id, content, load_id or None
        )
    except Problem as problem:
        if problem.status in (403, 404):
            raise
        return await _plan_page(request, plan_id, problem=problem, form=form, status=422)
    return await _plan_page(request, plan_id, report=report)


# --- reports -------------------------------------------------------------------------------


def _plan_charts(request: Request, statement: dict[str, Any]) -> dict[str, Any]:
    _ = _translate(request)
    money = _money(request)
    plan_id = str(statement.get("plan_id", ""))
    use = [
        charts.Bar(_("Budget"), int(statement.get("budget_cents") or 0)),
        charts.Bar(_("Loaded into wallets"), int(statement.get("loaded_cents") or 0)),
        charts.Bar(_("Spent"), int(statement.get("spent_cents") or 0)),
        charts.Bar(_("Held for bookings"), int(statement.get("held_cents") or 0)),
        charts.Bar(_("Left in wallets"), int(statement.get("left_cents") or 0)),
        charts.Bar(_("Not yet allocated"), int(statement.get("unallocated_cents") or 0)),
    ]
    spent = [
        charts.Bar(_(CATEGORY_LABELS.get(code, code)), int(cents))
        for code, cents in (statement.get("spent_by_category") or {}).items()
    ]
    return {
        "use": charts.bar_chart(
            [charts.Group("", use)],
            title=_("Use of the plan's budget"),
            description=_("Bar chart; the figures are in the table that follows."),
            value_text=money,
            chart_id=f"use-{plan_id}",
        ),
        "spent": charts.bar_chart(
            [charts.Group("", spent)],
            title=_("Credit spent by category"),
            description=_("Bar chart; the figures are in the table that follows."),
            value_text=money,
            chart_id=f"spent-{plan_id}",
        )
        if spent
        else None,
    }


@router.get("/employer/reports", include_in_schema=False)
async def reports(request: Request) -> Response:
    session = signed_in(request, "employer")
    wallet = request.app.state.services.wallet
    found = await wallet_api.plans(wallet, session.token)
    statements = await asyncio.gather(
        *(wallet_api.plan_report(wallet, session.token, str(p["plan_id"])) for p in found)
    )
    years = sorted({int(p["year"]) for p in found}, reverse=True)
    payrolls = await asyncio.gather(*(wallet_api.payroll(wallet, session.token, y) for y in years))
    rows = [
        {"plan": p, "statement": s, "charts": _plan_charts(request, s)}
        for p, s in zip(found, statements, strict=True)
    ]
    context = {
        "rows": rows,
        "payrolls": list(zip(years, payrolls, strict=True)),
        "category_labels": CATEGORY_LABELS,
    }
    return render(request, "employer/reports.html", context)
