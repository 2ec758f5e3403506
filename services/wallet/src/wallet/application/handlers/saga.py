"""Holds, captures and releases asked by events (the booking saga): the application's policy
hands each request here; what changed is collected into the processing event and stored with
the message's tracking position. A refused hold is recorded (``HoldRefused``) so the saga
hears of it; a refused capture or release is logged and tracked."""

from __future__ import annotations

from datetime import UTC, datetime

import structlog
from servicekit.batching import UnitOfWork
from servicekit.domain import DomainError, NotFound
from servicekit.messages import Processing

from wallet.application import commands as cmd
from wallet.application.context import WalletContext, fringe_year_for
from wallet.application.handlers import holds
from wallet.application.requests import CaptureRequest, HoldRequest, ReleaseRequest
from wallet.domain.errors import FringeCapExceeded
from wallet.domain.fringe import OverFringeCap
from wallet.domain.wallet import Wallet

log = structlog.get_logger(__name__)


def hold_requested(ctx: WalletContext, request: HoldRequest, processing: Processing) -> None:
    try:
        wallet = ctx.get_aggregate(request.wallet_id, Wallet, "wallet")
    except NotFound:
        log.warning("hold_request_for_unknown_wallet", wallet_id=str(request.wallet_id))
        return  # tracked, no effect: the saga times out and compensates
    at = processing.envelope.time if processing.envelope is not None else datetime.now(UTC)
    uow = UnitOfWork(ctx)
    uow.add(wallet)
    try:
        outcome = holds.hold(ctx, uow, request.wallet_id, _hold_command(request), at)
    except DomainError as refusal:
        fresh = ctx.get_aggregate(request.wallet_id, Wallet, "wallet")  # nothing of the attempt
        _refuse(fresh, request, refusal.code, str(refusal))
        processing.collect_events(fresh)
        return
    if isinstance(outcome, OverFringeCap):
        fringe = fringe_year_for(ctx, uow, wallet)
        _refuse(wallet, request, FringeCapExceeded.code, outcome.message)
        processing.collect_events(wallet, fringe)
        return
    processing.collect_events(*uow.changed())


def capture_requested(ctx: WalletContext, request: CaptureRequest, processing: Processing) -> None:
    uow = UnitOfWork(ctx)
    try:
        holds.capture(
            ctx, uow, request.wallet_id, request.hold_id, request.request_id, request.amount_cents
        )
    except DomainError as refusal:  # e.g. the hold expired first: logged, tracked
        log.warning("capture_request_refused", hold_id=str(request.hold_id), why=str(refusal))
        return
    processing.collect_events(*uow.changed())


def release_requested(ctx: WalletContext, request: ReleaseRequest, processing: Processing) -> None:
    uow = UnitOfWork(ctx)
    try:
        holds.release(ctx, uow, request.wallet_id, request.hold_id, request.request_id)
    except DomainError as refusal:  # e.g. already captured or expired: logged, tracked
        log.warning("release_request_refused", hold_id=str(request.hold_id), why=str(refusal))
        return
    processing.collect_events(*uow.changed())


def _hold_command(request: HoldRequest) -> cmd.HoldFunds:
    return cmd.HoldFunds(
        request_id=request.request_id,
        provider_id=request.provider_id,
        category=request.category,  # type: ignore[arg-type]
        amount_cents=request.amount_cents,
        expires_at=request.expires_at,
        confirm_taxable=request.confirm_taxable,
        for_member_id=request.for_member_id,
    )


def _refuse(wallet: Wallet, request: HoldRequest, code: str, reason: str) -> None:
    wallet.refuse_hold(
        request.request_id,
        request.provider_id,
        request.category,
        request.amount_cents,
        code,
        reason,
    )
