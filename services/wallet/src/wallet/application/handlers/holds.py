"""Holds for pending bookings and what follows them: capture, release, refund. The hot path:
the application runs these group-committed (``WalletApplication.run_batched``)."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

from servicekit.batching import UnitOfWork

from wallet.application import commands as cmd
from wallet.application.context import WalletContext, family_of, fringe_year_for
from wallet.domain import spending
from wallet.domain.fringe import OverFringeCap
from wallet.domain.wallet import Wallet


def hold(
    ctx: WalletContext,
    uow: UnitOfWork,
    wallet_id: UUID,
    command: spending.HoldTerms,
    at: datetime,
    delegate_id: str | None = None,
    on_the_spot: bool = False,
    grace: timedelta = timedelta(0),
) -> UUID | OverFringeCap:
    wallet = uow.get(wallet_id, Wallet, "wallet")
    return spending.hold(
        wallet,
        command,
        at,
        family_of=lambda: family_of(uow, wallet.employee_id),
        fringe_of=_fringe(ctx, uow, wallet),
        delegate_id=delegate_id,
        on_the_spot=on_the_spot,
        grace=grace,
    )


def capture(
    ctx: WalletContext,
    uow: UnitOfWork,
    wallet_id: UUID,
    hold_id: UUID,
    request_id: str,
    amount_cents: int | None,
) -> int:
    wallet = uow.get(wallet_id, Wallet, "wallet")
    return spending.capture(wallet, hold_id, request_id, amount_cents, _fringe(ctx, uow, wallet))


def release(
    ctx: WalletContext, uow: UnitOfWork, wallet_id: UUID, hold_id: UUID, request_id: str
) -> int:
    wallet = uow.get(wallet_id, Wallet, "wallet")
    return spending.release(wallet, hold_id, request_id, _fringe(ctx, uow, wallet))


def refund(
    ctx: WalletContext, uow: UnitOfWork, wallet_id: UUID, hold_id: UUID, command: cmd.Refund
) -> int:
    wallet = uow.get(wallet_id, Wallet, "wallet")
    fringe_of = _fringe(ctx, uow, wallet)
    return spending.refund(wallet, hold_id, command.request_id, command.amount_cents, fringe_of)


def _fringe(ctx: WalletContext, uow: UnitOfWork, wallet: Wallet) -> spending.FringeOf:
    """The wallet's fringe year, asked for only when a fringe hold's money moves."""
    return lambda: fringe_year_for(ctx, uow, wallet)
