"""Merchants: affiliation to a round, redemption at the till, voids, reimbursement claims and
their approval and payment by the municipality."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query, status
from pydantic import AwareDatetime, BaseModel, BeforeValidator, Field
from servicekit.auth import Principal, require_roles

from vouchers.application.app import VouchersApplication
from vouchers.application.commands import (
    AffiliateMerchant,
    ApproveClaim,
    ClaimReimbursement,
    PayClaim,
    Redeem,
    VoidRedemption,
)
from vouchers.application.figures import MerchantFigures
from vouchers.domain.codes import voucher_id_for
from vouchers.domain.merchant import VOID_WINDOW, MerchantAccount
from vouchers.entrypoints.deps import READERS, clear_errors, code_of, parse_id, vouchers_app

router = APIRouter(tags=["merchants"], dependencies=[Depends(clear_errors)])

_ISO_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


def _iso_moment(value: object) -> object:
    """A moment in a query is ISO 8601 text (pydantic alone would take "0.5" as a Unix time)."""
    if isinstance(value, str) and not _ISO_MOMENT.match(value):
        raise ValueError("write a moment as YYYY-MM-DDTHH:MM:SS+01:00")
    return value


# A moment in a query, with its offset, as OpenAPI documents it (format date-time).
QueryMoment = Annotated[AwareDatetime, BeforeValidator(_iso_moment)]


class ClaimView(BaseModel):
    claim_id: UUID
    amount_cents: int
    status: Literal["claimed", "approved", "paid"]
    period_from: date
    period_to: date
    payment_due_on: date | None = Field(description="The promised payment date, once approved")
    payment_reference: str | None


class MerchantAccountView(BaseModel):
    merchant_id: str
    round_id: UUID
    vat_number: str | None = Field(
        description="A shop's VAT number; none for a care provider's account (services round)"
    )
    goods_categories: list[str]
    excluded_categories: list[str]
    redeemed_cents: int = Field(description="Net of voids")
    claimed_cents: int
    approved_cents: int
    reimbursed_cents: int
    unclaimed_cents: int
    claims: list[ClaimView]


class RedemptionView(BaseModel):
    redemption_id: UUID
    voucher_id: UUID
    amount_cents: int
    goods_category: str
    remaining_cents: int = Field(description="What the voucher has left")


class SaleView(BaseModel):
    """One of a shop's sales at its tills, as its sales list shows it."""

    redemption_id: UUID
    voucher_id: UUID
    code_hint: str | None = Field(
        description="The end of the voucher's code as printed (its last group and check "
        "character, WXYZ-C), which the shop typed: the code itself is never stored. None for "
        "sales recorded before codes' ends were kept"
    )
    round_id: UUID
    amount_cents: int
    goods_category: str
    at: datetime = Field(description="The till's time of the sale")
    voided: bool
    claimed: bool = Field(description="Part of a reimbursement claim")
    voidable_until: datetime | None = Field(
        description="Until when the shop may void it (none once voided or claimed); it may be past"
    )


class VoidView(BaseModel):
    redemption_id: UUID
    voucher_id: UUID
    remaining_cents: int


def account_view(account: MerchantAccount) -> MerchantAccountView:
    figures = MerchantFigures.of(account)
    return MerchantAccountView(
        merchant_id=account.merchant_id,
        round_id=account.round_id,
        vat_number=account.vat_number,
        goods_categories=account.goods_categories,
        excluded_categories=account.excluded_categories,
        redeemed_cents=figures.redeemed_cents,
        claimed_cents=figures.claimed_cents,
        approved_cents=figures.approved_cents,
        reimbursed_cents=figures.reimbursed_cents,
        unclaimed_cents=figures.unclaimed_cents,
        claims=[
            ClaimView.model_validate({"claim_id": claim_id, **claim})
            for claim_id, claim in figures.claims.items()
        ],
    )


def claim_view(
    app: VouchersApplication, round_id: UUID, merchant_id: str, claim_id: UUID
) -> ClaimView:
    account = account_view(app.merchant_account(round_id, merchant_id))
    return next(c for c in account.claims if c.claim_id == claim_id)


def acting_for(merchant_id: str, principal: Principal) -> None:
    principal.require_subject("merchant", merchant_id)


# --- the municipality's side --------------------------------------------------------------


@router.post(
    "/rounds/{round_id}/merchants",
    status_code=status.HTTP_201_CREATED,
    summary="Affiliate a shop to a round's programme",
)
def affiliate_merchant(
    round_id: UUID,
    command: AffiliateMerchant,
    app: VouchersApplication = Depends(vouchers_app),
    _: Principal = Depends(require_roles("operator")),
) -> MerchantAccountView:
    app.affiliate_merchant(round_id, command)
    return account_view(app.merchant_account(round_id, command.merchant_id))


@router.get("/rounds/{round_id}/merchants", summary="A round's shops and what they are owed")
def round_merchants(
    round_id: UUID,
    app: VouchersApplication = Depends(vouchers_app),
    _: Principal = Depends(require_roles(*READERS)),
) -> list[MerchantAccountView]:
    app.get_round(round_id)
    return [account_view(a) for a in app.merchant_accounts(round_id)]


@router.post(
    "/rounds/{round_id}/merchants/{merchant_id}/claims/{claim_id}/approve",
    summary="Approve a reimbursement claim, promising a payment date",
)
def approve_claim(
    round_id: UUID,
    merchant_id: str,
    claim_id: UUID,
    command: ApproveClaim,
    app: VouchersApplication = Depends(vouchers_app),
    _: Principal = Depends(require_roles("operator")),
) -> ClaimView:
    app.approve_claim(round_id, merchant_id, claim_id, command.payment_due_on)
    return claim_view(app, round_id, merchant_id, claim_id)


@router.post(
    "/rounds/{round_id}/merchants/{merchant_id}/claims/{claim_id}/pay",
    summary="Record the payment of an approved claim",
)
def pay_claim(
    round_id: UUID,
    merchant_id: str,
    claim_id: UUID,
    command: PayClaim,
    app: VouchersApplication = Depends(vouchers_app),
    _: Principal = Depends(require_roles("operator")),
) -> ClaimView:
    app.pay_claim(round_id, merchant_id, claim_id, command.payment_reference)
    return claim_view(app, round_id, merchant_id, claim_id)


# --- the shop's side ----------------------------------------------------------------------


@router.post(
    "/merchants/{merchant_id}/redemptions",
    status_code=status.HTTP_201_CREATED,
    summary="Spend part of a voucher at the till (a retry with the same request_id spends once)",
)
async def redeem(
    merchant_id: str,
    command: Redeem,
    app: VouchersApplication = Depends(vouchers_app),
    principal: Principal = Depends(require_roles("merchant")),
) -> RedemptionView:
    # async: the request awaits its group-committed batch without holding a worker thread.
    acting_for(merchant_id, principal)
    code_of(command.code)  # a malformed code is a clear 422 before anything is queued
    receipt = await app.redeem_async(merchant_id, command)
    return RedemptionView(
        redemption_id=UUID(receipt.redemption_id),
        voucher_id=receipt.voucher_id,
        amount_cents=command.amount_cents,
        goods_category=command.goods_category,
        remaining_cents=receipt.remaining_cents,
    )


@router.get(
    "/merchants/{merchant_id}/redemptions",
    summary="A shop's sales at its tills, newest first (since a moment, e.g. today's)",
)
def merchant_redemptions(
    merchant_id: str,
    app: VouchersApplication = Depends(vouchers_app),
    principal: Principal = Depends(require_roles("merchant", "operator", "auditor")),
    since: Annotated[
        QueryMoment | None,
        Query(description="Only sales at or after this moment (ISO 8601 with its offset)"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[SaleView]:
    principal.require_subject("merchant", merchant_id, exempt_roles=("operator", "auditor"))
    return [
        SaleView(
            redemption_id=row.id,
            voucher_id=row.voucher_id,
            code_hint=row.code_hint,
            round_id=row.round_id,
            amount_cents=row.amount_cents,
            goods_category=row.goods_category,
            at=row.at,
            voided=row.voided,
            claimed=row.claimed,
            voidable_until=None if row.voided or row.claimed else row.at + VOID_WINDOW,
        )
        for row in app.redemptions_of(merchant_id, since, limit)
    ]


@router.post(
    "/merchants/{merchant_id}/voids",
    summary="Cancel one of the shop's own redemptions, shortly after it",
)
def void_redemption(
    merchant_id: str,
    command: VoidRedemption,
    app: VouchersApplication = Depends(vouchers_app),
    principal: Principal = Depends(require_roles("merchant")),
) -> VoidView:
    acting_for(merchant_id, principal)
    redemption_id = parse_id(command.redemption_id, "redemption_id")
    voucher_id = voucher_id_for(code_of(command.code))
    app.void_redemption(merchant_id, command)
    return VoidView(
        redemption_id=redemption_id,
        voucher_id=voucher_id,
        remaining_cents=app.get_voucher(voucher_id).remaining_cents,
    )


@router.get(
    "/merchants/{merchant_id}/rounds/{round_id}",
    summary="A shop's account in a round: redeemed, claimed, paid, and each claim's status",
)
def merchant_account(
    merchant_id: str,
    round_id: UUID,
    app: VouchersApplication = Depends(vouchers_app),
    principal: Principal = Depends(require_roles("merchant", "operator", "auditor")),
) -> MerchantAccountView:
    principal.require_subject("merchant", merchant_id, exempt_roles=("operator", "auditor"))
    return account_view(app.merchant_account(round_id, merchant_id))


@router.post(
    "/merchants/{merchant_id}/rounds/{round_id}/claims",
    status_code=status.HTTP_201_CREATED,
    summary="Claim reimbursement of the redeemed, unclaimed amounts of a period",
)
def claim_reimbursement(
    merchant_id: str,
    round_id: UUID,
    command: ClaimReimbursement,
    app: VouchersApplication = Depends(vouchers_app),
    principal: Principal = Depends(require_roles("merchant")),
) -> ClaimView:
    acting_for(merchant_id, principal)
    claim_id, _ = app.claim_reimbursement(round_id, merchant_id, command)
    return claim_view(app, round_id, merchant_id, claim_id)
