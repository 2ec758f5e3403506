"""Spending a voucher at a shop, and a shop taking a sale back: the voucher and the shop's
account in the round change together (what the household spends, the municipality owes)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from vouchers.domain.errors import VoidRefused
from vouchers.domain.merchant import CreditHistory, MerchantAccount
from vouchers.domain.voucher import Voucher


def redeem(
    voucher: Voucher,
    account: MerchantAccount,
    redemption_id: UUID,
    amount_cents: int,
    goods_category: str,
    now: datetime,
    code_hint: str | None = None,
) -> bool:
    """Spend ``amount_cents`` of the voucher at the shop, which is credited as much. The shop
    must be active and sell these goods, which the round must not exclude. False (and no
    change) when this redemption was already made: a till's retry never spends twice. A
    service voucher is never spent at a till (a booking holds and captures it)."""
    voucher.check_spent_at_till()
    account.check_active()
    account.check_goods(goods_category)
    if not voucher.redeem(
        redemption_id, account.merchant_id, amount_cents, goods_category, now, code_hint
    ):
        return False
    account.credit(redemption_id, voucher.id, amount_cents, now)
    return True


def void(
    voucher: Voucher,
    account: MerchantAccount,
    history: CreditHistory,
    redemption_id: UUID,
    now: datetime,
) -> int:
    """The shop takes back one of its own sales, soon after and before claiming it: the
    amount goes back on the voucher and off the shop's account. Returns it."""
    credit = history.credits.get(str(redemption_id))
    if credit is None or str(redemption_id) in history.voided:
        raise VoidRefused("no such redemption at this shop")
    account.check_can_void(credit[1], str(redemption_id) in history.claimed, now)
    amount = voucher.void(redemption_id, account.merchant_id)
    account.debit(redemption_id, amount)
    return amount
