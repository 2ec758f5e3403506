"""The auditor's comparison point: the figures as they were where the auditor's replay ended.

An audit replays the ledger for minutes while the service keeps redeeming; figures read
afterwards would be ahead of the replay and every busy audit would fail. So the auditor sends
the sequence its replay reached on each fund, round and shop account stream, and the service
answers with its figures computed from those same events (its aggregates at those versions).
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field
from servicekit.auth import Principal, require_roles

from vouchers.application.app import VouchersApplication
from vouchers.entrypoints.deps import clear_errors, vouchers_app
from vouchers.entrypoints.funds import FundFiguresAtView

router = APIRouter(tags=["audit"], dependencies=[Depends(clear_errors)])

Sequence = Annotated[int, Field(strict=True, ge=1)]


class FiguresAtRequest(BaseModel):
    heads: dict[UUID, Sequence] = Field(
        max_length=1_000_000,
        description="Stream id -> the sequence the auditor's replay reached, for the fund, "
        "round and shop account streams (others are ignored; streams left out were not "
        "reached and are not reported).",
    )


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


@router.post(
    "/audit/figures",
    summary="Every fund's and shop's figures at the point an auditor's replay reached",
    responses={409: {"description": "ledger_behind: the store lacks events the replay read"}},
)
def figures_at(
    request: FiguresAtRequest,
    app: VouchersApplication = Depends(vouchers_app),
    _: Principal = Depends(require_roles("auditor")),
) -> FiguresAt:
    funds, merchants = app.figures_at(request.heads)
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
