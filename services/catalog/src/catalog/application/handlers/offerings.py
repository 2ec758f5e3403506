"""Offerings: a provider drafts, publishes, reprices and withdraws its own."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from servicekit.store import retried

from catalog.application import commands as cmd
from catalog.application.store import CatalogStore, now_utc
from catalog.domain.bookability import check_may_publish
from catalog.domain.offering import Offering, price_effective_from
from catalog.domain.terms import BookingTerms


def draft_offering(store: CatalogStore, provider_id: str, command: cmd.DraftOffering) -> UUID:
    provider = store.get_provider(provider_id)
    municipalities = command.municipalities or provider.municipalities
    for istat in municipalities:
        store.check_municipality(istat)
    provider.check_serves(municipalities)
    offering = Offering.draft(
        provider_id=provider.provider_id,
        title=command.titles(),
        description=command.descriptions(),
        category=command.category,
        delivery_mode=command.delivery_mode,
        price_cents=command.price_cents,
        unit=command.unit,
        municipalities=municipalities,
        terms=command.terms.terms(),
    )
    store.save(offering)
    return offering.id


def publish_offering(
    store: CatalogStore, offering_id: UUID, command: cmd.PublishOffering | None
) -> None:
    terms = command.terms.terms() if command is not None and command.terms is not None else None
    _publish(store, offering_id, terms)


@retried
def _publish(store: CatalogStore, offering_id: UUID, terms: BookingTerms | None) -> None:
    offering = store.get_offering(offering_id)
    check_may_publish(store.get_provider(offering.provider_id))
    offering.publish(terms)
    store.save(offering)


def change_price(
    store: CatalogStore, offering_id: UUID, command: cmd.ChangePrice, now: datetime | None
) -> None:
    effective = price_effective_from(command.effective_from, now or now_utc())
    _reprice(store, offering_id, command, effective)


@retried
def _reprice(
    store: CatalogStore, offering_id: UUID, command: cmd.ChangePrice, effective: datetime
) -> None:
    offering = store.get_offering(offering_id)
    offering.change_price(command.price_cents, command.unit, effective)
    store.save(offering)


@retried
def withdraw_offering(
    store: CatalogStore, offering_id: UUID, command: cmd.WithdrawOffering
) -> None:
    offering = store.get_offering(offering_id)
    offering.withdraw(command.reason)
    store.save(offering)
