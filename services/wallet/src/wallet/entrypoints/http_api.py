"""The wallet service's HTTP API. Employers manage and read only their own plans; an employee
(``beneficiary:<id>``) sees and spends only their own wallets, names their family members and
their delegate; the delegate (another beneficiary) sees and spends the employee's wallets with
their own token until revoked; a provider sees what was captured for it; the auditor (and the
territory's operator) read everything. The booking saga's hold, capture and release calls use
an operator token."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Body, Depends, HTTPException, Query, Request, status
from fastapi import Path as PathParam
from servicekit.auth import Principal, require_roles

from wallet.application import commands as cmd
from wallet.application import views
from wallet.application.app import WalletApplication
from wallet.application.csv_loading import CsvError
from wallet.entrypoints import audit_figures, reports
from wallet.entrypoints.access import (
    READERS,
    may_read_plan,
    may_read_wallet,
    may_spend,
    me,
    own_plan,
    page_of,
    wallet_app,
    wallet_views,
)
from wallet.entrypoints.responses import (
    AmountResult,
    BonusConversionResult,
    CsvReport,
    FamilyView,
    HoldResult,
    PlanView,
    WalletView,
    family_view,
    plan_view,
    wallet_view,
)

plans = APIRouter(tags=["plans"])
wallets = APIRouter(tags=["wallets"])
family = APIRouter(tags=["family"])


def routers() -> list[APIRouter]:
    return [plans, wallets, family, reports.router, audit_figures.router]


# --- plans (employers) ------------------------------------------------------------------------


@plans.post("/plans", status_code=status.HTTP_201_CREATED, summary="Create and fund a plan")
def create_plan(
    command: cmd.CreatePlan,
    app: WalletApplication = Depends(wallet_app),
    principal: Principal = Depends(require_roles("employer")),
) -> PlanView:
    assert principal.subject_id is not None
    return plan_view(app.get_plan(app.create_plan(principal.subject_id, command)))


@plans.get("/plans", summary="Plans: an employer's own, or all for the auditor")
def list_plans(
    page: views.Page = Depends(page_of),
    app: WalletApplication = Depends(wallet_app),
    principal: Principal = Depends(require_roles("employer", *READERS)),
) -> list[PlanView]:
    plan_ids = views.plans_of(app.fresh_read_model(), principal.subject_id, page)
    return [plan_view(app.get_plan(plan_id)) for plan_id in plan_ids]


@plans.get("/plans/{plan_id}", summary="A plan")
def get_plan(
    plan_id: UUID,
    app: WalletApplication = Depends(wallet_app),
    principal: Principal = Depends(require_roles("employer", *READERS)),
) -> PlanView:
    plan = app.get_plan(plan_id)
    may_read_plan(plan, principal)
    return plan_view(plan)


@plans.post("/plans/{plan_id}/employees", summary="Enrol eligible employees")
def enrol(
    plan_id: UUID,
    command: cmd.Enrol,
    app: WalletApplication = Depends(wallet_app),
    principal: Principal = Depends(require_roles("employer")),
) -> PlanView:
    own_plan(app, plan_id, principal)
    app.enrol(plan_id, command)
    return plan_view(app.get_plan(plan_id))


@plans.post("/plans/{plan_id}/grants", summary="Load credit into an employee's wallet")
def grant(
    plan_id: UUID,
    command: cmd.Grant,
    app: WalletApplication = Depends(wallet_app),
    principal: Principal = Depends(require_roles("employer")),
) -> WalletView:
    own_plan(app, plan_id, principal)
    return wallet_view(app.get_wallet(app.grant(plan_id, command)))


@plans.post(
    "/plans/{plan_id}/employees.csv",
    summary="Bulk-load employees and credit from a CSV (per-row report; the same file loads once)",
    openapi_extra={"requestBody": {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
async def load_csv(
    plan_id: UUID,
    request: Request,
    load_id: Annotated[
        str | None,
        Query(
            pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$",
            description="The client's own id of this load (e.g. payroll-2026-03): a new file "
            "under an id already used is refused",
        ),
    ] = None,
    app: WalletApplication = Depends(wallet_app),
    principal: Principal = Depends(require_roles("employer")),
) -> CsvReport:
    own_plan(app, plan_id, principal)
    body = await request.body()
    if len(body) > 5_000_000:
        raise HTTPException(status_code=413, detail="at most 5 MB per file")
    try:
        report = app.load_csv(plan_id, body, load_id)
    except CsvError as error:
        raise HTTPException(status_code=422, detail=str(error)) from None
    return CsvReport(
        loaded=report.loaded,
        rejected=report.rejected,
        loaded_cents=report.loaded_cents,
        sha256=report.sha256,
        load_id=report.load_id,
        loaded_at=report.loaded_at,
        encoding=report.encoding,
        already_loaded=report.already_loaded,
        notes=report.notes,
    )


@plans.post("/plans/{plan_id}/close", summary="End a plan: expire or carry over its credit")
def close_plan(
    plan_id: UUID,
    command: cmd.ClosePlan = Body(default_factory=cmd.ClosePlan),
    app: WalletApplication = Depends(wallet_app),
    principal: Principal = Depends(require_roles("employer", "operator")),
) -> dict[str, int]:
    plan = app.get_plan(plan_id)
    principal.require_subject("employer", plan.employer_id, exempt_roles=("operator",))
    return app.close_plan(plan_id, command)


@plans.put(
    "/plans/{plan_id}/bonus-conversion",
    summary="Allow employees to convert their productivity bonus into credit of the plan",
)
def allow_bonus_conversion(
    plan_id: UUID,
    app: WalletApplication = Depends(wallet_app),
    principal: Principal = Depends(require_roles("employer")),
) -> PlanView:
    own_plan(app, plan_id, principal)
    app.allow_bonus_conversion(plan_id)
    return plan_view(app.get_plan(plan_id))


@plans.post(
    "/plans/{plan_id}/bonus-conversions",
    status_code=status.HTTP_201_CREATED,
    summary="Convert an employee's productivity bonus into credit (premio di risultato; "
    "idempotent by request id)",
)
def convert_bonus(
    plan_id: UUID,
    command: cmd.ConvertBonus,
    app: WalletApplication = Depends(wallet_app),
    principal: Principal = Depends(require_roles("employer")),
) -> BonusConversionResult:
    own_plan(app, plan_id, principal)
    done = app.convert_bonus(plan_id, command)
    return BonusConversionResult(
        wallet_id=done.wallet_id,
        amount_cents=done.amount_cents,
        year=done.year,
        converted_this_year_cents=done.converted_this_year_cents,
        yearly_limit_cents=done.yearly_limit_cents,
        wallet=wallet_view(app.get_wallet(done.wallet_id)),
    )


@plans.get("/plans/{plan_id}/wallets", summary="The wallets of a plan")
def plan_wallets(
    plan_id: UUID,
    page: views.Page = Depends(page_of),
    app: WalletApplication = Depends(wallet_app),
    principal: Principal = Depends(require_roles("employer", *READERS)),
) -> list[WalletView]:
    may_read_plan(app.get_plan(plan_id), principal)
    return wallet_views(app, views.wallets_of_plan(app.fresh_read_model(), plan_id, page))


# --- wallets (employees, the booking saga) ----------------------------------------------------


@wallets.get("/me/wallets", summary="The caller's own wallets")
def my_wallets(
    page: views.Page = Depends(page_of),
    app: WalletApplication = Depends(wallet_app),
    principal: Principal = Depends(require_roles("beneficiary")),
) -> list[WalletView]:
    assert principal.subject_id is not None
    ids = views.wallets_of_employee(app.fresh_read_model(), principal.subject_id, page)
    return wallet_views(app, ids)


@wallets.get(
    "/me/delegated-wallets", summary="The wallets of the employees who named the caller delegate"
)
def delegated_wallets(
    page: views.Page = Depends(page_of),
    app: WalletApplication = Depends(wallet_app),
    principal: Principal = Depends(require_roles("beneficiary")),
) -> list[WalletView]:
    assert principal.subject_id is not None
    ids = views.wallets_delegated_to(app.fresh_read_model(), principal.subject_id, page)
    return wallet_views(app, ids)


@wallets.get("/wallets/{wallet_id}", summary="Balance and available amount per category")
def get_wallet(
    wallet_id: UUID,
    app: WalletApplication = Depends(wallet_app),
    principal: Principal = Depends(require_roles("beneficiary", "employer", *READERS)),
) -> WalletView:
    w = app.get_wallet(wallet_id)
    may_read_wallet(app, w, principal)
    return wallet_view(w)


@wallets.get(
    "/wallets/{wallet_id}/history",
    summary="Movements with the running balance (credit + open holds) and what is available",
)
def history(
    wallet_id: UUID,
    page: views.Page = Depends(page_of),
    app: WalletApplication = Depends(wallet_app),
    principal: Principal = Depends(require_roles("beneficiary", "employer", *READERS)),
) -> list[dict[str, Any]]:
    may_read_wallet(app, app.get_wallet(wallet_id), principal)
    return views.history(app.fresh_read_model(), wallet_id, page)


@wallets.post(
    "/wallets/{wallet_id}/holds",
    status_code=status.HTTP_201_CREATED,
    summary="Reserve money for a pending booking (idempotent by request id)",
)
def hold(
    wallet_id: UUID,
    command: cmd.HoldFunds,
    app: WalletApplication = Depends(wallet_app),
    principal: Principal = Depends(require_roles("beneficiary", "operator")),
) -> HoldResult:
    delegate_id = may_spend(app, app.get_wallet(wallet_id), principal)
    hold_id = app.hold(wallet_id, command, delegate_id=delegate_id)
    return HoldResult(hold_id=hold_id, wallet=wallet_view(app.get_wallet(wallet_id)))


@wallets.post("/wallets/{wallet_id}/spend", status_code=201, summary="Pay a provider now")
def spend(
    wallet_id: UUID,
    command: cmd.Spend,
    app: WalletApplication = Depends(wallet_app),
    principal: Principal = Depends(require_roles("beneficiary")),
) -> HoldResult:
    delegate_id = may_spend(app, app.get_wallet(wallet_id), principal)
    hold_id = app.spend(wallet_id, command, delegate_id=delegate_id)
    return HoldResult(hold_id=hold_id, wallet=wallet_view(app.get_wallet(wallet_id)))


@wallets.post("/wallets/{wallet_id}/holds/{hold_id}/capture", summary="Capture all or part")
def capture(
    wallet_id: UUID,
    hold_id: UUID,
    command: cmd.Capture,
    app: WalletApplication = Depends(wallet_app),
    principal: Principal = Depends(require_roles("beneficiary", "operator")),
) -> AmountResult:
    may_spend(app, app.get_wallet(wallet_id), principal)
    amount = app.capture(wallet_id, hold_id, command)
    return AmountResult(amount_cents=amount, wallet=wallet_view(app.get_wallet(wallet_id)))


@wallets.post("/wallets/{wallet_id}/holds/{hold_id}/release", summary="Cancel a hold")
def release(
    wallet_id: UUID,
    hold_id: UUID,
    command: cmd.Release,
    app: WalletApplication = Depends(wallet_app),
    principal: Principal = Depends(require_roles("beneficiary", "operator")),
) -> AmountResult:
    may_spend(app, app.get_wallet(wallet_id), principal)
    amount = app.release(wallet_id, hold_id, command)
    return AmountResult(amount_cents=amount, wallet=wallet_view(app.get_wallet(wallet_id)))


@wallets.post("/wallets/{wallet_id}/holds/{hold_id}/refund", summary="Refund after capture")
def refund(
    wallet_id: UUID,
    hold_id: UUID,
    command: cmd.Refund,
    app: WalletApplication = Depends(wallet_app),
    principal: Principal = Depends(require_roles("provider", "operator")),
) -> AmountResult:
    w = app.get_wallet(wallet_id)
    if principal.role == "provider":
        principal.require_subject("provider", w.get_hold(hold_id)["provider_id"])
    amount = app.refund(wallet_id, hold_id, command)
    return AmountResult(amount_cents=amount, wallet=wallet_view(app.get_wallet(wallet_id)))


# --- family members and the delegate (the employee) ------------------------------------------


@family.get("/me/family", summary="The caller's family members and delegate")
def my_family(
    app: WalletApplication = Depends(wallet_app),
    principal: Principal = Depends(require_roles("beneficiary")),
) -> FamilyView:
    return family_view(me(principal), app.get_family(me(principal)))


@family.put(
    "/me/family/members/{member_id}",
    summary="Name a family member who may benefit from the credit (pseudonymous id only)",
)
def name_family_member(
    member_id: Annotated[str, PathParam(pattern=cmd.MEMBER_ID_PATTERN)],
    command: cmd.NameFamilyMember,
    app: WalletApplication = Depends(wallet_app),
    principal: Principal = Depends(require_roles("beneficiary")),
) -> FamilyView:
    return family_view(me(principal), app.name_family_member(me(principal), member_id, command))


@family.delete("/me/family/members/{member_id}", summary="Remove a family member")
def remove_family_member(
    member_id: str,
    app: WalletApplication = Depends(wallet_app),
    principal: Principal = Depends(require_roles("beneficiary")),
) -> FamilyView:
    return family_view(me(principal), app.remove_family_member(me(principal), member_id))


@family.put("/me/delegate", summary="Name the delegate who may hold and spend (replaces any other)")
def name_delegate(
    command: cmd.NameDelegate,
    app: WalletApplication = Depends(wallet_app),
    principal: Principal = Depends(require_roles("beneficiary")),
) -> FamilyView:
    return family_view(me(principal), app.name_delegate(me(principal), command))


@family.delete("/me/delegate", summary="Revoke the delegate")
def revoke_delegate(
    app: WalletApplication = Depends(wallet_app),
    principal: Principal = Depends(require_roles("beneficiary")),
) -> FamilyView:
    return family_view(me(principal), app.revoke_delegate(me(principal)))
