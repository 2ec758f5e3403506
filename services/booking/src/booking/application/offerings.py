"""Where the booking learns an offering's facts (price, provider, tax category, instant or
acceptance deadline, cancellation policy, the slot's times): from the catalog's events, kept
in the booking's own records (:mod:`booking.domain.catalog_facts`) by its consumer. The
application asks only the :class:`OfferingFacts` protocol.

The price a booking keeps is the one in force when it is made (a later change does not touch
it); a caller that sends the price it saw is refused if the catalog's is now another. Facts in
the request are a fallback for an offering the catalog has not published to the booking
service (an older catalog, a test), read only where the service is set to trust them
(``request_facts_fallback``): in production a client cannot name its own price.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from servicekit.domain import Conflict, Gone, Invalid, NotFound

from booking.application.commands import CancellationPolicyInput, ComponentInput
from booking.domain.catalog_facts import OfferingRecord, SlotRecord
from booking.domain.components import CancellationPolicy, ComponentSpec

if TYPE_CHECKING:
    from booking.application.app import BookingApplication


class OfferingUnknown(Invalid):
    """The catalog has not published this offering or slot (to the booking service)."""

    code = "offering_unknown"


class OfferingWithdrawn(Gone):
    code = "offering_withdrawn"


class PriceChanged(Conflict):
    """The price the caller saw is no longer the offering's."""

    code = "price_changed"


class OfferingMismatch(Invalid):
    """The request names a provider or slot that is not the offering's."""

    code = "offering_mismatch"


class OfferingFacts(Protocol):
    def spec_for(self, item: ComponentInput, now: datetime) -> ComponentSpec:
        """The component as the booking will hold it; a domain error if it cannot be."""
        ...

    def slot_times(
        self, offering_id: str, slot_id: str, asked: tuple[datetime | None, datetime | None]
    ) -> tuple[datetime, datetime]:
        """When a slot of the offering starts and ends (a move to it); a domain error if the
        slot is not the offering's."""
        ...


class FactsFromRequest:
    """The facts as the caller sent them (the domain checks them when the booking is made)."""

    def slot_times(
        self, offering_id: str, slot_id: str, asked: tuple[datetime | None, datetime | None]
    ) -> tuple[datetime, datetime]:
        return _asked_times(slot_id, asked)

    def spec_for(self, item: ComponentInput, now: datetime) -> ComponentSpec:
        if (
            item.provider_id is None
            or item.price_cents is None
            or item.category is None
            or item.starts_at is None
            or item.ends_at is None
        ):
            raise OfferingUnknown(
                f"offering {item.offering_id} (slot {item.slot_id}) is not in the catalog",
                offering_id=item.offering_id,
                slot_id=item.slot_id,
            )
        instant = bool(item.instant)
        policy = item.cancellation or CancellationPolicyInput()
        return ComponentSpec(
            offering_id=item.offering_id,
            provider_id=item.provider_id,
            slot_id=item.slot_id,
            starts_at=item.starts_at,
            ends_at=item.ends_at,
            price_cents=item.price_cents,
            category=item.category,
            instant=instant,
            acceptance_hours=(
                item.acceptance_hours if item.acceptance_hours is not None else 0 if instant else 24
            ),
            policy=CancellationPolicy(
                free_until_hours=policy.free_until_hours,
                fee_percent=policy.fee_percent,
                no_show_fee_percent=policy.no_show_fee_percent,
            ),
            order=item.order,
        )


def _asked_times(
    slot_id: str, asked: tuple[datetime | None, datetime | None]
) -> tuple[datetime, datetime]:
    starts, ends = asked
    if starts is None or ends is None:
        raise OfferingUnknown(f"slot {slot_id} is not in the catalog", slot_id=slot_id)
    return starts, ends


class CatalogFacts:
    """The catalog's facts as the booking service's consumer recorded them; the request's
    only as the fallback described above."""

    def __init__(self, app: BookingApplication, request_fallback: bool = False) -> None:
        self.app = app
        self.fallback = FactsFromRequest() if request_fallback else None

    def slot_times(
        self, offering_id: str, slot_id: str, asked: tuple[datetime | None, datetime | None]
    ) -> tuple[datetime, datetime]:
        try:
            slot = self.app.get_aggregate(SlotRecord.create_id(slot_id), SlotRecord, "slot")
        except NotFound:
            if self.fallback is not None:
                return _asked_times(slot_id, asked)
            raise OfferingUnknown(
                f"slot {slot_id} is not (yet) in the catalog", slot_id=slot_id
            ) from None
        if slot.offering_id != offering_id:
            raise OfferingMismatch(f"slot {slot_id} is not a slot of {offering_id}")
        return slot.starts_at, slot.ends_at

    def spec_for(self, item: ComponentInput, now: datetime) -> ComponentSpec:
        try:
            offering = self.app.get_aggregate(
                OfferingRecord.create_id(item.offering_id), OfferingRecord, "offering"
            )
            slot = self.app.get_aggregate(SlotRecord.create_id(item.slot_id), SlotRecord, "slot")
        except NotFound:
            if self.fallback is not None:
                return self.fallback.spec_for(item, now)
            raise OfferingUnknown(
                f"offering {item.offering_id} with slot {item.slot_id} is not (yet) in the catalog",
                offering_id=item.offering_id,
                slot_id=item.slot_id,
            ) from None
        if offering.withdrawn:
            raise OfferingWithdrawn(f"offering {item.offering_id} was withdrawn")
        if slot.offering_id != offering.offering_id:
            raise OfferingMismatch(f"slot {item.slot_id} is not a slot of {item.offering_id}")
        if item.provider_id is not None and item.provider_id != offering.provider_id:
            raise OfferingMismatch(f"offering {item.offering_id} is not {item.provider_id}'s")
        price = offering.price_at(now)
        if item.price_cents is not None and item.price_cents != price:
            raise PriceChanged(
                f"offering {item.offering_id} costs {price} cents now, not {item.price_cents}",
                offering_id=item.offering_id,
                price_cents=price,
            )
        terms = offering.terms
        return ComponentSpec(
            offering_id=offering.offering_id,
            provider_id=offering.provider_id,
            slot_id=slot.slot_id,
            starts_at=slot.starts_at,
            ends_at=slot.ends_at,
            price_cents=price,
            category=offering.category,
            instant=terms["instant"],
            acceptance_hours=0 if terms["instant"] else terms["acceptance_hours"],
            policy=CancellationPolicy(
                free_until_hours=terms["free_until_hours"],
                fee_percent=terms["fee_percent"],
                no_show_fee_percent=terms["no_show_fee_percent"],
            ),
            order=item.order,
        )
