"""The auditor's comparison point: the plan statements and payroll lines as they were where the
auditor's replay ended (the last notification id it read; the topic's messages carry the
store's ids), so a service that keeps spending while the replay runs is compared event for
event, and an event the replay lacks up to that point still makes a difference."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from servicekit.auth import Principal, require_roles
from servicekit.http import AUDIT_POINT_RESPONSES, audit_point

from wallet.application.app import WalletApplication
from wallet.entrypoints.access import wallet_app

router = APIRouter(tags=["audit"])


@router.get(
    "/audit/figures",
    summary="Every plan's statement and payroll line once the events up to a notification "
    "were stored",
    responses=AUDIT_POINT_RESPONSES,
)
def figures_upto(
    upto: int = Depends(audit_point),
    app: WalletApplication = Depends(wallet_app),
    _: Principal = Depends(require_roles("auditor")),
) -> dict[str, list[dict[str, Any]]]:
    statements, payroll = app.figures_upto(upto)
    return {
        "plans": [s.as_dict() for s in statements],
        "payroll": [
            {
                "employee_id": line.employee_id,
                "year": line.year,
                "taxable_cents": line.taxable_cents,
            }
            for line in payroll
        ],
    }
