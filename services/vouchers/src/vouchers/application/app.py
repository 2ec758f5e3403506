"""The vouchers application: the façade the routes, the clock job, the catalogue's events and
the tests call. Each command is a small handler (``vouchers.application.handlers``, one module
per area) that gets aggregates from the store (``store.py``), lets the domain change them and
saves them; queries read the read model (``views.py``).

Every command either saves all the aggregates it changed in one transaction or changes nothing;
concurrent commands on the same aggregates are retried on fresh state (``@retried``).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any
from uuid import UUID

from benecomune_contracts import booking, catalog
from eventsourcing.dispatch import singledispatchmethod
from servicekit.messages import Processing

from vouchers.application import commands as cmd
from vouchers.application import figures, views
from vouchers.application.figures import FundFigures, MerchantFigures
from vouchers.application.handlers import (
    bookings,
    claims,
    issuing,
    providers,
    redemption,
    review,
    rounds,
    shops,
)
from vouchers.application.handlers import funds as fund_handlers
from vouchers.application.handlers import personal_data as household_data
from vouchers.application.handlers.personal_data import Sealed
from vouchers.application.handlers.redemption import RedemptionReceipt
from vouchers.application.store import VouchersStore, now_utc
from vouchers.application.views import RedemptionRow, VoucherRow
from vouchers.domain.fund import Fund
from vouchers.domain.household_application import HouseholdApplication
from vouchers.domain.merchant import MerchantAccount
from vouchers.domain.programme_shop import ProgrammeShop
from vouchers.domain.round import Round

__all__ = ["RedemptionReceipt", "VouchersApplication"]


class VouchersApplication(VouchersStore):
    # --- funds and rounds ---------------------------------------------------------------------

    def allocate_fund(self, command: cmd.AllocateFund) -> UUID:
        return fund_handlers.allocate_fund(self, command)

    def top_up_fund(self, fund_id: UUID, command: cmd.TopUpFund) -> None:
        fund_handlers.top_up_fund(self, fund_id, command)

    def open_round(self, command: cmd.OpenRound, now: datetime | None = None) -> UUID:
        return rounds.open_round(self, command, now or now_utc())

    def close_round(self, round_id: UUID) -> None:
        rounds.close_round(self, round_id)

    # --- applications -------------------------------------------------------------------------

    def submit_application(
        self, command: cmd.SubmitApplication, applicant: str, now: datetime | None = None
    ) -> UUID:
        return review.submit_application(self, command, applicant, now or now_utc())

    def approve_application(self, application_id: UUID, reviewer: str) -> None:
        review.approve_application(self, application_id, reviewer)

    def reject_application(
        self, application_id: UUID, command: cmd.RejectApplication, reviewer: str
    ) -> None:
        review.reject_application(self, application_id, command, reviewer)

    def applications_in_round(self, round_id: UUID) -> list[HouseholdApplication]:
        """Every application of the round, in submission order (the HTTP list pages through
        ``views.applications_in_round`` instead)."""
        rows = views.applications_in_round(self.fresh_read_model(), round_id)
        return [self.get_application(r.id) for r in rows]

    def applications_of(self, applicant: str) -> list[HouseholdApplication]:
        """The applications a beneficiary submitted, oldest first."""
        rows = views.applications_of(self.fresh_read_model(), applicant)
        return [self.get_application(r.id) for r in rows]

    # --- personal data ------------------------------------------------------------------------

    def erase_household(self, household_id: UUID) -> bool:
        return household_data.erase_household(self, household_id)

    def personal_data(self, application: Sealed) -> dict[str, Any] | None:
        return household_data.personal_data(self, application)

    def rejection_reason(self, application: Sealed) -> str | None:
        return household_data.rejection_reason(self, application)

    def codes_of(self, application: Sealed) -> list[str]:
        return household_data.codes_of(self, application)

    # --- issuing ------------------------------------------------------------------------------

    def issue_vouchers(self, round_id: UUID, now: datetime | None = None) -> dict[str, int]:
        """Serve the ranking while the round's budget lasts; waitlist the rest in rank order.
        Run again when money returns (expiry, revocation) to serve the waitlist."""
        return issuing.issue_vouchers(self, round_id, now or now_utc())

    def revoke_application(
        self, application_id: UUID, command: cmd.Revoke, now: datetime | None = None
    ) -> int:
        return issuing.revoke_application(self, application_id, command, now or now_utc())

    def expire_vouchers(self, round_id: UUID, now: datetime | None = None) -> int:
        return issuing.expire_vouchers(self, round_id, now or now_utc())

    def expire_due_vouchers(self, now: datetime | None = None) -> int:
        return issuing.expire_due_vouchers(self, now or now_utc())

    def join_open_rounds(self) -> int:
        """Accredited providers' missing accounts in open services rounds (a periodic job)."""
        return providers.join_open_rounds(self)

    # --- vouchers -----------------------------------------------------------------------------

    def vouchers_delegated_to(self, delegate_id: str) -> list[VoucherRow]:
        """The vouchers whose current delegate is this beneficiary."""
        return views.vouchers_delegated_to(self.fresh_read_model(), delegate_id)

    def name_delegate(self, voucher_id: UUID, holder: str, command: cmd.NameDelegate) -> None:
        redemption.name_delegate(self, voucher_id, holder, command)

    def redeem(self, merchant_id: str, command: cmd.Redeem, now: datetime | None = None) -> str:
        """Spend part of a voucher at an affiliated merchant; returns the redemption id. The
        same request id always gives the same redemption, spent once. Tills redeem all day
        long, many at once: their commands are group-committed."""
        change = redemption.redemption_of(self, merchant_id, command, now or now_utc())
        return self.group_commit(change).redemption_id

    async def redeem_async(
        self, merchant_id: str, command: cmd.Redeem, now: datetime | None = None
    ) -> RedemptionReceipt:
        """As ``redeem``, for the HTTP API: awaited, so a till waiting for its batch to be
        stored holds no thread; the receipt tells what is left on the voucher."""
        change = redemption.redemption_of(self, merchant_id, command, now or now_utc())
        return await self.group_commit_async(change)

    def void_redemption(
        self, merchant_id: str, command: cmd.VoidRedemption, now: datetime | None = None
    ) -> None:
        redemption.void_redemption(self, merchant_id, command, now or now_utc())

    def redemptions_of(
        self, merchant_id: str, since: datetime | None = None, limit: int = 100
    ) -> list[RedemptionRow]:
        """A shop's sales at its tills, newest first (its "today's sales", with ``since``)."""
        return views.redemptions_of(self.fresh_read_model(), merchant_id, since, limit)

    # --- shops and reimbursements -------------------------------------------------------------

    def affiliate_merchant(self, round_id: UUID, command: cmd.AffiliateMerchant) -> UUID:
        return shops.affiliate_merchant(self, round_id, command)

    def accounts_of(self, merchant_id: str) -> list[MerchantAccount]:
        return shops.accounts_of(self, merchant_id)

    def programme_shops(self) -> list[ProgrammeShop]:
        return shops.programme_shops(self)

    def open_rounds(self) -> list[Round]:
        return shops.open_rounds(self)

    def is_affiliated(self, round_id: UUID, merchant_id: str) -> bool:
        return shops.is_affiliated(self, round_id, merchant_id)

    def claim_reimbursement(
        self, round_id: UUID, merchant_id: str, command: cmd.ClaimReimbursement
    ) -> tuple[UUID, int]:
        claim_id = uuid.uuid4()
        return claim_id, claims.claim_reimbursement(self, round_id, merchant_id, claim_id, command)

    def approve_claim(
        self,
        round_id: UUID,
        merchant_id: str,
        claim_id: UUID,
        payment_due_on: date,
        now: datetime | None = None,
    ) -> None:
        today = (now or now_utc()).astimezone(self.territory.zoneinfo).date()
        claims.approve_claim(self, round_id, merchant_id, claim_id, payment_due_on, today)

    def pay_claim(
        self, round_id: UUID, merchant_id: str, claim_id: UUID, payment_reference: str
    ) -> None:
        claims.pay_claim(self, round_id, merchant_id, claim_id, payment_reference)

    # --- the catalogue's and the booking saga's events ----------------------------------------

    @singledispatchmethod
    def policy(self, message: Any, processing: Any) -> None:
        """Events the vouchers service does not act on are tracked and ignored."""

    @policy.register
    def _(self, message: catalog.MerchantAffiliated, processing: Processing) -> None:
        shops.shop_admitted(self, message, processing)

    @policy.register
    def _(self, message: catalog.ProviderAccredited, processing: Processing) -> None:
        providers.provider_accredited(self, message, processing)

    @policy.register
    def _(self, message: catalog.ProviderSuspended, processing: Processing) -> None:
        shops.shop_suspended(self, message, processing)  # its accounts, shop's or provider's
        providers.provider_suspended(self, message, processing)

    @policy.register
    def _(self, message: catalog.ProviderReinstated, processing: Processing) -> None:
        shops.shop_reinstated(self, message, processing)
        providers.provider_reinstated(self, message, processing)

    @policy.register
    def _(self, message: booking.BookingRequested, processing: Processing) -> None:
        bookings.booking_requested(self, message, processing)

    @policy.register
    def _(self, message: booking.FundsHoldRequested, processing: Processing) -> None:
        bookings.hold_requested(self, message, processing)

    @policy.register
    def _(self, message: booking.FundsCaptureRequested, processing: Processing) -> None:
        bookings.capture_requested(self, message, processing)

    @policy.register
    def _(self, message: booking.FundsReleaseRequested, processing: Processing) -> None:
        bookings.release_requested(self, message, processing)

    # --- figures ------------------------------------------------------------------------------

    def fund_figures(self, fund_id: UUID) -> FundFigures:
        return figures.fund_figures(self, fund_id)

    def merchant_figures(self, round_id: UUID, merchant_id: str) -> MerchantFigures:
        return figures.merchant_figures(self, round_id, merchant_id)

    def figures_upto(self, notification_id: int) -> tuple[list[FundFigures], list[MerchantFigures]]:
        return figures.figures_upto(self, notification_id)

    def funds(self, municipality_istat: str | None = None) -> list[Fund]:
        return figures.funds(self, municipality_istat)

    def merchant_accounts(self, round_id: UUID) -> list[MerchantAccount]:
        return figures.merchant_accounts(self, round_id)

    def spending(self, municipality_istat: str) -> dict[str, dict[str, int]]:
        """Redeemed cents (net of voids) by day (the municipality's calendar day) and by
        merchant, for one municipality."""
        return views.spending(self.fresh_read_model(), municipality_istat)
