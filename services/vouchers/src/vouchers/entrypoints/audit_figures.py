"""The auditor's comparison point: the figures as they were where the auditor's replay ended.

An audit replays the ledger for minutes while the service keeps redeeming; figures read
afterwards would be ahead of the replay and every busy audit would fail. So the auditor gives
the last notification id its replay read (the topic's messages carry the store's ids), and the
service answers with its figures from the events stored up to there (its aggregates at those
versions). An event the replay lacks up to that point still makes a difference.
"""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field
from servicekit.auth import Principal, require_roles
from servicekit.http import AUDIT_POINT_RESPONSES, audit_point

from vouchers.application.app import VouchersApplication
from vouchers.entrypoints.deps import clear_errors, vouchers_app
from vouchers.entrypoints.funds import FundFiguresAtView

router = APIRouter(tags=["audit"], dependencies=[Depends(clear_errors)])


class MerchantFiguresAtView(BaseModel):
    round_id: UUID
    merchant_id: str
    redeemed_cents: int = Field(description="Net of voids")
    claimed_cents: int
    approved_cents: int
    reimbursed_cents: int


class FiguresAt(BaseModel):
    funds: list[FundFiguresAtView]
    merchants: list[MerchantFiguresAtView]


@router.get(
    "/audit/figures",
    summary="Every fund's and shop's figures once the events up to a notification were stored",
    responses=AUDIT_POINT_RESPONSES,
)
def figures_upto(
    upto: int = Depends(audit_point),
    app: VouchersApplication = Depends(vouchers_app),
    _: Principal = Depends(require_roles("auditor")),
) -> FiguresAt:
    funds, merchants = app.figures_upto(upto)
    return FiguresAt(
        funds=[FundFiguresAtView.model_validate(f.as_dict()) for f in funds],
        merchants=[
            MerchantFiguresAtView(
                round_id=UUID(m.round_id),
                merchant_id=m.merchant_id,
                redeemed_cents=m.redeemed_cents,
                claimed_cents=m.claimed_cents,
                approved_cents=m.approved_cents,
                reimbursed_cents=m.reimbursed_cents,
            )
            for m in merchants
        ],
    )
