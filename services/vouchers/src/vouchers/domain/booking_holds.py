"""Service vouchers held, captured and released for bookings: the rules across a voucher, its
round, the provider's account there and the booking as this service knows it.

A booking names a voucher by its **id** (what ``GET /vouchers/mine`` shows the beneficiary;
never its code, which is a secret one can type at a till). The booking must be **for the
voucher's holder**: the beneficiary the booking saga named in its ``BookingRequested`` (the
holder, or their delegate or a social worker booking on their behalf — the saga checks who may
book for whom). The offering's category must be one the round covers, the provider accredited
in the round (an account opened there) and not suspended, and the hold at most what the
voucher has available.

``VoucherBooking`` (private, not a ledger stream: it moves no money) remembers a booking's
beneficiary and every request of it answered: each request id is answered exactly once — held
or refused, captured, released or refused — however often the saga sends it.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from uuid import UUID

from eventsourcing.domain import event
from servicekit.domain import Aggregate

from vouchers.domain.errors import CategoryNotCovered, NotTheHolder, ProviderNotAccredited
from vouchers.domain.merchant import MerchantAccount
from vouchers.domain.round import Round
from vouchers.domain.voucher import Voucher

BOOKING_NAMESPACE = uuid.UUID("3b0f5d2e-8a61-4c7d-9e14-2f6a8c0b5d93")
HOLD_NAMESPACE = uuid.UUID("a7e2c4f1-5b39-4d08-8c6e-1d9f3b2a7e50")


def hold_id_for(voucher_id: UUID, hold_request_id: str) -> str:
    """The hold a booking's request makes on a voucher: the same request, the same hold."""
    return str(uuid.uuid5(HOLD_NAMESPACE, f"{voucher_id}/{hold_request_id}"))


class VoucherBooking(Aggregate):
    class Known(Aggregate.Created):
        booking_id: str
        beneficiary_id: str | None

    class BeneficiaryNamed(Aggregate.Event):
        beneficiary_id: str

    class Answered(Aggregate.Event):
        request_id: str
        outcome: str

    class HoldRefused(Aggregate.Event):
        booking_id: str
        request_id: str
        voucher_id: str
        provider_id: str
        amount_cents: int
        reason_code: str

    class RequestRefused(Aggregate.Event):
        booking_id: str
        request_id: str
        hold_request_id: str
        voucher_id: str
        request: str
        reason_code: str

    @event(Known)
    def __init__(self, booking_id: str, beneficiary_id: str | None) -> None:
        self.booking_id = booking_id
        self.beneficiary_id = beneficiary_id
        self.answered: dict[str, str] = {}

    @staticmethod
    def create_id(booking_id: str, beneficiary_id: str | None = None) -> UUID:
        return VoucherBooking.id_for(booking_id)

    @staticmethod
    def id_for(booking_id: str) -> UUID:
        return uuid.uuid5(BOOKING_NAMESPACE, booking_id)

    def name_beneficiary(self, beneficiary_id: str) -> None:
        if self.beneficiary_id is None:
            self._name_beneficiary(beneficiary_id)

    def was_answered(self, request_id: str) -> bool:
        return request_id in self.answered

    def answer(self, request_id: str, outcome: str) -> None:
        self._answer(request_id, outcome)

    def refuse_hold(
        self, request_id: str, voucher_id: str, provider_id: str, amount_cents: int, reason: str
    ) -> None:
        self._refuse_hold(
            self.booking_id, request_id, voucher_id, provider_id, amount_cents, reason
        )

    def refuse_request(
        self, request_id: str, hold_request_id: str, voucher_id: str, request: str, reason: str
    ) -> None:
        self._refuse_request(
            self.booking_id, request_id, hold_request_id, voucher_id, request, reason
        )

    @event(BeneficiaryNamed)
    def _name_beneficiary(self, beneficiary_id: str) -> None:
        self.beneficiary_id = beneficiary_id

    @event(Answered)
    def _answer(self, request_id: str, outcome: str) -> None:
        self.answered[request_id] = outcome

    @event(HoldRefused)
    def _refuse_hold(
        self,
        booking_id: str,
        request_id: str,
        voucher_id: str,
        provider_id: str,
        amount_cents: int,
        reason_code: str,
    ) -> None:
        self.answered[request_id] = "refused"

    @event(RequestRefused)
    def _refuse_request(
        self,
        booking_id: str,
        request_id: str,
        hold_request_id: str,
        voucher_id: str,
        request: str,
        reason_code: str,
    ) -> None:
        self.answered[request_id] = "refused"


def check_holdable(
    voucher: Voucher,
    round_: Round,
    account: MerchantAccount | None,
    beneficiary_id: str,
    provider_id: str,
    category: str,
) -> MerchantAccount:
    """The booking may hold this voucher for this provider and category (the amount is the
    voucher's to check); returns the provider's account in the round."""
    if voucher.holder != beneficiary_id:
        raise NotTheHolder("the booking is not for the voucher's holder")
    if not round_.covers(category):
        raise CategoryNotCovered(
            f"the voucher's round covers {', '.join(round_.service_categories) or 'no services'}"
            f", not {category}"
        )
    if account is None or not account.provider:
        raise ProviderNotAccredited(
            f"provider {provider_id} is not accredited for the voucher's round"
        )
    account.check_active()
    return account


def hold(
    voucher: Voucher,
    round_: Round,
    account: MerchantAccount | None,
    *,
    beneficiary_id: str,
    hold_id: str,
    request_id: str,
    booking_id: str,
    provider_id: str,
    category: str,
    amount_cents: int,
    expires_at: datetime,
    now: datetime,
) -> None:
    """Hold part of a service voucher for a booking's provider (see the module's rules)."""
    voucher.check_is_service_voucher()
    check_holdable(voucher, round_, account, beneficiary_id, provider_id, category)
    voucher.hold(
        hold_id,
        request_id=request_id,
        booking_id=booking_id,
        provider_id=provider_id,
        category=category,
        amount_cents=amount_cents,
        expires_at=expires_at,
        now=now,
    )


def capture(
    voucher: Voucher,
    account: MerchantAccount,
    *,
    hold_id: str,
    request_id: str,
    redemption_id: UUID,
    provider_id: str,
    amount_cents: int,
    now: datetime,
) -> None:
    """Capture the hold for its provider: a redemption on the voucher, credited to the
    provider's account, exactly as a sale at a till. A suspended provider is not credited."""
    account.check_active()
    voucher.capture(
        hold_id,
        request_id=request_id,
        redemption_id=redemption_id,
        provider_id=provider_id,
        amount_cents=amount_cents,
    )
    account.credit(redemption_id, voucher.id, amount_cents, now)
