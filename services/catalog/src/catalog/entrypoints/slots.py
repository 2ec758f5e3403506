"""Slots: places held for a booking (idempotent by the caller's own request id), then confirmed
or released."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Depends
from servicekit.auth import Principal, require_roles

from catalog.application import commands as cmd
from catalog.application.app import CatalogApplication
from catalog.entrypoints.access import (
    BOOKERS,
    HOLDER_QUERY,
    REQUEST_ID_PATH,
    catalog_app,
    settled_holder,
)
from catalog.entrypoints.responses import HoldView

router = APIRouter(prefix="/slots", tags=["slots"])


@router.post("/{slot_id}/holds", summary="Hold places (idempotent by your own request id)")
async def hold(
    slot_id: UUID,
    command: cmd.HoldSlot,
    app: CatalogApplication = Depends(catalog_app),
    principal: Principal = Depends(require_roles(*BOOKERS)),
) -> HoldView:
    """A request id is the caller's own: the same caller repeating it gets the same hold (or
    the same refusal); another caller using the same id gets a hold of its own."""
    # async: the request awaits its group-committed batch without holding a worker thread.
    return HoldView.of(slot_id, await app.hold_slot_async(slot_id, command, principal.subject))


@router.post("/{slot_id}/holds/{request_id}/confirmation", summary="Confirm a hold")
def confirm(
    slot_id: UUID,
    request_id: str = REQUEST_ID_PATH,
    holder: str | None = HOLDER_QUERY,
    app: CatalogApplication = Depends(catalog_app),
    principal: Principal = Depends(require_roles(*BOOKERS)),
) -> HoldView:
    """The holder confirms its own hold; the slot's provider or the operator anyone's."""
    whose = settled_holder(slot_id, request_id, holder, app, principal)
    return HoldView.of(slot_id, app.confirm_hold(slot_id, request_id, whose))


@router.post("/{slot_id}/holds/{request_id}/release", summary="Release a hold (idempotent)")
def release(
    slot_id: UUID,
    request_id: str = REQUEST_ID_PATH,
    holder: str | None = HOLDER_QUERY,
    app: CatalogApplication = Depends(catalog_app),
    principal: Principal = Depends(require_roles(*BOOKERS)),
) -> HoldView:
    """The holder releases its own hold (before it arrives: the late hold is then refused);
    the slot's provider or the operator anyone's."""
    whose = settled_holder(slot_id, request_id, holder, app, principal)
    return HoldView.of(slot_id, app.release_hold(slot_id, request_id, whose))
