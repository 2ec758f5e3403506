"""The periodic jobs' work on one wallet (the application runs each group-committed, wallet by
wallet, over the wallets the read model finds due)."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from servicekit.batching import UnitOfWork

from wallet.application.context import WalletContext, fringe_year_for
from wallet.domain import spending
from wallet.domain.wallet import Wallet


def expire_holds(ctx: WalletContext, uow: UnitOfWork, wallet_id: UUID, now: datetime) -> int:
    """Release the wallet's holds past their expiry: the cents that went back."""
    wallet = uow.get(wallet_id, Wallet, "wallet")
    return spending.expire_holds(wallet, now, lambda: fringe_year_for(ctx, uow, wallet))


def remind_expiring_credit(
    ctx: WalletContext, uow: UnitOfWork, wallet_id: UUID, today: date
) -> int:
    """Record the expiry reminder due today, if any: 1 if one was recorded."""
    wallet = uow.get(wallet_id, Wallet, "wallet")
    return 1 if wallet.remind_expiry(today) else 0
