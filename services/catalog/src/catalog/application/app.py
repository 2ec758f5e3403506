"""The catalog application as the kit runs it and the routes call it: the store
(:mod:`catalog.application.store`) with one method per command and query, each handing over to
its handler (:mod:`catalog.application.handlers`) or its view (:mod:`catalog.application.views`).
Nothing else happens here: to change a rule, look in ``catalog.domain``; to change what a
command fetches or saves, in its handler.

Its policy takes the booking saga's requests from ``benecomune.booking`` (slot holds,
confirmations, releases) to the slots' handlers; every other event there is tracked and ignored.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from benecomune_contracts import booking
from eventsourcing.dispatch import singledispatchmethod
from servicekit.messages import Processing

from catalog.adapters.contract_mapping import to_contract
from catalog.adapters.read_model import ProviderPage, ProviderQuery, SearchPage, SearchQuery
from catalog.application import commands as cmd
from catalog.application import views
from catalog.application.handlers import merchants, offerings, packages, providers, slots
from catalog.application.store import CatalogStore
from catalog.domain.contacts import ContactPerson
from catalog.domain.offering import Price
from catalog.domain.package import Package
from catalog.domain.provider import Provider
from catalog.domain.slot import Hold


class CatalogApplication(CatalogStore):
    contract_mapper = to_contract

    # --- providers and merchants --------------------------------------------------------------

    def register_provider(self, command: cmd.RegisterProvider, by: str | None = None) -> str:
        return providers.register_provider(self, command, by)

    def update_contacts(self, provider_id: str, command: cmd.UpdateContacts, by: str) -> list[str]:
        return providers.update_contacts(self, provider_id, command, by)

    def accredit_provider(self, provider_id: str, by: str) -> None:
        providers.accredit_provider(self, provider_id, by)

    def suspend_provider(self, provider_id: str, command: cmd.SuspendProvider, by: str) -> None:
        providers.suspend_provider(self, provider_id, command, by)

    def reinstate_provider(self, provider_id: str, by: str) -> None:
        providers.reinstate_provider(self, provider_id, by)

    def add_certification(
        self, provider_id: str, command: cmd.AddCertification, by: str | None = None
    ) -> None:
        providers.add_certification(self, provider_id, command, by)

    def affiliate_merchant(
        self, provider_id: str, command: cmd.AffiliateMerchant, by: str | None = None
    ) -> None:
        merchants.affiliate_merchant(self, provider_id, command, by)

    def contact_person(self, provider: Provider) -> ContactPerson | None:
        return views.contact_person(self, provider)

    def provider_history(self, provider_id: str) -> list[dict[str, Any]]:
        return views.provider_history(self, provider_id)

    def providers(self, query: ProviderQuery) -> ProviderPage:
        return views.providers(self, query)

    def merchants(self, goods_category: str | None = None) -> list[dict[str, Any]]:
        return views.merchants(self, goods_category)

    # --- offerings ----------------------------------------------------------------------------

    def draft_offering(self, provider_id: str, command: cmd.DraftOffering) -> UUID:
        return offerings.draft_offering(self, provider_id, command)

    def publish_offering(
        self, offering_id: UUID, command: cmd.PublishOffering | None = None
    ) -> None:
        offerings.publish_offering(self, offering_id, command)

    def change_price(
        self, offering_id: UUID, command: cmd.ChangePrice, now: datetime | None = None
    ) -> None:
        offerings.change_price(self, offering_id, command, now)

    def withdraw_offering(self, offering_id: UUID, command: cmd.WithdrawOffering) -> None:
        offerings.withdraw_offering(self, offering_id, command)

    def price_at(self, offering_id: UUID, moment: datetime) -> Price:
        return views.price_at(self, offering_id, moment)

    def search(self, query: SearchQuery, now: datetime | None = None) -> SearchPage:
        return views.search(self, query, now)

    # --- slots --------------------------------------------------------------------------------

    def open_slot(self, offering_id: UUID, command: cmd.OpenSlot) -> UUID:
        return slots.open_slot(self, offering_id, command)

    def open_weekly_slots(self, offering_id: UUID, command: cmd.OpenWeeklySlots) -> list[UUID]:
        return slots.open_weekly_slots(self, offering_id, command)

    def hold_slot(
        self, slot_id: UUID, command: cmd.HoldSlot, holder: str, now: datetime | None = None
    ) -> Hold:
        return slots.hold_slot(self, slot_id, command, holder, now)

    async def hold_slot_async(
        self, slot_id: UUID, command: cmd.HoldSlot, holder: str, now: datetime | None = None
    ) -> Hold:
        return await slots.hold_slot_async(self, slot_id, command, holder, now)

    def confirm_hold(
        self, slot_id: UUID, request_id: str, holder: str, now: datetime | None = None
    ) -> Hold:
        return slots.confirm_hold(self, slot_id, request_id, holder, now)

    def release_hold(self, slot_id: UUID, request_id: str, holder: str) -> Hold:
        return slots.release_hold(self, slot_id, request_id, holder)

    def slots(self, offering_id: UUID, from_day: date, now: datetime | None = None) -> list[Any]:
        return views.slots(self, offering_id, from_day, now)

    # --- the booking saga's requests (by event) -----------------------------------------------

    @singledispatchmethod
    def policy(self, message: Any, processing: Any) -> None:
        """Booking events that ask nothing of the catalog are tracked and ignored."""

    @policy.register
    def _(self, request: booking.SlotHoldRequested, processing: Processing) -> None:
        slots.booking_hold(self, request, processing)

    @policy.register
    def _(self, request: booking.SlotConfirmRequested, processing: Processing) -> None:
        slots.booking_confirm(self, request, processing)

    @policy.register
    def _(self, request: booking.SlotReleaseRequested, processing: Processing) -> None:
        slots.booking_release(self, request, processing)

    # --- packages -----------------------------------------------------------------------------

    def compose_package(self, command: cmd.ComposePackage, by: str) -> UUID:
        return packages.compose_package(self, command, by)

    def package_price_cents(self, package: Package, moment: datetime | None = None) -> int:
        return views.package_price_cents(self, package, moment)

    def packages(self) -> list[dict[str, Any]]:
        return views.packages(self)
