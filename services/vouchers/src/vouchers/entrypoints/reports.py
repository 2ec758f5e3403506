"""Reports: a municipality's voucher spending by day and by shop."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, Field
from servicekit.auth import Principal, require_roles

from vouchers.application.app import VouchersApplication
from vouchers.entrypoints.deps import READERS, clear_errors, vouchers_app

router = APIRouter(tags=["reports"], dependencies=[Depends(clear_errors)])


class Spending(BaseModel):
    municipality_istat: str
    total_cents: int = Field(description="Redeemed, net of voids")
    by_day: dict[str, int] = Field(description="ISO day (UTC) -> cents")
    by_merchant: dict[str, int] = Field(description="Merchant id -> cents")


@router.get(
    "/municipalities/{istat}/spending",
    summary="Redeemed vouchers by day and by shop, for one municipality",
)
def spending(
    istat: str = Path(pattern=r"^\d{6}$", description="ISTAT municipality code"),
    app: VouchersApplication = Depends(vouchers_app),
    _: Principal = Depends(require_roles(*READERS)),
) -> Spending:
    app.check_municipality(istat)
    figures = app.spending(istat)
    return Spending(
        municipality_istat=istat,
        total_cents=sum(figures["by_day"].values()),
        by_day=figures["by_day"],
        by_merchant=figures["by_merchant"],
    )
