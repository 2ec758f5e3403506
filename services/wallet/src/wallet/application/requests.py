"""What the wallet does when the booking saga asks it by event: hold, capture, release. The
booking service's request events (``benecomune.booking.FundsHoldRequested``,
``FundsCaptureRequested``, ``FundsReleaseRequested``) with ``source="wallet"`` are translated
here into these requests (``from_booking``; a voucher's are not the wallet's); the
application's policy hands them to ``handlers/saga.py``. The effects are stored with the
consumer's tracking positions in one transaction, so each message has its effect once — and
each request is answered once per request id besides, however often it arrives.

Every request is answered: ``FundsHeld`` or ``HoldRefused`` (a wallet the wallet knows);
``HoldCaptured``, ``HoldReleased``; ``RequestRefused`` for anything refused without a wallet
stream to record it on (an unknown wallet) and for every refused capture or release. A refusal
never blocks the consumer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from benecomune_contracts import booking

BookingRequest = (
    booking.FundsHoldRequested | booking.FundsCaptureRequested | booking.FundsReleaseRequested
)
WALLET_SOURCE = "wallet"


@dataclass(frozen=True)
class HoldRequest:
    wallet_id: UUID | str  # as asked: an id that is no UUID names no wallet
    request_id: str
    provider_id: str
    category: str
    amount_cents: int
    expires_at: datetime
    confirm_taxable: bool = False
    for_member_id: str | None = None
    booking_id: str | None = None
    beneficiary_id: str | None = None  # when the request names it: must hold the wallet


@dataclass(frozen=True)
class CaptureRequest:
    wallet_id: UUID | str
    hold_id: UUID | str | None
    request_id: str
    amount_cents: int | None = None
    hold_request_id: str | None = None
    provider_id: str | None = None
    booking_id: str | None = None


@dataclass(frozen=True)
class ReleaseRequest:
    wallet_id: UUID | str
    hold_id: UUID | str | None
    request_id: str
    hold_request_id: str | None = None
    booking_id: str | None = None


def from_booking(message: BookingRequest) -> HoldRequest | CaptureRequest | ReleaseRequest | None:
    """The wallet's request in a booking's request event; None when it asks another source."""
    if message.source != WALLET_SOURCE:
        return None
    if isinstance(message, booking.FundsHoldRequested):
        return HoldRequest(
            wallet_id=message.account_id,
            request_id=message.request_id,
            provider_id=message.provider_id,
            category=message.category,
            amount_cents=message.amount_cents,
            expires_at=message.expires_at,
            confirm_taxable=message.confirm_taxable,
            for_member_id=message.for_member_id,
            booking_id=message.booking_id,
            beneficiary_id=getattr(message, "beneficiary_id", None),
        )
    if isinstance(message, booking.FundsCaptureRequested):
        return CaptureRequest(
            wallet_id=message.account_id,
            hold_id=message.hold_id,
            request_id=message.request_id,
            amount_cents=message.amount_cents,
            hold_request_id=message.hold_request_id,
            provider_id=message.provider_id,
            booking_id=message.booking_id,
        )
    return ReleaseRequest(
        wallet_id=message.account_id,
        hold_id=message.hold_id,
        request_id=message.request_id,
        hold_request_id=message.hold_request_id,
        booking_id=message.booking_id,
    )
