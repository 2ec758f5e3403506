"""A voucher at the till: its holder names a delegate, a shop redeems part of it (tills are
many and busy: their redemptions are group-committed), and voids one of its own sales."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from uuid import UUID

from servicekit.batching import UnitOfWork
from servicekit.domain import NotFound
from servicekit.store import retried

from vouchers.application import commands as cmd
from vouchers.application.store import VouchersStore
from vouchers.domain import redemption
from vouchers.domain.codes import code_hint, voucher_id_for
from vouchers.domain.errors import NotAffiliated
from vouchers.domain.merchant import MerchantAccount
from vouchers.domain.voucher import Voucher

REDEMPTION_NAMESPACE = uuid.UUID("9d5e3a71-2b8c-4f6e-a0d4-7c1b5e8f2a36")


@dataclass(frozen=True)
class RedemptionReceipt:
    """What the till prints: the redemption, and what is left on the voucher after it."""

    redemption_id: str
    voucher_id: UUID
    remaining_cents: int


@retried
def name_delegate(
    store: VouchersStore, voucher_id: UUID, holder: str, command: cmd.NameDelegate
) -> None:
    voucher = store.get_voucher(voucher_id)
    if voucher.holder != holder:
        raise NotAffiliated("only the voucher's holder can name a delegate")
    voucher.name_delegate(command.delegate_id)
    store.save(voucher)


def redemption_id_for(voucher_id: UUID, merchant_id: str, request_id: str) -> UUID:
    """The same till request always gives the same redemption (spent once)."""
    return uuid.uuid5(REDEMPTION_NAMESPACE, f"{voucher_id}/{merchant_id}/{request_id}")


def redemption_of(
    store: VouchersStore, merchant_id: str, command: cmd.Redeem, at: datetime
) -> partial[RedemptionReceipt]:
    """The redemption as a change for the group commit (``store.group_commit``): run in the
    next batch, with the batch's unit of work."""
    voucher_id = voucher_id_for(command.code)
    redemption_id = redemption_id_for(voucher_id, merchant_id, command.request_id)
    return partial(redeem, store, voucher_id, redemption_id, merchant_id, command, at)


def redeem(
    store: VouchersStore,
    voucher_id: UUID,
    redemption_id: UUID,
    merchant_id: str,
    command: cmd.Redeem,
    at: datetime,
    uow: UnitOfWork,
) -> RedemptionReceipt:
    voucher = uow.get(voucher_id, Voucher, "voucher")
    try:
        account_id = MerchantAccount.id_for(voucher.round_id, merchant_id)
        account = uow.get(account_id, MerchantAccount, "merchant account")
    except NotFound:
        raise NotAffiliated(
            f"merchant {merchant_id} is not affiliated to the voucher's round"
        ) from None
    amount, goods = command.amount_cents, command.goods_category
    hint = code_hint(command.code)
    if redemption.redeem(voucher, account, redemption_id, amount, goods, at, hint):
        remaining = voucher.remaining_cents
    else:
        # A till's retry: nothing is saved, so nothing would reveal a warm copy older
        # than the store (a void saved since): what is left is read from the store.
        remaining = store.get_voucher(voucher_id).remaining_cents
    return RedemptionReceipt(str(redemption_id), voucher.id, remaining)


@retried
def void_redemption(
    store: VouchersStore, merchant_id: str, command: cmd.VoidRedemption, at: datetime
) -> None:
    voucher = store.voucher_by_code(command.code)
    account = store.merchant_account(voucher.round_id, merchant_id)
    history = store.merchant_ledger(account.id)
    redemption.void(voucher, account, history, UUID(command.redemption_id), at)
    store.save(voucher, account)
