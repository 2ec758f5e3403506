"""The notifications application: turns other services' events into notices, exactly once."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from benecomune_contracts.booking import (
    BookingCancelled,
    BookingCompensated,
    BookingConfirmed,
    BookingRequested,
    ComponentDelivered,
    ProviderAcceptanceRequested,
)
from benecomune_contracts.vouchers import (
    ApplicationRejected,
    ApplicationServed,
    ApplicationSubmitted,
    FundAllocated,
    FundToppedUp,
    ReimbursementApproved,
    ReimbursementPaid,
)
from benecomune_contracts.wallet import CreditExpiring
from eventsourcing.application import AggregateNotFoundError
from eventsourcing.dispatch import singledispatchmethod
from servicekit.messages import Processing
from servicekit.projection import read_model_url
from servicekit.store import ServiceApplication

from notifications.adapters.contract_mapping import to_contract
from notifications.adapters.read_model import InboxNotice, InboxReadModel
from notifications.domain.applicant import Applicant
from notifications.domain.booking_party import BookingParty
from notifications.domain.notice import Notice, notice_id_for

# The territory's operator sees money arriving in its funds.
OPERATOR = "operator"


def household(household_id: str) -> str:
    """A household's inbox, for notices about an application whose applicant is not known
    (submitted before vouchers published it): the operator reads it, nobody else."""
    return f"household:{household_id}"


def beneficiary(beneficiary_id: str) -> str:
    return f"beneficiary:{beneficiary_id}"


def merchant(merchant_id: str) -> str:
    return f"merchant:{merchant_id}"


def provider(provider_id: str) -> str:
    return f"provider:{provider_id}"


class NotificationsApplication(ServiceApplication):
    contract_mapper = staticmethod(to_contract)

    @singledispatchmethod
    def policy(self, event: Any, processing: Any) -> None:
        """Events nobody needs to hear about are tracked and otherwise ignored."""

    @policy.register
    def _(self, event: FundAllocated, processing: Processing) -> None:
        self.notice(
            processing,
            OPERATOR,
            "fund_allocated",
            {
                "amount_cents": str(event.amount_cents),
                "municipality": event.municipality_istat,
                "source": event.source_reference,
            },
        )

    @policy.register
    def _(self, event: FundToppedUp, processing: Processing) -> None:
        self.notice(
            processing,
            OPERATOR,
            "fund_topped_up",
            {
                "amount_cents": str(event.amount_cents),
                "fund": event.fund_id,
                "source": event.source_reference,
            },
        )

    @policy.register
    def _(self, event: CreditExpiring, processing: Processing) -> None:
        # The employee, whose welfare credit expires soon (their token's subject).
        self.notice(
            processing,
            f"beneficiary:{event.employee_id}",
            "credit_expiring",
            {
                "amount_cents": str(event.amount_cents),
                "expires_on": event.expires_on.isoformat(),
                "threshold_days": str(event.threshold_days),
            },
        )

    # --- vouchers: households and shops ----------------------------------------------------

    @policy.register
    def _(self, event: ApplicationSubmitted, processing: Processing) -> None:
        """Remember who applied: the application's later notices go to their inbox."""
        if event.applicant_id is not None and not self._applicant_known(event.application_id):
            processing.collect_events(Applicant(event.application_id, event.applicant_id))

    def _applicant_known(self, application_id: str) -> bool:
        return Applicant.id_for(application_id) in self.repository

    def household_recipient(self, application_id: str, household_id: str) -> str:
        """The applicant's own inbox; the household's (the operator's to read) if unknown."""
        try:
            applicant: Applicant = self.repository.get(Applicant.id_for(application_id))
        except AggregateNotFoundError:
            return household(household_id)
        return beneficiary(applicant.beneficiary_id)

    @policy.register
    def _(self, event: ApplicationServed, processing: Processing) -> None:
        """The household got its vouchers: how many, their total, until when (local time)."""
        params = {"voucher_count": str(event.voucher_count)}
        recipient = self.household_recipient(event.application_id, event.household_id)
        if event.amount_cents is None or event.expires_at is None:
            self.notice(processing, recipient, "vouchers_issued_briefly", params)
            return
        expires = event.expires_at.astimezone(self.territory.zoneinfo)
        params |= {
            "amount_cents": str(event.amount_cents),
            "expires_on": expires.date().isoformat(),
            "expires_time": f"{expires:%H:%M}",
        }
        template = "vouchers_issued_from_waitlist" if event.from_waitlist else "vouchers_issued"
        self.notice(processing, recipient, template, params)

    @policy.register
    def _(self, event: ApplicationRejected, processing: Processing) -> None:
        # The social worker's words are sealed in the vouchers service: only the code travels.
        self.notice(
            processing,
            self.household_recipient(event.application_id, event.household_id),
            "application_rejected",
            {"reason_code": event.reason_code},
        )

    @policy.register
    def _(self, event: ReimbursementApproved, processing: Processing) -> None:
        self.notice(
            processing,
            merchant(event.merchant_id),
            "claim_approved",
            {
                "amount_cents": str(event.amount_cents),
                "payment_due_on": event.payment_due_on.isoformat(),
                "claim": event.claim_id,
            },
        )

    @policy.register
    def _(self, event: ReimbursementPaid, processing: Processing) -> None:
        self.notice(
            processing,
            merchant(event.merchant_id),
            "claim_paid",
            {
                "amount_cents": str(event.amount_cents),
                "payment_reference": event.payment_reference,
                "claim": event.claim_id,
            },
        )

    # --- bookings: the family (beneficiary:<id>) and the providers (provider:<id>) -----------

    @policy.register
    def _(self, event: BookingRequested, processing: Processing) -> None:
        """Remember whose booking it is: its delivered components' notices go to them."""
        if BookingParty.id_for(event.booking_id) not in self.repository:
            processing.collect_events(BookingParty(event.booking_id, event.beneficiary_id))

    @policy.register
    def _(self, event: BookingConfirmed, processing: Processing) -> None:
        params = {"amount_cents": str(event.total_cents), "booking": event.booking_id}
        self.notice(processing, beneficiary(event.beneficiary_id), "booking_confirmed", params)

    @policy.register
    def _(self, event: BookingCompensated, processing: Processing) -> None:
        params = {"reason_code": event.reason_code, "booking": event.booking_id}
        self.notice(processing, beneficiary(event.beneficiary_id), "booking_compensated", params)

    @policy.register
    def _(self, event: BookingCancelled, processing: Processing) -> None:
        params = {"amount_cents": str(event.fee_cents), "booking": event.booking_id}
        template = "booking_cancelled" if event.by == "family" else "booking_cancelled_by_provider"
        self.notice(processing, beneficiary(event.beneficiary_id), template, params)

    @policy.register
    def _(self, event: ComponentDelivered, processing: Processing) -> None:
        try:
            party: BookingParty = self.repository.get(BookingParty.id_for(event.booking_id))
        except AggregateNotFoundError:
            return  # a booking requested before this service followed bookings
        params = {"component": str(event.component), "booking": event.booking_id}
        params |= self.local("due", event.confirmation_due)
        self.notice(processing, beneficiary(party.beneficiary_id), "component_delivered", params)

    @policy.register
    def _(self, event: ProviderAcceptanceRequested, processing: Processing) -> None:
        params = {"booking": event.booking_id, "component": str(event.component)}
        params |= self.local("starts", event.starts_at) | self.local("due", event.due_at)
        self.notice(processing, provider(event.provider_id), "acceptance_requested", params)

    def local(self, name: str, moment: datetime) -> dict[str, str]:
        """``<name>_on`` and ``<name>_time`` of a moment, in the territory's time zone."""
        there = moment.astimezone(self.territory.zoneinfo)
        return {f"{name}_on": there.date().isoformat(), f"{name}_time": f"{there:%H:%M}"}

    def notice(
        self, processing: Processing, recipient: str, template: str, params: dict[str, str]
    ) -> None:
        """One notice per upstream event and recipient: its id is derived from both, and a
        copy of an event already noticed (the same ``ce_id`` at another position: a relay that
        re-published it after losing its own position) adds none."""
        envelope = processing.envelope
        assert envelope is not None, "notices are only caused by upstream events"
        if notice_id_for(envelope.id, recipient) in self.repository:
            return
        processing.collect_events(
            Notice(
                recipient=recipient,
                template=template,
                params=params,
                source_event_id=envelope.id,
                source_subject=envelope.subject,
                source_sequence=envelope.sequence,
                source_notification_id=envelope.notification_id,
            )
        )

    # --- the inbox (read side) ----------------------------------------------------------------

    def open_read_model(self) -> InboxReadModel:
        url, schema = read_model_url(self.settings, "notifications-read.sqlite")
        return InboxReadModel(url, schema)

    def notices_for(self, recipient: str, limit: int = 50) -> list[InboxNotice]:
        """The newest notices of a recipient, newest first (caught up with the log first)."""
        return cast(InboxReadModel, self.fresh_read_model()).newest(recipient, limit)
