"""What the booking knows of the catalog: the offerings and slots it published (its events on
``benecomune.catalog``: ``OfferingPublished`` with the offering's terms, ``OfferingPriceChanged``,
``OfferingWithdrawn``, ``SlotOpened``), kept as small records by the booking's consumer, with its
tracking positions, in one transaction. A booking takes its components' facts from them: the
price in force when it is made (and keeps it), the provider, the tax category, instant or the
provider's acceptance hours, the cancellation policy, the slot's times."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import event
from servicekit.domain import Aggregate

CATALOG_NAMESPACE = UUID("7c41e0a2-5b8e-4f0c-9a6d-3e2b1f9c8d57")
# The catalog's terms for an offering published before terms existed (see OfferingPublished).
DEFAULT_TERMS: dict[str, Any] = {
    "instant": False,
    "acceptance_hours": 24,
    "free_until_hours": 48,
    "fee_percent": 50,
    "no_show_fee_percent": 100,
}


class OfferingRecord(Aggregate):
    """An offering as the catalog published it, with its price history."""

    class Published(Aggregate.Created):
        offering_id: str
        provider_id: str
        category: str
        price_cents: int
        terms: dict[str, Any]
        at: datetime

    class Republished(Aggregate.Event):
        provider_id: str
        category: str
        price_cents: int
        terms: dict[str, Any]
        at: datetime

    class PriceChanged(Aggregate.Event):
        price_cents: int
        effective_from: datetime

    class Withdrawn(Aggregate.Event):
        at: datetime

    @staticmethod
    def create_id(offering_id: str) -> UUID:
        return uuid.uuid5(CATALOG_NAMESPACE, f"offering/{offering_id}")

    @event(Published)
    def __init__(
        self,
        offering_id: str,
        provider_id: str,
        category: str,
        price_cents: int,
        terms: dict[str, Any],
        at: datetime,
    ) -> None:
        self.offering_id = offering_id
        self.withdrawn = False
        self._set(provider_id, category, price_cents, terms, at)

    def _set(
        self, provider_id: str, category: str, price_cents: int, terms: dict[str, Any], at: datetime
    ) -> None:
        self.provider_id = provider_id
        self.category = category
        self.terms = {**DEFAULT_TERMS, **terms}
        self.prices: list[tuple[datetime, int]] = [(at, price_cents)]

    def republish(
        self, provider_id: str, category: str, price_cents: int, terms: dict[str, Any], at: datetime
    ) -> None:
        self._republished(provider_id, category, price_cents, terms, at)

    @event(Republished)
    def _republished(
        self, provider_id: str, category: str, price_cents: int, terms: dict[str, Any], at: datetime
    ) -> None:
        self.withdrawn = False
        self._set(provider_id, category, price_cents, terms, at)

    def change_price(self, price_cents: int, effective_from: datetime) -> None:
        if (effective_from, price_cents) not in self.prices:
            self._price_changed(price_cents, effective_from)

    @event(PriceChanged)
    def _price_changed(self, price_cents: int, effective_from: datetime) -> None:
        self.prices.append((effective_from, price_cents))

    def withdraw(self, at: datetime) -> None:
        if not self.withdrawn:
            self._withdrawn(at)

    @event(Withdrawn)
    def _withdrawn(self, at: datetime) -> None:
        self.withdrawn = True

    def price_at(self, moment: datetime) -> int:
        """The price in force at ``moment``: the latest change (in the catalog's order) whose
        ``effective_from`` has come; the published price before any."""
        current = self.prices[0][1]
        for since, price in self.prices:
            if since <= moment:
                current = price
        return current


class SlotRecord(Aggregate):
    """A slot of an offering as the catalog opened it (its places are the catalog's to hold)."""

    class Opened(Aggregate.Created):
        slot_id: str
        offering_id: str
        provider_id: str
        starts_at: datetime
        ends_at: datetime

    @staticmethod
    def create_id(slot_id: str) -> UUID:
        return uuid.uuid5(CATALOG_NAMESPACE, f"slot/{slot_id}")

    @event(Opened)
    def __init__(
        self,
        slot_id: str,
        offering_id: str,
        provider_id: str,
        starts_at: datetime,
        ends_at: datetime,
    ) -> None:
        self.slot_id = slot_id
        self.offering_id = offering_id
        self.provider_id = provider_id
        self.starts_at = starts_at
        self.ends_at = ends_at
