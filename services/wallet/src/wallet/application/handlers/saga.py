"""Holds, captures and releases the booking saga asks for by event (``requests.py``): the
application's policy hands each request here; what changed is collected into the processing
event and stored with the message's tracking positions. Every request gets exactly one answer
per request id:

* a hold: ``FundsHeld`` (until the expiry asked: a booking's hold may run into its plan's
  settlement grace, ``domain/settlement.py``), or ``HoldRefused`` on the wallet's stream (not
  enough credit, a category the plan does not allow, the fringe cap unconfirmed, an expiry
  past the grace, not the wallet's holder...), or ``RequestRefused`` when there is no wallet
  stream to record it on (an unknown wallet, a category no wallet has);
* a capture: ``HoldCaptured``; a release: ``HoldReleased``; either refused: ``RequestRefused``
  (with the hold's status when it is no longer open).

A request answered before (a redelivery, a relay re-publishing it at a new offset) changes
nothing and is not answered again.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import get_args
from uuid import UUID

from benecomune_contracts.wallet import Category
from servicekit.batching import UnitOfWork
from servicekit.domain import DomainError, NotFound
from servicekit.messages import Processing

from wallet.application.context import WalletContext, fringe_year_for
from wallet.application.handlers import holds
from wallet.application.requests import CaptureRequest, HoldRequest, ReleaseRequest
from wallet.domain import settlement
from wallet.domain.errors import (
    CategoryNotAllowed,
    FringeCapExceeded,
    NotWalletHolder,
    WalletNotFound,
)
from wallet.domain.fringe import OverFringeCap
from wallet.domain.refusals import RequestRefusal
from wallet.domain.wallet import Wallet

WALLET_CATEGORIES = frozenset(get_args(Category))


def hold_requested(ctx: WalletContext, request: HoldRequest, processing: Processing) -> None:
    if _refused_before(ctx, "hold", request.request_id):
        return
    wallet = _wallet(ctx, request.wallet_id)
    if wallet is None:
        _refuse_request(processing, "hold", request, WalletNotFound(_no_wallet(request)))
        return
    if request.category not in WALLET_CATEGORIES:
        unknown = CategoryNotAllowed(f"no wallet holds credit for the category {request.category}")
        _refuse_request(processing, "hold", request, unknown)
        return
    if f"refused:{request.request_id}" in wallet.requests:
        return  # answered already (HoldRefused), whatever has changed since
    if request.beneficiary_id not in (None, wallet.employee_id):
        why = f"the booking's beneficiary {request.beneficiary_id} does not hold this wallet"
        _refuse_hold(wallet, request, NotWalletHolder.code, why)
        processing.collect_events(wallet)
        return
    uow = UnitOfWork(ctx)
    uow.add(wallet)
    at = _moment(processing)
    grace = settlement.SETTLEMENT_GRACE
    try:
        outcome = holds.hold(ctx, uow, wallet.id, request, at, grace=grace)
    except DomainError as refusal:
        fresh = ctx.get_aggregate(wallet.id, Wallet, "wallet")  # nothing of the attempt
        _refuse_hold(fresh, request, refusal.code, str(refusal))
        processing.collect_events(fresh)
        return
    if isinstance(outcome, OverFringeCap):
        fringe = fringe_year_for(ctx, uow, wallet)
        _refuse_hold(wallet, request, FringeCapExceeded.code, outcome.message)
        processing.collect_events(wallet, fringe)
        return
    processing.collect_events(*uow.changed())


def capture_requested(ctx: WalletContext, request: CaptureRequest, processing: Processing) -> None:
    if _refused_before(ctx, "capture", request.request_id):
        return
    wallet = _wallet(ctx, request.wallet_id)
    if wallet is None:
        _refuse_request(processing, "capture", request, WalletNotFound(_no_wallet(request)))
        return
    uow = UnitOfWork(ctx)
    uow.add(wallet)
    hold_id: UUID | None = None
    try:
        hold_id = settlement.find_hold(wallet, _text(request.hold_id), request.hold_request_id)
        settlement.check_provider(wallet.get_hold(hold_id), request.provider_id)
        holds.capture(ctx, uow, wallet.id, hold_id, request.request_id, request.amount_cents)
    except DomainError as refusal:
        _refuse_request(processing, "capture", request, refusal, wallet, hold_id)
        return
    processing.collect_events(*uow.changed())


def release_requested(ctx: WalletContext, request: ReleaseRequest, processing: Processing) -> None:
    if _refused_before(ctx, "release", request.request_id):
        return
    wallet = _wallet(ctx, request.wallet_id)
    if wallet is None:
        _refuse_request(processing, "release", request, WalletNotFound(_no_wallet(request)))
        return
    uow = UnitOfWork(ctx)
    uow.add(wallet)
    hold_id: UUID | None = None
    try:
        hold_id = settlement.find_hold(wallet, _text(request.hold_id), request.hold_request_id)
        holds.release(ctx, uow, wallet.id, hold_id, request.request_id)
    except DomainError as refusal:
        _refuse_request(processing, "release", request, refusal, wallet, hold_id)
        return
    processing.collect_events(*uow.changed())


# --- helpers ----------------------------------------------------------------------------------


def _moment(processing: Processing) -> datetime:
    """When the request was made (its envelope's time), else now."""
    return processing.envelope.time if processing.envelope is not None else datetime.now(UTC)


def _text(value: UUID | str | None) -> str | None:
    return None if value is None else str(value)


def _no_wallet(request: HoldRequest | CaptureRequest | ReleaseRequest) -> str:
    return f"no wallet with id {request.wallet_id}"


def _wallet(ctx: WalletContext, wallet_id: UUID | str) -> Wallet | None:
    try:
        return ctx.get_aggregate(UUID(str(wallet_id)), Wallet, "wallet")
    except (ValueError, NotFound):
        return None


def _refused_before(ctx: WalletContext, request: str, request_id: str) -> bool:
    try:
        ctx.get_aggregate(RequestRefusal.id_for(request, request_id), RequestRefusal, "refusal")
    except NotFound:
        return False
    return True


def _refuse_hold(wallet: Wallet, request: HoldRequest, code: str, reason: str) -> None:
    wallet.refuse_hold(
        request.request_id,
        request.provider_id,
        request.category,
        request.amount_cents,
        code,
        reason,
    )


def _refuse_request(
    processing: Processing,
    kind: str,
    request: HoldRequest | CaptureRequest | ReleaseRequest,
    refusal: DomainError,
    wallet: Wallet | None = None,
    hold_id: UUID | None = None,
) -> None:
    """Record a refusal with no wallet stream to carry it (``RequestRefused``)."""
    status = refusal.fields.get("hold_status")
    if status is None and wallet is not None and hold_id is not None:
        status = wallet.get_hold(hold_id)["status"]
    processing.collect_events(
        RequestRefusal.record(
            kind,
            request.request_id,
            str(request.wallet_id),
            refusal.code,
            str(refusal),
            booking_id=request.booking_id,
            hold_id=_text(hold_id),
            hold_request_id=getattr(request, "hold_request_id", None),
            hold_status=status,
            amount_cents=getattr(request, "amount_cents", None),
        )
    )
