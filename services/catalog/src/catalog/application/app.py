"""The catalog application: get → change → save on the event-sourced aggregates, and the search
read model kept up to date from the service's own notification log.

Slot holds are the hot path (many bookings at once on a popular slot): they are group-committed
by the kit, and any collision with another process's write is retried on fresh state, so a slot
is never oversold.
"""

from __future__ import annotations

import dataclasses
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError
from servicekit.batching import UnitOfWork
from servicekit.domain import Conflict
from servicekit.projection import ReadModelStore, notifications_of
from servicekit.settings import ServiceSettings
from servicekit.store import ServiceApplication
from servicekit.vault import PersonalDataVault, VaultError

from catalog.adapters.read_model import (
    ProviderPage,
    ProviderQuery,
    ReadModel,
    SearchPage,
    SearchQuery,
)
from catalog.application import commands as cmd
from catalog.domain.contacts import (
    Address,
    ContactPerson,
    check_address,
    check_contact_person,
    check_email,
    check_phone,
    check_website,
)
from catalog.domain.errors import (
    AlreadyRegistered,
    HoldNotActive,
    InvalidPackage,
    InvalidPrice,
    InvalidSlot,
    NotBookable,
    OfferingWithdrawn,
    SlotFull,
    UnknownMunicipality,
)
from catalog.domain.offering import Offering, Price
from catalog.domain.package import Package, PackagePart
from catalog.domain.provider import Provider, TaxIdentityIndex, provider_aggregate_id
from catalog.domain.slot import MAX_DAYS_AHEAD, Hold, Slot, slot_id_for
from catalog.settings import CatalogSettings

MAX_SLOTS_PER_CALL = 1000


def now_utc() -> datetime:
    return datetime.now(UTC)


class CatalogApplication(ServiceApplication):
    def __init__(self, settings: ServiceSettings, env: dict[str, Any] | None = None) -> None:
        if not isinstance(settings, CatalogSettings):
            raise TypeError("the catalog application needs CatalogSettings")
        self.catalog_settings = settings
        super().__init__(settings, env)
        self._read_model: ReadModel | None = None
        self._read_model_lock = threading.Lock()
        self._vault: PersonalDataVault | None = None
        self._vault_lock = threading.Lock()

    def close(self) -> None:
        if self._read_model is not None:
            self._read_model.close()
        if self._vault is not None:
            self._vault.close()
        super().close()

    @property
    def vault(self) -> PersonalDataVault:
        """Where contact persons' personal data is sealed (beside the event store)."""
        if self._vault is None:
            with self._vault_lock:
                if self._vault is None:
                    self._vault = PersonalDataVault.from_settings(self.catalog_settings)
        return self._vault

    # --- providers ----------------------------------------------------------------------------

    def register_provider(self, command: cmd.RegisterProvider, by: str | None = None) -> str:
        for istat in command.municipalities:
            self.check_municipality(istat)
        address = self._address(command.address)
        person = self._contact_person(command.contact_person)

        def application(subject: str | None, sealed: str | None) -> Provider:
            return Provider.apply(
                provider_id=command.provider_id,
                legal_name=command.legal_name,
                kind=command.kind,
                vat_number=command.vat_number,
                fiscal_code=command.fiscal_code,
                municipalities=command.municipalities,
                certifications=command.certifications,
                contact_email=command.contact_email,
                phone=command.phone,
                website=command.website,
                address=address,
                contact_person_subject=subject,
                contact_person_sealed=sealed,
                by=by,
            )

        # Every rule is checked before the contact person is sealed (a refused application
        # leaves nothing in the vault), then the application is made with the sealed person.
        provider = application(None, None)
        subject, sealed = self._seal(command.provider_id, person) if person else (None, None)
        try:
            if subject is not None:
                provider = application(subject, sealed)
            # One index entry per tax identity: a second provider with the same one collides.
            keys = {f"vat:{provider.vat_number}", f"cf:{provider.fiscal_code}"}
            keys.discard("vat:None")
            keys.discard("cf:None")
            if provider.vat_number and provider.fiscal_code == provider.vat_number:
                keys.discard(f"cf:{provider.fiscal_code}")
            entries = [
                TaxIdentityIndex(key=k, provider_id=provider.provider_id) for k in sorted(keys)
            ]
            try:
                self.save(provider, *entries)
            except IntegrityError:
                raise AlreadyRegistered(
                    f"a provider with id {command.provider_id} or with the same VAT number or "
                    "fiscal code is already registered"
                ) from None
        except BaseException:
            if subject is not None:  # refused: the person's sealed data is no one's
                self.vault.erase(subject)
            raise
        return provider.provider_id

    def update_contacts(self, provider_id: str, command: cmd.UpdateContacts, by: str) -> list[str]:
        """Change the contacts named in the command (``None`` clears one); returns the names of
        those that changed. A replaced or removed contact person's personal data is erased."""
        given = command.model_fields_set
        # Checked before anything is sealed, so that a refusal leaves nothing in the vault.
        for value, check in (
            (command.contact_email, check_email),
            (command.phone, check_phone),
            (command.website, check_website),
        ):
            if value:
                check(value)
        address = self._address(command.address) if "address" in given else None
        person = self._contact_person(command.contact_person) if "contact_person" in given else None
        sealed_now: tuple[str, str] | None = None

        def change() -> tuple[list[str], str | None, str | None]:
            nonlocal sealed_now
            provider = self.get_provider(provider_id)
            subject = provider.contact_person_subject
            sealed = provider.contact_person_sealed
            if "contact_person" in given:
                if person is None:
                    subject = sealed = None
                elif self.contact_person(provider) != person:
                    sealed_now = sealed_now or self._seal(provider_id, person)
                    subject, sealed = sealed_now
            before = provider.contact_person_subject
            changed = provider.update_contacts(
                email=command.contact_email if "contact_email" in given else provider.contact_email,
                phone=command.phone if "phone" in given else provider.phone,
                website=command.website if "website" in given else provider.website,
                address=address
                if "address" in given
                else (Address.from_dict(provider.address) if provider.address else None),
                contact_person_subject=subject,
                contact_person_sealed=sealed,
                by=by,
            )
            if changed:
                self.save(provider)
            return changed, before, subject

        try:
            changed, before, after = self.retrying(change)
        except BaseException:
            if sealed_now is not None:
                self.vault.erase(sealed_now[0])
            raise
        if sealed_now is not None and sealed_now[0] != after:
            self.vault.erase(sealed_now[0])  # sealed for a retry that did not need it
        if before is not None and before != after:
            self.vault.erase(before)  # the person is no longer the contact: forget them
        return changed

    def contact_person(self, provider: Provider) -> ContactPerson | None:
        """The provider's contact person, or None when it has none or it was erased."""
        if provider.contact_person_subject is None or provider.contact_person_sealed is None:
            return None
        try:
            opened = self.vault.open(
                provider.contact_person_subject, provider.contact_person_sealed
            )
        except VaultError:
            return None
        return ContactPerson.from_dict(opened) if opened is not None else None

    def _seal(self, provider_id: str, person: ContactPerson) -> tuple[str, str]:
        # A subject per person and provider: replacing or removing the person erases it alone.
        subject = f"provider:{provider_id}:contact:{uuid.uuid4().hex}"
        return subject, self.vault.seal(subject, person.as_dict())

    def _address(self, given: cmd.AddressInput | None) -> Address | None:
        if given is None:
            return None
        self.check_municipality(given.municipality_istat)
        return check_address(given.street, given.municipality_istat, given.postcode)

    @staticmethod
    def _contact_person(given: cmd.ContactPersonInput | None) -> ContactPerson | None:
        if given is None:
            return None
        return check_contact_person(given.name, given.role, given.phone, given.email)

    def provider_history(self, provider_id: str) -> list[dict[str, Any]]:
        """The provider's lifecycle as its own events tell it, oldest first: who did what when.
        Contact changes name the fields, never their values."""
        provider = self.get_provider(provider_id)
        events: list[Any] = list(self.repository.event_store.get(provider.id))
        return [
            {"version": e.originator_version, "at": e.timestamp, **history_entry(e)} for e in events
        ]

    def get_provider(self, provider_id: str) -> Provider:
        return self.get_aggregate(provider_aggregate_id(provider_id), Provider, "provider")

    def accredit_provider(self, provider_id: str, by: str) -> None:
        self._change_provider(provider_id, lambda p: p.accredit(by))

    def suspend_provider(self, provider_id: str, command: cmd.SuspendProvider, by: str) -> None:
        self._change_provider(
            provider_id, lambda p: p.suspend(command.reason_code, command.reason, by)
        )

    def reinstate_provider(self, provider_id: str, by: str) -> None:
        self._change_provider(provider_id, lambda p: p.reinstate(by))

    def add_certification(
        self, provider_id: str, command: cmd.AddCertification, by: str | None = None
    ) -> None:
        self._change_provider(provider_id, lambda p: p.add_certification(command.certification, by))

    def affiliate_merchant(
        self, provider_id: str, command: cmd.AffiliateMerchant, by: str | None = None
    ) -> None:
        self._change_provider(
            provider_id, lambda p: p.affiliate_as_merchant(command.goods_categories, by)
        )

    def _change_provider(self, provider_id: str, change: Any) -> None:
        def command() -> None:
            provider = self.get_provider(provider_id)
            change(provider)
            self.save(provider)

        self.retrying(command)

    def check_municipality(self, istat_code: str) -> None:
        if not self.territory.covers(istat_code):
            raise UnknownMunicipality(
                f"municipality {istat_code} is not part of territory {self.territory.id}"
            )

    # --- offerings ----------------------------------------------------------------------------

    def draft_offering(self, provider_id: str, command: cmd.DraftOffering) -> UUID:
        provider = self.get_provider(provider_id)
        municipalities = command.municipalities or provider.municipalities
        for istat in municipalities:
            self.check_municipality(istat)
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
        )
        self.save(offering)
        return offering.id

    def get_offering(self, offering_id: UUID) -> Offering:
        return self.get_aggregate(offering_id, Offering, "offering")

    def publish_offering(self, offering_id: UUID) -> None:
        def change() -> None:
            offering = self.get_offering(offering_id)
            provider = self.get_provider(offering.provider_id)
            if not provider.bookable:
                raise NotBookable(
                    f"provider {provider.provider_id} is {provider.status}: only an accredited "
                    "provider publishes offerings"
                )
            offering.publish()
            self.save(offering)

        self.retrying(change)

    def change_price(
        self, offering_id: UUID, command: cmd.ChangePrice, now: datetime | None = None
    ) -> None:
        at = now or now_utc()
        effective = (command.effective_from or at).astimezone(UTC)
        if effective < at - timedelta(minutes=5):
            raise InvalidPrice("a price change cannot take effect in the past")
        if effective > at + timedelta(days=MAX_DAYS_AHEAD):
            raise InvalidPrice(
                f"a price change takes effect at most {MAX_DAYS_AHEAD} days ahead: "
                f"{effective.isoformat()} is too far",
                latest=(at + timedelta(days=MAX_DAYS_AHEAD)).isoformat(timespec="seconds"),
            )

        def change() -> None:
            offering = self.get_offering(offering_id)
            offering.change_price(command.price_cents, command.unit, effective)
            self.save(offering)

        self.retrying(change)

    def withdraw_offering(self, offering_id: UUID, command: cmd.WithdrawOffering) -> None:
        def change() -> None:
            offering = self.get_offering(offering_id)
            offering.withdraw(command.reason)
            self.save(offering)

        self.retrying(change)

    def price_at(self, offering_id: UUID, moment: datetime) -> Price:
        try:
            at = moment.astimezone(UTC)
        except OverflowError:
            raise InvalidPrice(f"{moment.isoformat()} is out of range") from None
        price = self.get_offering(offering_id).price_at(at)
        if price is None:
            raise InvalidPrice(f"offering {offering_id} had no price at {moment.isoformat()}")
        return price

    # --- slots --------------------------------------------------------------------------------

    def open_slot(self, offering_id: UUID, command: cmd.OpenSlot) -> UUID:
        offering = self.get_offering(offering_id)
        offering.check_can_open_slots()
        slot = Slot.open(
            offering.id,
            offering.provider_id,
            command.starts_at.astimezone(UTC),
            command.ends_at.astimezone(UTC),
            command.capacity,
            now=now_utc(),
        )
        try:
            self.save(slot)
        except IntegrityError:
            raise Conflict(
                f"offering {offering_id} already has a slot starting at "
                f"{command.starts_at.isoformat()}"
            ) from None
        return slot.id

    def open_weekly_slots(self, offering_id: UUID, command: cmd.OpenWeeklySlots) -> list[UUID]:
        """Slots for every weekly time between the dates (territory's local time), skipping the
        exception dates and the slots that already exist; returns the new slots' ids."""
        offering = self.get_offering(offering_id)
        offering.check_can_open_slots()
        zone = self.territory.zoneinfo
        now = now_utc()
        today = now.astimezone(zone).date()
        if command.from_date < today:
            raise InvalidSlot(
                f"from_date {command.from_date.isoformat()} is in the past: weekly slots open "
                f"from today ({today.isoformat()}) on",
                today=today.isoformat(),
            )
        skip = set(command.except_dates)
        new: list[Slot] = []
        day = command.from_date
        while day <= command.to_date:
            if day not in skip:
                for weekly in command.weekly:
                    if weekly.weekday != day.weekday():
                        continue
                    starts = datetime.combine(day, weekly.start, tzinfo=zone).astimezone(UTC)
                    ends = starts + timedelta(minutes=weekly.duration_minutes)
                    if starts <= now or slot_id_for(offering.id, starts) in self.repository:
                        continue  # today's times already gone, or a slot already there
                    new.append(
                        Slot.open(
                            offering.id, offering.provider_id, starts, ends, command.capacity, now
                        )
                    )
                    if len(new) > MAX_SLOTS_PER_CALL:
                        raise InvalidPackage(f"at most {MAX_SLOTS_PER_CALL} slots at a time")
            day += timedelta(days=1)
        if new:
            try:
                self.save(*new)
            except IntegrityError:
                raise Conflict(
                    "slots were opened concurrently for these times; try again"
                ) from None
        return [s.id for s in new]

    def get_slot(self, slot_id: UUID) -> Slot:
        return self.get_aggregate(slot_id, Slot, "slot")

    def hold_slot(
        self, slot_id: UUID, command: cmd.HoldSlot, holder: str, now: datetime | None = None
    ) -> Hold:
        """Hold places for a pending booking. The same request id always gives the same answer:
        the hold granted first, or the refusal recorded first (409 slot_full)."""
        change = self._slot_hold(slot_id, command, holder, now or now_utc())
        return self._granted(slot_id, command, self.group_commit(change))

    async def hold_slot_async(
        self, slot_id: UUID, command: cmd.HoldSlot, holder: str, now: datetime | None = None
    ) -> Hold:
        """As ``hold_slot``, for the HTTP API: awaited, so a booking waiting for its batch to be
        stored holds no thread."""
        change = self._slot_hold(slot_id, command, holder, now or now_utc())
        return self._granted(slot_id, command, await self.group_commit_async(change))

    def _slot_hold(
        self, slot_id: UUID, command: cmd.HoldSlot, holder: str, at: datetime
    ) -> Callable[[UnitOfWork], Hold]:
        seconds = command.hold_seconds or self.catalog_settings.default_hold_seconds

        def change(uow: UnitOfWork) -> Hold:
            slot = uow.get(slot_id, Slot, "slot")
            known = slot.holds.get((holder, command.request_id))
            if known is None or known.status == "released":
                self.check_bookable(slot)
            hold = slot.hold(
                command.request_id, command.quantity, holder, at, timedelta(seconds=seconds)
            )
            return dataclasses.replace(hold)

        return change

    @staticmethod
    def _granted(slot_id: UUID, command: cmd.HoldSlot, hold: Hold) -> Hold:
        if hold.status == "refused":
            raise SlotFull(f"slot {slot_id} cannot hold {hold.quantity} places: {hold.reason}")
        if hold.status == "released":
            raise HoldNotActive(
                f"request {command.request_id} was released before its hold arrived"
            )
        return hold

    def check_bookable(self, slot: Slot) -> None:
        # Read fresh from the store, not through the group-commit unit of work: the writer keeps
        # aggregates warm between batches, and an aggregate only read (never saved) there
        # would not be refreshed by a collision, so a suspension could go unseen.
        offering = self.get_offering(slot.offering_id)
        provider = self.get_provider(slot.provider_id)
        if not provider.bookable:
            raise NotBookable(
                f"provider {provider.provider_id} is {provider.status}: its offerings cannot be "
                "booked"
            )
        if offering.status != "published":
            raise NotBookable(f"offering {offering.id} is {offering.status}: it cannot be booked")

    def confirm_hold(
        self, slot_id: UUID, request_id: str, holder: str, now: datetime | None = None
    ) -> Hold:
        """Confirm ``holder``'s hold for ``request_id`` (a request id is its holder's own)."""
        at = now or now_utc()

        def change(uow: UnitOfWork) -> Hold:
            hold = uow.get(slot_id, Slot, "slot").confirm(request_id, at, holder)
            return dataclasses.replace(hold)

        # Through the same writer as holds, so its warm copy of the slot stays current.
        return self.group_commit(change)

    def release_hold(self, slot_id: UUID, request_id: str, holder: str) -> Hold:
        def change(uow: UnitOfWork) -> Hold:
            hold = uow.get(slot_id, Slot, "slot").release(request_id, holder)
            return dataclasses.replace(hold)

        return self.group_commit(change)

    # --- packages -----------------------------------------------------------------------------

    def compose_package(self, command: cmd.ComposePackage, by: str) -> UUID:
        parts: list[PackagePart] = []
        for part in command.parts:
            try:
                offering = self.get_offering(UUID(part.offering_id))
            except ValueError:
                raise InvalidPackage(f"{part.offering_id!r} is not an offering id") from None
            provider = self.get_provider(offering.provider_id)
            if offering.status != "published" or not provider.bookable:
                raise InvalidPackage(
                    f"offering {offering.id} is {offering.status} and its provider "
                    f"{provider.status}: a package bundles only bookable offerings"
                )
            parts.append(
                PackagePart(
                    offering_id=offering.id,
                    provider_id=offering.provider_id,
                    order=part.order,
                    offset_days=part.offset_days,
                    duration_days=part.duration_days,
                    required=part.required,
                )
            )
        title = {"it": command.title_it, **({"en": command.title_en} if command.title_en else {})}
        description = {
            "it": command.description_it,
            **({"en": command.description_en} if command.description_en else {}),
        }
        package = Package.compose(title, description, command.price_cents, parts, by)
        self.save(package)
        return package.id

    def get_package(self, package_id: UUID) -> Package:
        return self.get_aggregate(package_id, Package, "package")

    def package_price_cents(self, package: Package, moment: datetime | None = None) -> int:
        """The package's own price, or the sum of its parts' prices at ``moment``."""
        if package.price_cents is not None:
            return package.price_cents
        at = (moment or now_utc()).astimezone(UTC)
        return sum(self.price_at(p.offering_id, at).price_cents for p in package.parts)

    # --- search -------------------------------------------------------------------------------

    @property
    def read_model(self) -> ReadModel:
        if self._read_model is None:
            with self._read_model_lock:
                if self._read_model is None:
                    self._read_model = ReadModel(
                        self.catalog_settings.read_model_database_url(),
                        schema=self.catalog_settings.read_model_schema(),
                    )
        return self._read_model

    def read_model_stores(self) -> list[ReadModelStore]:
        return [self.read_model]

    def catch_up(self) -> int:
        """Project the events saved since the read model's position (this process's and any
        other's); cheap when nothing is new."""
        return self.catch_up_read_models()

    def _notifications(self, start: int, limit: int) -> list[tuple[int, object]]:
        return notifications_of(self)(start, limit)

    def search(self, query: SearchQuery, now: datetime | None = None) -> SearchPage:
        self.catch_up()
        return self.read_model.search(query, now)

    def providers(self, query: ProviderQuery) -> ProviderPage:
        self.catch_up()
        return self.read_model.providers(query)

    def merchants(self, goods_category: str | None = None) -> list[dict[str, Any]]:
        self.catch_up()
        return self.read_model.merchants(goods_category)

    def packages(self) -> list[dict[str, Any]]:
        self.catch_up()
        return self.read_model.packages()

    def slots(self, offering_id: UUID, from_day: date, now: datetime | None = None) -> list[Any]:
        """The offering's slots from ``from_day`` on, with the places still free; a withdrawn
        offering has none to offer (:class:`OfferingWithdrawn`, 410)."""
        offering = self.get_offering(offering_id)
        if offering.status == "withdrawn":
            raise OfferingWithdrawn(
                f"offering {offering_id} was withdrawn by its provider: its slots can no longer "
                "be booked",
                offering_id=str(offering_id),
            )
        self.catch_up()
        return self.read_model.slots_for(str(offering_id), from_day, now or now_utc())


def history_entry(e: object) -> dict[str, Any]:
    """What a provider's event means in its history (``event`` and its details)."""
    if isinstance(e, Provider.Applied):
        return {
            "event": "applied",
            "by": e.by,
            "details": {"kind": e.kind, "municipalities": e.municipalities},
        }
    if isinstance(e, Provider.Accredited):
        return {"event": "accredited", "by": e.by, "details": {}}
    if isinstance(e, Provider.Suspended):
        return {
            "event": "suspended",
            "by": e.by,
            "details": {"reason_code": e.reason_code, "reason": e.reason},
        }
    if isinstance(e, Provider.Reinstated):
        return {"event": "reinstated", "by": e.by, "details": {}}
    if isinstance(e, Provider.CertificationAdded):
        return {
            "event": "certification_added",
            "by": e.by,
            "details": {"certification": e.certification},
        }
    if isinstance(e, Provider.MerchantAffiliated):
        return {
            "event": "merchant_affiliated",
            "by": e.by,
            "details": {"goods_categories": e.goods_categories},
        }
    if isinstance(e, Provider.ContactsUpdated):
        return {"event": "contacts_updated", "by": e.by, "details": {"changed": e.changed}}
    return {"event": type(e).__name__, "by": None, "details": {}}
