"""Which domain events leave the catalog, and as what. Explicit on purpose: a new domain event
stays private until someone maps it here. Applications, drafts, certifications, contact updates,
tax-identity index entries and who holds a slot stay inside the service — except a booking
saga's holds, whose answers name the booking (``holder``, so a booking believes only its own);
legal names, personal fiscal codes and contacts (the contact person's sealed data above all)
never leave it."""

from __future__ import annotations

from functools import singledispatch

from benecomune_contracts import ContractEvent
from benecomune_contracts import catalog as c

from catalog.domain.offering import Offering
from catalog.domain.package import Package, PackagePart
from catalog.domain.provider import Provider
from catalog.domain.slot import Slot, is_booking_holder
from catalog.domain.unknown_slots import UnknownSlotRequest


def _booking(holder: str | None) -> str | None:
    """The holder, if the places are a booking's; other callers' names stay here."""
    return holder if is_booking_holder(holder) else None


@singledispatch
def to_contract(event: object) -> ContractEvent | None:
    return None  # private


@to_contract.register
def _(e: Provider.Accredited) -> ContractEvent:
    return c.ProviderAccredited(
        provider_id=e.provider_id,
        kind=e.kind,  # type: ignore[arg-type]
        municipalities=e.municipalities,
        certifications=e.certifications,
        accredited_at=e.timestamp,
    )


@to_contract.register
def _(e: Provider.Suspended) -> ContractEvent:
    return c.ProviderSuspended(
        provider_id=e.provider_id, reason_code=e.reason_code, suspended_at=e.timestamp
    )


@to_contract.register
def _(e: Provider.Reinstated) -> ContractEvent:
    return c.ProviderReinstated(provider_id=e.provider_id, reinstated_at=e.timestamp)


@to_contract.register
def _(e: Provider.MerchantAffiliated) -> ContractEvent:
    return c.MerchantAffiliated(
        merchant_id=e.provider_id,
        vat_number=e.vat_number,
        goods_categories=e.goods_categories,
        municipalities=e.municipalities,
        affiliated_at=e.timestamp,
    )


@to_contract.register
def _(e: Offering.Published) -> ContractEvent:
    return c.OfferingPublished(
        offering_id=str(e.originator_id),
        provider_id=e.provider_id,
        title_it=e.title_it,
        title_en=e.title_en,
        category=e.category,
        delivery_mode=e.delivery_mode,  # type: ignore[arg-type]
        price_cents=e.price_cents,
        unit=e.unit,  # type: ignore[arg-type]
        municipalities=e.municipalities,
        published_at=e.timestamp,
        terms=c.OfferingTerms(**e.terms),
    )


@to_contract.register
def _(e: Offering.PriceChanged) -> ContractEvent:
    return c.OfferingPriceChanged(
        offering_id=str(e.originator_id),
        provider_id=e.provider_id,
        previous_price_cents=e.previous_price_cents,
        price_cents=e.price_cents,
        unit=e.unit,  # type: ignore[arg-type]
        effective_from=e.effective_from,
        changed_at=e.timestamp,
    )


@to_contract.register
def _(e: Offering.Withdrawn) -> ContractEvent:
    return c.OfferingWithdrawn(
        offering_id=str(e.originator_id), provider_id=e.provider_id, withdrawn_at=e.timestamp
    )


@to_contract.register
def _(e: Slot.Opened) -> ContractEvent:
    return c.SlotOpened(
        slot_id=str(e.originator_id),
        offering_id=str(e.offering_id),
        provider_id=e.provider_id,
        starts_at=e.starts_at,
        ends_at=e.ends_at,
        capacity=e.capacity,
        opened_at=e.timestamp,
    )


@to_contract.register
def _(e: Slot.Held) -> ContractEvent:
    return c.SlotHeld(
        slot_id=str(e.originator_id),
        offering_id=str(e.offering_id),
        provider_id=e.provider_id,
        request_id=e.request_id,
        quantity=e.quantity,
        expires_at=e.expires_at,
        held_at=e.timestamp,
        holder=_booking(e.holder),
    )


@to_contract.register
def _(e: Slot.HoldRefused) -> ContractEvent:
    return c.SlotHoldRefused(
        slot_id=str(e.originator_id),
        request_id=e.request_id,
        quantity=e.quantity,
        reason=e.code,
        refused_at=e.timestamp,
        holder=_booking(e.holder),
    )


@to_contract.register
def _(e: Slot.HoldConfirmed) -> ContractEvent:
    return c.SlotHoldConfirmed(
        slot_id=str(e.originator_id),
        request_id=e.request_id,
        quantity=e.quantity,
        confirmed_at=e.timestamp,
        holder=_booking(e.holder),
    )


@to_contract.register
def _(e: Slot.Released) -> ContractEvent:
    return c.SlotReleased(
        slot_id=str(e.originator_id),
        request_id=e.request_id,
        quantity=e.quantity,
        released_at=e.timestamp,
        holder=_booking(e.holder),
    )


@to_contract.register
def _(e: UnknownSlotRequest.HoldRefused) -> ContractEvent:
    return c.SlotHoldRefused(
        slot_id=e.slot_id,
        request_id=e.request_id,
        quantity=e.quantity,
        reason=e.code,
        refused_at=e.timestamp,
        holder=_booking(e.holder),
    )


@to_contract.register
def _(e: UnknownSlotRequest.Released) -> ContractEvent:
    return c.SlotReleased(
        slot_id=e.slot_id,
        request_id=e.request_id,
        quantity=0,
        released_at=e.timestamp,
        holder=_booking(e.holder),
    )


@to_contract.register
def _(e: Package.Composed) -> ContractEvent:
    parts = [PackagePart.from_dict(p) for p in e.parts]
    return c.PackageComposed(
        package_id=str(e.originator_id),
        title_it=e.title["it"],
        title_en=e.title.get("en"),
        price_cents=e.price_cents,
        parts=[
            c.PackagePart(
                offering_id=str(p.offering_id),
                provider_id=p.provider_id,
                order=p.order,
                offset_days=p.offset_days,
                duration_days=p.duration_days,
                required=p.required,
            )
            for p in parts
        ],
        composed_at=e.timestamp,
    )
