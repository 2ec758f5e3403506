"""HTTP routes of the vouchers service."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Depends, Request, status
from pydantic import BaseModel
from servicekit.auth import Principal, require_roles
from servicekit.http import application_of

from vouchers.application.app import VouchersApplication
from vouchers.application.commands import AllocateFund, TopUpFund

router = APIRouter(prefix="/funds", tags=["funds"])


def vouchers_app(request: Request) -> VouchersApplication:
    return application_of(request, VouchersApplication)


class FundCreated(BaseModel):
    fund_id: UUID


class FundView(BaseModel):
    fund_id: UUID
    municipality_istat: str
    allocated_cents: int
    version: int


@router.post("", status_code=status.HTTP_201_CREATED, summary="Allocate a fund to a municipality")
def allocate_fund(
    command: AllocateFund,
    app: VouchersApplication = Depends(vouchers_app),
    _: Principal = Depends(require_roles("operator")),
) -> FundCreated:
    return FundCreated(fund_id=app.allocate_fund(command))


@router.post("/{fund_id}/top-ups", summary="Add money to a fund (State transfer or donation)")
def top_up_fund(
    fund_id: UUID,
    command: TopUpFund,
    app: VouchersApplication = Depends(vouchers_app),
    _: Principal = Depends(require_roles("operator")),
) -> FundView:
    app.top_up_fund(fund_id, command)
    return read_fund(fund_id, app)


@router.get("/{fund_id}", summary="A fund's figures")
def get_fund(
    fund_id: UUID,
    app: VouchersApplication = Depends(vouchers_app),
    _: Principal = Depends(require_roles("operator", "social_worker", "auditor")),
) -> FundView:
    return read_fund(fund_id, app)


def read_fund(fund_id: UUID, app: VouchersApplication) -> FundView:
    fund = app.get_fund(fund_id)
    return FundView(
        fund_id=fund.id,
        municipality_istat=fund.municipality_istat,
        allocated_cents=fund.allocated_cents,
        version=fund.version,
    )
