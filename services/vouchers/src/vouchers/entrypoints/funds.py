"""Funds: money allocated to a municipality (State transfer, donations) and its live figures."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from fastapi import APIRouter, Depends, status
from pydantic import BaseModel
from servicekit.auth import Principal, require_roles

from vouchers.application.app import VouchersApplication
from vouchers.application.commands import AllocateFund, TopUpFund
from vouchers.entrypoints.deps import READERS, clear_errors, vouchers_app

router = APIRouter(tags=["funds"], dependencies=[Depends(clear_errors)])


class FundCreated(BaseModel):
    fund_id: UUID


class FundSource(BaseModel):
    kind: Literal["state_transfer", "donation"]
    reference: str
    amount_cents: int


class FundFiguresAtView(BaseModel):
    """Every amount in euro cents; available = allocated - issued + returned."""

    fund_id: UUID
    municipality_istat: str
    allocated_cents: int
    assigned_to_rounds_cents: int
    issued_cents: int
    redeemed_cents: int
    reimbursed_cents: int
    returned_cents: int
    available_cents: int
    sources: list[FundSource]


class FundFiguresView(FundFiguresAtView):
    round_ids: list[UUID]


def figures_of(app: VouchersApplication, fund_id: UUID) -> FundFiguresView:
    figures = app.fund_figures(fund_id)
    round_ids = app.get_fund(fund_id).round_ids
    return FundFiguresView.model_validate({**figures.as_dict(), "round_ids": round_ids})


@router.post(
    "/funds", status_code=status.HTTP_201_CREATED, summary="Allocate a fund to a municipality"
)
def allocate_fund(
    command: AllocateFund,
    app: VouchersApplication = Depends(vouchers_app),
    _: Principal = Depends(require_roles("operator")),
) -> FundCreated:
    return FundCreated(fund_id=app.allocate_fund(command))


@router.post("/funds/{fund_id}/top-ups", summary="Add money to a fund (State or donation)")
def top_up_fund(
    fund_id: UUID,
    command: TopUpFund,
    app: VouchersApplication = Depends(vouchers_app),
    _: Principal = Depends(require_roles("operator")),
) -> FundFiguresView:
    app.top_up_fund(fund_id, command)
    return figures_of(app, fund_id)


@router.get("/funds", summary="Every fund with its figures")
def list_funds(
    municipality_istat: str | None = None,
    app: VouchersApplication = Depends(vouchers_app),
    _: Principal = Depends(require_roles(*READERS)),
) -> list[FundFiguresView]:
    return [figures_of(app, fund.id) for fund in app.funds(municipality_istat)]


@router.get("/funds/{fund_id}", summary="A fund's live figures")
def get_fund(
    fund_id: UUID,
    app: VouchersApplication = Depends(vouchers_app),
    _: Principal = Depends(require_roles(*READERS)),
) -> FundFiguresView:
    return figures_of(app, fund_id)
