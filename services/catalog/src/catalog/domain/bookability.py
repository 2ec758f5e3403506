"""What can be booked: a published offering of an accredited provider, nothing else.

These rules span two aggregates (an offering and its provider), so they live here rather than in
either; the application reads both fresh from the store before it asks.
"""

from __future__ import annotations

from catalog.domain.errors import NotBookable, OfferingWithdrawn
from catalog.domain.offering import Offering
from catalog.domain.provider import Provider


def is_bookable(offering: Offering, provider: Provider) -> bool:
    return provider.bookable and offering.status == "published"


def check_bookable(offering: Offering, provider: Provider) -> None:
    """Places of the offering may be held (:class:`NotBookable` says why not)."""
    if not provider.bookable:
        raise NotBookable(
            f"provider {provider.provider_id} is {provider.status}: its offerings cannot be booked"
        )
    if offering.status != "published":
        raise NotBookable(f"offering {offering.id} is {offering.status}: it cannot be booked")


def booking_refusal(offering: Offering, provider: Provider) -> tuple[str, str] | None:
    """Why a booking's hold of the offering is refused, as (code, reason); None: bookable.
    The same rules as :func:`check_bookable`, told as a refusal the booking saga hears."""
    if offering.status == "withdrawn":
        return "offering_withdrawn", f"offering {offering.id} was withdrawn by its provider"
    if offering.status != "published" or not provider.bookable:
        try:
            check_bookable(offering, provider)
        except NotBookable as refusal:
            return NotBookable.code, str(refusal)
    return None


def check_may_publish(provider: Provider) -> None:
    """Only an accredited provider publishes offerings."""
    if not provider.bookable:
        raise NotBookable(
            f"provider {provider.provider_id} is {provider.status}: only an accredited "
            "provider publishes offerings"
        )


def check_not_withdrawn(offering: Offering) -> None:
    """A withdrawn offering left the marketplace for good: it has no slots to show
    (:class:`OfferingWithdrawn`, 410)."""
    if offering.status == "withdrawn":
        raise OfferingWithdrawn(
            f"offering {offering.id} was withdrawn by its provider: its slots can no longer "
            "be booked",
            offering_id=str(offering.id),
        )
