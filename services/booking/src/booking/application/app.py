"""The booking application: the store of bookings, the policy for the participants' answers,
the deadlines job and the queries. Commands are the small handlers of
:mod:`booking.application.handlers`; lists are answered by :mod:`booking.application.views`."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from benecomune_contracts import catalog, vouchers, wallet
from eventsourcing.dispatch import singledispatchmethod
from servicekit.domain import NotFound
from servicekit.messages import Processing
from servicekit.projection import ReadModelStore
from servicekit.settings import ServiceSettings
from servicekit.store import ServiceApplication

from booking.adapters.contract_mapping import to_contract
from booking.adapters.read_model import open_read_model
from booking.application import funds_answers, participants, views
from booking.application.offerings import CatalogFacts, OfferingFacts
from booking.domain.booking import Booking
from booking.domain.links import Delegation


class BookingApplication(ServiceApplication):
    contract_mapper = to_contract

    def __init__(self, settings: ServiceSettings, env: dict[str, Any] | None = None) -> None:
        super().__init__(settings, env)
        # Where offerings' facts come from: the catalog's events (the request's as a fallback
        # only where the settings trust them).
        self.offerings: OfferingFacts = CatalogFacts(
            self, request_fallback=getattr(settings, "request_facts_fallback", False)
        )

    # --- the read model -----------------------------------------------------------------------

    def open_read_model(self) -> ReadModelStore:
        return open_read_model(self.settings)

    # --- aggregates ---------------------------------------------------------------------------

    def get_booking(self, booking_id: UUID) -> Booking:
        return self.get_aggregate(booking_id, Booking, "booking")

    def is_delegate(self, beneficiary_id: str, subject_id: str) -> bool:
        """Whether ``subject_id`` is the beneficiary's current delegate (the wallet says)."""
        try:
            record = self.get_aggregate(
                Delegation.create_id(beneficiary_id), Delegation, "delegation"
            )
        except NotFound:
            return False
        return record.is_delegate(subject_id)

    # --- queries --------------------------------------------------------------------------------

    def bookings_of_beneficiary(
        self, beneficiary_id: str, caller: str, page: views.Page
    ) -> list[views.BookingRow]:
        return views.bookings_of_beneficiary(self.fresh_read_model(), beneficiary_id, caller, page)

    def bookings_of_social_workers(self, page: views.Page) -> list[views.BookingRow]:
        return views.bookings_requested_by_social_workers(self.fresh_read_model(), page)

    def provider_queue(
        self, provider_id: str, queue: views.Queue, page: views.Page
    ) -> list[views.BookingRow]:
        return views.provider_queue(self.fresh_read_model(), provider_id, queue, page)

    def provider_statement(
        self, provider_id: str, since: datetime, until: datetime, page: views.Page
    ) -> list[views.StatementLine]:
        return views.provider_statement(self.fresh_read_model(), provider_id, since, until, page)

    def operator_view(
        self, view: views.OperatorView, now: datetime, page: views.Page
    ) -> list[views.BookingRow]:
        return views.operator_view(self.fresh_read_model(), view, now, page)

    def bookings_with_deadlines_due(self, now: datetime) -> list[UUID]:
        return views.bookings_with_deadlines_due(self.fresh_read_model(), now)

    # --- the participants' answers (the kit's consumer) ----------------------------------------

    @singledispatchmethod
    def policy(self, message: Any, processing: Any) -> None:
        """Events the booking does not act on are tracked and otherwise ignored."""

    @policy.register(catalog.SlotHeld)
    @policy.register(catalog.SlotHoldRefused)
    @policy.register(catalog.SlotHoldConfirmed)
    @policy.register(catalog.SlotReleased)
    def _(self, message: Any, processing: Processing) -> None:
        participants.apply_slot_answer(self, message, processing)

    @policy.register(catalog.OfferingPublished)
    @policy.register(catalog.OfferingPriceChanged)
    @policy.register(catalog.OfferingWithdrawn)
    @policy.register(catalog.SlotOpened)
    def _(self, message: Any, processing: Processing) -> None:
        participants.record_offering(self, message, processing)

    @policy.register(wallet.FundsHeld)
    @policy.register(wallet.HoldRefused)
    @policy.register(wallet.RequestRefused)
    @policy.register(wallet.HoldCaptured)
    @policy.register(wallet.HoldReleased)
    @policy.register(wallet.HoldExpired)
    def _(self, message: Any, processing: Processing) -> None:
        funds_answers.apply_wallet_answer(self, message, processing)

    @policy.register(vouchers.ServiceVoucherHeld)
    @policy.register(vouchers.ServiceVoucherHoldRefused)
    @policy.register(vouchers.ServiceVoucherCaptured)
    @policy.register(vouchers.ServiceVoucherReleased)
    @policy.register(vouchers.ServiceVoucherRequestRefused)
    def _(self, message: Any, processing: Processing) -> None:
        funds_answers.apply_voucher_answer(self, message, processing)

    @policy.register(wallet.DelegateNamed)
    @policy.register(wallet.DelegateRevoked)
    def _(self, message: Any, processing: Processing) -> None:
        participants.delegation(self, message, processing)
