"""The catalog's read side: the search and every list read the read model
(:mod:`catalog.adapters.read_model`), caught up with the log first, so a query sees every write
made before it. Reads of one aggregate by id (a provider, an offering, a package, a provider's
history) are the store's ``get_*``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from catalog.adapters.read_model import ProviderPage, ProviderQuery, SearchPage, SearchQuery
from catalog.application.contact_persons import open_contact_person
from catalog.application.store import CatalogStore, now_utc
from catalog.domain.bookability import check_not_withdrawn, is_bookable
from catalog.domain.contacts import ContactPerson
from catalog.domain.offering import Price
from catalog.domain.package import Package
from catalog.domain.provider import Provider
from catalog.domain.provider_history import provider_history as history_of


def search(store: CatalogStore, query: SearchQuery, now: datetime | None = None) -> SearchPage:
    return store.fresh_read_model().search(query, now)


def providers(store: CatalogStore, query: ProviderQuery) -> ProviderPage:
    return store.fresh_read_model().providers(query)


def merchants(store: CatalogStore, goods_category: str | None = None) -> list[dict[str, Any]]:
    return store.fresh_read_model().merchants(goods_category)


def packages(store: CatalogStore) -> list[dict[str, Any]]:
    return store.fresh_read_model().packages()


def slots(
    store: CatalogStore, offering_id: UUID, from_day: date, now: datetime | None = None
) -> list[dict[str, Any]]:
    """The offering's slots from ``from_day`` on, with the places still free: none while the
    offering cannot be booked (a draft, or its provider not accredited); a withdrawn offering
    has no slots to offer (:class:`OfferingWithdrawn`, 410)."""
    offering = store.get_offering(offering_id)
    check_not_withdrawn(offering)
    listed = store.fresh_read_model().slots_for(str(offering_id), from_day, now or now_utc())
    if not is_bookable(offering, store.get_provider(offering.provider_id)):
        return [{**slot, "available": 0} for slot in listed]
    return listed


def provider_history(store: CatalogStore, provider_id: str) -> list[dict[str, Any]]:
    """The provider's lifecycle as its own events tell it, oldest first: who did what when."""
    provider = store.get_provider(provider_id)
    return history_of(list(store.repository.event_store.get(provider.id)))


def contact_person(store: CatalogStore, provider: Provider) -> ContactPerson | None:
    """The provider's contact person, or None when it has none or it was erased."""
    return open_contact_person(store.vault, provider)


def price_at(store: CatalogStore, offering_id: UUID, moment: datetime) -> Price:
    return store.get_offering(offering_id).price_valid_at(moment)


def package_price_cents(
    store: CatalogStore, package: Package, moment: datetime | None = None
) -> int:
    """The package's own price, or the sum of its parts' prices at ``moment``."""
    if package.price_cents is not None:
        return package.price_cents
    at = (moment or now_utc()).astimezone(UTC)
    return sum(price_at(store, p.offering_id, at).price_cents for p in package.parts)
