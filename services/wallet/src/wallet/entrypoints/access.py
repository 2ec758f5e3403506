"""Who may read and do what in the wallet API, and the dependencies every route shares: the
application, the caller's page of a long list."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated
from uuid import UUID

from fastapi import HTTPException, Query, Request, status
from servicekit.auth import Principal
from servicekit.http import application_of

from wallet.application import views
from wallet.application.app import WalletApplication
from wallet.domain.plan import Plan
from wallet.domain.wallet import Wallet
from wallet.entrypoints.responses import WalletView, wallet_view

READERS = ("auditor", "operator")


def wallet_app(request: Request) -> WalletApplication:
    return application_of(request, WalletApplication)


def page_of(
    # Bounded: an offset past SQLite's 64-bit integers would fail the query (a 500).
    offset: Annotated[int, Query(ge=0, le=10_000_000, description="Items to skip (paging)")] = 0,
    limit: Annotated[
        int | None,
        Query(ge=1, le=views.MAX_PAGE, description="At most this many items (default: all)"),
    ] = None,
) -> views.Page:
    return views.Page(offset=offset, limit=limit)


def wallet_views(app: WalletApplication, wallet_ids: Iterable[UUID]) -> list[WalletView]:
    return [wallet_view(app.get_wallet(wallet_id)) for wallet_id in wallet_ids]


def forbidden(message: str) -> HTTPException:
    return HTTPException(
        status_code=status.HTTP_403_FORBIDDEN,
        detail={"code": "forbidden_subject", "message": message},
    )


def may_read_plan(plan: Plan, principal: Principal) -> None:
    if principal.role in READERS:
        return
    principal.require_subject("employer", plan.employer_id)


def is_delegate(app: WalletApplication, wallet: Wallet, principal: Principal) -> bool:
    """Whether the caller is the wallet's employee's current delegate."""
    if principal.role != "beneficiary" or principal.subject_id is None:
        return False
    family = app.get_family(wallet.employee_id)
    return family is not None and family.is_delegate(principal.subject_id)


def may_read_wallet(app: WalletApplication, wallet: Wallet, principal: Principal) -> None:
    if principal.role in READERS or principal.acts_for("employer", wallet.employer_id):
        return
    if principal.acts_for("beneficiary", wallet.employee_id) or is_delegate(app, wallet, principal):
        return
    raise forbidden(f"this token may not read the wallets of {wallet.employee_id!r}")


def may_spend(app: WalletApplication, wallet: Wallet, principal: Principal) -> str | None:
    """The employee and their current delegate spend; the booking saga (operator) holds,
    captures and releases. Returns the delegate's id when the delegate is spending (the hold
    records it, and the domain checks again that they are still the delegate)."""
    if principal.role == "operator" or principal.acts_for("beneficiary", wallet.employee_id):
        return None
    if is_delegate(app, wallet, principal):
        return principal.subject_id
    raise forbidden(
        f"only employee {wallet.employee_id!r} and their current delegate may spend from "
        "this wallet"
    )


def own_plan(app: WalletApplication, plan_id: UUID, principal: Principal) -> Plan:
    plan = app.get_plan(plan_id)
    principal.require_subject("employer", plan.employer_id)
    return plan


def me(principal: Principal) -> str:
    assert principal.subject_id is not None
    return principal.subject_id
