"""Offerings: their page and price, publication, price changes, withdrawal; their slots opened
and listed."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Depends, status
from servicekit.auth import Principal, require_roles

from catalog.application import commands as cmd
from catalog.application.app import CatalogApplication
from catalog.entrypoints.access import QueryDate, catalog_app, owned_offering
from catalog.entrypoints.responses import Created, OfferingView, PriceView

router = APIRouter(prefix="/offerings", tags=["offerings"])


@router.get("/{offering_id}", summary="An offering with its price history (public)")
def get_offering(offering_id: UUID, app: CatalogApplication = Depends(catalog_app)) -> OfferingView:
    return OfferingView.of(app.get_offering(offering_id))


@router.get("/{offering_id}/price", summary="The price valid at a moment (default: now)")
def price_at(
    offering_id: UUID,
    at: datetime | None = None,
    app: CatalogApplication = Depends(catalog_app),
) -> PriceView:
    price = app.price_at(offering_id, at or datetime.now().astimezone())
    return PriceView(**vars(price))


@router.post("/{offering_id}/publication", summary="Publish an offering")
def publish(
    offering_id: UUID,
    command: cmd.PublishOffering | None = None,
    app: CatalogApplication = Depends(catalog_app),
    principal: Principal = Depends(require_roles("operator", "provider")),
) -> OfferingView:
    """With the draft's booking terms, or the ``terms`` given; they are fixed once published
    (publishing again with other terms is 409)."""
    owned_offering(offering_id, app, principal)
    app.publish_offering(offering_id, command)
    return OfferingView.of(app.get_offering(offering_id))


@router.post("/{offering_id}/price", summary="Change the price (history is kept)")
def change_price(
    offering_id: UUID,
    command: cmd.ChangePrice,
    app: CatalogApplication = Depends(catalog_app),
    principal: Principal = Depends(require_roles("operator", "provider")),
) -> OfferingView:
    owned_offering(offering_id, app, principal)
    app.change_price(offering_id, command)
    return OfferingView.of(app.get_offering(offering_id))


@router.post("/{offering_id}/withdrawal", summary="Withdraw an offering for good")
def withdraw(
    offering_id: UUID,
    command: cmd.WithdrawOffering,
    app: CatalogApplication = Depends(catalog_app),
    principal: Principal = Depends(require_roles("operator", "provider")),
) -> OfferingView:
    owned_offering(offering_id, app, principal)
    app.withdraw_offering(offering_id, command)
    return OfferingView.of(app.get_offering(offering_id))


@router.post("/{offering_id}/slots", status_code=status.HTTP_201_CREATED, summary="Open one slot")
def open_slot(
    offering_id: UUID,
    command: cmd.OpenSlot,
    app: CatalogApplication = Depends(catalog_app),
    principal: Principal = Depends(require_roles("operator", "provider")),
) -> Created:
    owned_offering(offering_id, app, principal)
    return Created(id=str(app.open_slot(offering_id, command)))


@router.post(
    "/{offering_id}/weekly-slots",
    status_code=status.HTTP_201_CREATED,
    summary="Open slots from a weekly availability, minus exception dates",
)
def open_weekly_slots(
    offering_id: UUID,
    command: cmd.OpenWeeklySlots,
    app: CatalogApplication = Depends(catalog_app),
    principal: Principal = Depends(require_roles("operator", "provider")),
) -> list[str]:
    owned_offering(offering_id, app, principal)
    return [str(i) for i in app.open_weekly_slots(offering_id, command)]


@router.get(
    "/{offering_id}/slots",
    summary="Slots from a date, with free places (public)",
    responses={
        410: {
            "description": "The offering was withdrawn by its provider: it has no slots to "
            "book any more (code `offering_withdrawn`)"
        }
    },
)
def list_slots(
    offering_id: UUID,
    from_date: QueryDate | None = None,
    app: CatalogApplication = Depends(catalog_app),
) -> list[dict[str, Any]]:
    """An offering that cannot be booked now (a draft, or its provider not accredited) lists
    its slots with no free places; a withdrawn one answers 410."""
    return app.slots(offering_id, from_date or date.today())
