"""Where the booking learns an offering's facts (price, provider, tax category, instant or
acceptance deadline, cancellation policy). Today they come in the request and are validated
there; later from the catalog's events (``OfferingPublished``, ``OfferingPriceChanged``,
``SlotOpened``...) in a read model of offerings. The application asks only this protocol, so
that swap is one class: a catalog-backed ``OfferingFacts`` replaces :class:`FactsFromRequest`.
"""

from __future__ import annotations

from typing import Protocol

from booking.application.commands import ComponentInput
from booking.domain.components import CancellationPolicy, ComponentSpec


class OfferingFacts(Protocol):
    def spec_for(self, item: ComponentInput) -> ComponentSpec:
        """The component as the booking will hold it; a domain error if it cannot be."""
        ...


class FactsFromRequest:
    """The facts as the caller sent them (the domain checks them when the booking is made)."""

    def spec_for(self, item: ComponentInput) -> ComponentSpec:
        policy = item.cancellation
        return ComponentSpec(
            offering_id=item.offering_id,
            provider_id=item.provider_id,
            slot_id=item.slot_id,
            starts_at=item.starts_at,
            ends_at=item.ends_at,
            price_cents=item.price_cents,
            category=item.category,
            instant=item.instant,
            acceptance_hours=item.acceptance_hours,
            policy=CancellationPolicy(
                free_until_hours=policy.free_until_hours,
                fee_percent=policy.fee_percent,
                no_show_fee_percent=policy.no_show_fee_percent,
            ),
            order=item.order,
        )
