"""Vouchers: a household's own vouchers with their codes, a voucher's balance and history,
and naming a delegate who may also spend it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field
from servicekit.auth import Principal, require_roles
from servicekit.projection import ReadModelStore

from vouchers.application import views
from vouchers.application.app import VouchersApplication
from vouchers.application.commands import NameDelegate
from vouchers.application.views import VoucherRow
from vouchers.domain.codes import voucher_id_for
from vouchers.domain.errors import NotAffiliated
from vouchers.domain.voucher import Status, Voucher
from vouchers.entrypoints.deps import READERS, clear_errors, code_of, forbidden, party_id
from vouchers.entrypoints.deps import vouchers_app as vouchers_application

router = APIRouter(tags=["vouchers"], dependencies=[Depends(clear_errors)])

EntryKind = Literal["issued", "delegate_named", "redeemed", "voided", "expired", "revoked"]


class VoucherView(BaseModel):
    voucher_id: UUID
    code: str | None = Field(description="The code to give at the till")
    round_id: UUID
    value_cents: int
    remaining_cents: int
    held_cents: int = Field(
        default=0,
        description="Held for bookings (service vouchers): part of the balance, "
        "not available until captured or released",
    )
    status: Status
    expires_at: datetime
    spendable: bool = Field(description="Active and not past its expiry")
    holder: str | None = Field(description="The holder's beneficiary id (hidden from shops)")
    delegate_id: str | None = Field(description="Who may also spend it (hidden from shops)")


class OwnVoucher(VoucherView):
    held_as: Literal["holder", "delegate"]


class VoucherEntry(BaseModel):
    at: datetime
    kind: EntryKind
    amount_cents: int
    balance_cents: int = Field(description="What is left after this entry")
    merchant_id: str | None = None
    redemption_id: UUID | None = None
    goods_category: str | None = None


class VoucherDetail(VoucherView):
    history: list[VoucherEntry] = Field(description="A shop sees only its own redemptions")


def voucher_view(
    voucher: Voucher | VoucherRow, code: str | None, *, for_shop: bool
) -> dict[str, Any]:
    return {
        "voucher_id": voucher.id,
        "code": code,
        "round_id": voucher.round_id,
        "value_cents": voucher.value_cents,
        "remaining_cents": voucher.remaining_cents,
        "held_cents": voucher.held_cents,
        "status": voucher.status,
        "expires_at": voucher.expires_at,
        "spendable": voucher.status == "active" and datetime.now(UTC) < voucher.expires_at,
        "holder": None if for_shop else voucher.holder,
        "delegate_id": None if for_shop else voucher.delegate_id,
    }


def history_of(app: VouchersApplication, voucher: Voucher) -> list[VoucherEntry]:
    """The voucher's own events, read back from its stream, as a statement."""
    entries: list[VoucherEntry] = []
    balance = 0
    events: list[Any] = list(app.events.get(voucher.id))
    for e in events:
        entry: dict[str, Any] = {"at": e.timestamp}
        if isinstance(e, Voucher.Issued):
            balance = e.value_cents
            entry.update(kind="issued", amount_cents=e.value_cents)
        elif isinstance(e, Voucher.DelegateNamed):
            entry.update(kind="delegate_named", amount_cents=0)
        elif isinstance(e, Voucher.Redeemed):
            balance = e.remaining_cents
            entry.update(
                kind="redeemed",
                amount_cents=e.amount_cents,
                merchant_id=e.merchant_id,
                redemption_id=e.redemption_id,
                goods_category=e.goods_category,
            )
        elif isinstance(e, Voucher.HoldCaptured):  # a booking's capture: spent at a provider
            balance = e.remaining_cents
            entry.update(
                kind="redeemed",
                amount_cents=e.amount_cents,
                merchant_id=e.provider_id,
                redemption_id=e.redemption_id,
                goods_category=e.category,
            )
        elif isinstance(e, Voucher.RedemptionVoided):
            balance += e.amount_cents
            entry.update(
                kind="voided",
                amount_cents=e.amount_cents,
                merchant_id=e.merchant_id,
                redemption_id=e.redemption_id,
            )
        elif isinstance(e, Voucher.Expired | Voucher.Revoked):
            balance = 0
            entry.update(
                kind="expired" if isinstance(e, Voucher.Expired) else "revoked",
                amount_cents=e.amount_cents,
            )
        else:
            continue
        entries.append(VoucherEntry(**entry, balance_cents=balance))
    return entries


def code_of_voucher(
    app: VouchersApplication, model: ReadModelStore, voucher: VoucherRow
) -> str | None:
    """The code of a voucher, opened from its household's sealed codes."""
    application = views.application(model, voucher.application_id)
    if application is None:
        return None
    return next((c for c in app.codes_of(application) if voucher_id_for(c) == voucher.id), None)


@router.get("/vouchers/mine", summary="The caller's vouchers (held or delegated), with codes")
def my_vouchers(
    app: VouchersApplication = Depends(vouchers_application),
    principal: Principal = Depends(require_roles("beneficiary")),
) -> list[OwnVoucher]:
    me = party_id(principal)
    model = app.fresh_read_model()
    mine: list[OwnVoucher] = []
    for application in views.applications_of(model, me):
        codes = app.codes_of(application)
        rows = views.vouchers(model, (voucher_id_for(c) for c in codes))
        for code in codes:
            voucher = rows.get(voucher_id_for(code)) or app.voucher_by_code(code)
            view = voucher_view(voucher, code, for_shop=False)
            mine.append(OwnVoucher(**view, held_as="holder"))
    for delegated in views.vouchers_delegated_to(model, me):
        view = voucher_view(delegated, code_of_voucher(app, model, delegated), for_shop=False)
        mine.append(OwnVoucher(**view, held_as="delegate"))
    return mine


@router.get(
    "/vouchers/{code}",
    summary="A voucher's balance and history (its holder, a shop of its round, readers)",
)
def get_voucher(
    code: str,
    app: VouchersApplication = Depends(vouchers_application),
    principal: Principal = Depends(require_roles("beneficiary", "merchant", *READERS)),
) -> VoucherDetail:
    code = code_of(code)
    voucher = app.voucher_by_code(code)
    for_shop = principal.role == "merchant"
    if principal.role == "beneficiary" and not voucher.may_be_spent_by(party_id(principal)):
        raise forbidden("a beneficiary may read only the vouchers they hold or spend for")
    history = history_of(app, voucher)
    if for_shop:
        shop = party_id(principal)
        try:
            app.merchant_account(voucher.round_id, shop)
        except NotAffiliated:
            raise forbidden(
                f"merchant {shop!r} is not affiliated to this voucher's round"
            ) from None
        history = [h for h in history if h.merchant_id in (None, shop)]
    return VoucherDetail(**voucher_view(voucher, code, for_shop=for_shop), history=history)


@router.post(
    "/vouchers/{voucher_id}/delegate",
    summary="Name a delegate (a caregiver) who may also spend the voucher",
)
def name_delegate(
    voucher_id: UUID,
    command: NameDelegate,
    app: VouchersApplication = Depends(vouchers_application),
    principal: Principal = Depends(require_roles("beneficiary")),
) -> VoucherView:
    holder = party_id(principal)
    if app.get_voucher(voucher_id).holder != holder:
        raise forbidden("only the voucher's holder can name a delegate")
    app.name_delegate(voucher_id, holder, command)
    voucher = app.get_voucher(voucher_id)
    return VoucherView(**voucher_view(voucher, None, for_shop=False))
