"""Rounds: calls for applications with their rules and budget; the ranking, issuance and
expiry of a round's vouchers."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from fastapi import APIRouter, Depends, Query, status
from pydantic import BaseModel
from servicekit.auth import ROLES, Principal, require_roles

from vouchers.application import views
from vouchers.application.app import VouchersApplication
from vouchers.application.commands import EntitlementRulesInput, OpenRound
from vouchers.domain.household_application import Status
from vouchers.domain.round import Round, RoundKind
from vouchers.entrypoints.deps import READERS, clear_errors, parse_id, vouchers_app
from vouchers.entrypoints.views import ApplicationView, application_view

router = APIRouter(tags=["rounds"], dependencies=[Depends(clear_errors)])


class RoundCreated(BaseModel):
    round_id: UUID


class RoundView(BaseModel):
    round_id: UUID
    fund_id: UUID
    municipality_istat: str
    title: str
    opens_at: datetime
    closes_at: datetime
    closed: bool
    accepting_applications: bool
    budget_cents: int
    issued_cents: int
    returned_cents: int
    available_cents: int
    rules: EntitlementRulesInput
    denominations_cents: list[int]
    validity_days: int
    excluded_categories: list[str]
    kind: RoundKind
    service_categories: list[str]
    households_served: int
    vouchers_issued: int


class Issuance(BaseModel):
    served: int
    waitlisted: int


class Returned(BaseModel):
    returned_cents: int


class RankedApplication(BaseModel):
    position: int
    application_id: UUID
    household_id: UUID
    status: Status
    priority: int
    isee_cents: int
    entitlement_cents: int
    submitted_at: datetime


def round_view(round_: Round) -> RoundView:
    now = datetime.now(UTC)
    return RoundView(
        round_id=round_.id,
        fund_id=round_.fund_id,
        municipality_istat=round_.municipality_istat,
        title=round_.title,
        opens_at=round_.opens_at,
        closes_at=round_.closes_at,
        closed=round_.closed,
        accepting_applications=not round_.closed and round_.opens_at <= now < round_.closes_at,
        budget_cents=round_.budget_cents,
        issued_cents=round_.issued_cents,
        returned_cents=round_.returned_cents,
        available_cents=round_.available_cents,
        rules=EntitlementRulesInput.model_validate(round_.rules),
        denominations_cents=round_.denominations_cents,
        validity_days=round_.validity_days,
        excluded_categories=round_.excluded_categories,
        kind=round_.kind,
        service_categories=list(round_.service_categories),
        households_served=round_.households_served,
        vouchers_issued=round_.vouchers_issued,
    )


@router.post("/rounds", status_code=status.HTTP_201_CREATED, summary="Open a round on a fund")
def open_round(
    command: OpenRound,
    app: VouchersApplication = Depends(vouchers_app),
    _: Principal = Depends(require_roles("operator")),
) -> RoundCreated:
    parse_id(command.fund_id, "fund_id")
    return RoundCreated(round_id=app.open_round(command))


@router.get("/rounds", summary="Rounds, newest last (any signed-in role)")
def list_rounds(
    municipality_istat: str | None = None,
    accepting_applications: bool | None = None,
    app: VouchersApplication = Depends(vouchers_app),
    _: Principal = Depends(require_roles(*ROLES)),
) -> list[RoundView]:
    ids = views.round_ids_by_opening(app.fresh_read_model(), municipality_istat)
    found = [round_view(app.get_round(round_id)) for round_id in ids]
    return [v for v in found if accepting_applications in (None, v.accepting_applications)]


@router.get("/rounds/{round_id}", summary="A round: rules, dates, budget (any signed-in role)")
def get_round(
    round_id: UUID,
    app: VouchersApplication = Depends(vouchers_app),
    _: Principal = Depends(require_roles(*ROLES)),
) -> RoundView:
    return round_view(app.get_round(round_id))


@router.post("/rounds/{round_id}/close", summary="Stop taking applications")
def close_round(
    round_id: UUID,
    app: VouchersApplication = Depends(vouchers_app),
    _: Principal = Depends(require_roles("operator")),
) -> RoundView:
    app.close_round(round_id)
    return round_view(app.get_round(round_id))


@router.post(
    "/rounds/{round_id}/issue",
    summary="Issue vouchers down the ranking while the budget lasts; waitlist the rest",
)
def issue_vouchers(
    round_id: UUID,
    app: VouchersApplication = Depends(vouchers_app),
    # The municipality's social worker, who reviewed the applications, issues too (issue 18).
    _: Principal = Depends(require_roles("operator", "social_worker")),
) -> Issuance:
    app.get_round(round_id)  # 404 for an unknown round, not an empty issuance
    return Issuance.model_validate(app.issue_vouchers(round_id))


@router.post(
    "/rounds/{round_id}/expire",
    summary="Expire vouchers past their date; their unspent value returns to the round",
)
def expire_vouchers(
    round_id: UUID,
    app: VouchersApplication = Depends(vouchers_app),
    _: Principal = Depends(require_roles("operator")),
) -> Returned:
    return Returned(returned_cents=app.expire_vouchers(round_id))


@router.get(
    "/rounds/{round_id}/applications",
    summary="A round's applications (personal data for social workers only)",
)
def applications_in_round(
    round_id: UUID,
    status_is: Status | None = Query(None, alias="status", description="Only this status"),
    limit: int = Query(100, ge=1, le=1000, description="At most this many, in submission order"),
    offset: int = Query(0, ge=0, le=10_000_000, description="Skip this many first (the next page)"),
    app: VouchersApplication = Depends(vouchers_app),
    principal: Principal = Depends(require_roles(*READERS)),
) -> list[ApplicationView]:
    app.get_round(round_id)
    with_personal_data = principal.role == "social_worker"
    rows = views.applications_in_round(
        app.fresh_read_model(), round_id, status_is, limit=limit, offset=offset
    )
    return [application_view(app, a, with_personal_data=with_personal_data) for a in rows]


@router.get(
    "/rounds/{round_id}/ranking",
    summary="Approved and waitlisted applications in the order they are served",
)
def ranking(
    round_id: UUID,
    app: VouchersApplication = Depends(vouchers_app),
    _: Principal = Depends(require_roles(*READERS)),
) -> list[RankedApplication]:
    app.get_round(round_id)
    return [
        RankedApplication(
            position=position,
            application_id=a.id,
            household_id=a.household_id,
            status=a.status,
            priority=a.priority,
            isee_cents=a.isee_cents,
            entitlement_cents=a.entitlement_cents,
            submitted_at=a.created_on,
        )
        for position, a in enumerate(app.ranking(round_id), start=1)
    ]
