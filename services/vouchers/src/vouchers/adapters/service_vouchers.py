"""How the service vouchers' events leave the service (:mod:`.contract_mapping` hands them
here): a round's services, a provider's account, a booking's holds on a voucher (ledger events,
hash-chained) and the refusals answered to a booking (not ledger events: they move no money)."""

from __future__ import annotations

from functools import singledispatch
from typing import Any

from benecomune_contracts import ContractEvent
from benecomune_contracts import vouchers as c

from vouchers.domain.booking_holds import VoucherBooking
from vouchers.domain.merchant import MerchantAccount
from vouchers.domain.round import Round
from vouchers.domain.voucher import Voucher


def chain(e: Any) -> dict[str, Any]:
    return {
        "stream_id": str(e.originator_id),
        "sequence": e.originator_version,
        "prev_hash": e.prev_hash,
        "event_hash": e.event_hash,
    }


@singledispatch
def to_contract(event: object) -> ContractEvent | None:
    return None  # private: anything not mapped below or in contract_mapping


@to_contract.register
def _(e: Round.ServicesCovered) -> ContractEvent:
    return c.RoundServicesCovered(
        **chain(e),
        round_id=str(e.originator_id),
        service_categories=e.service_categories,
        covered_at=e.timestamp,
    )


@to_contract.register
def _(e: Voucher.Held) -> ContractEvent:
    return c.ServiceVoucherHeld(
        **chain(e),
        voucher_id=str(e.originator_id),
        round_id=str(e.round_id),
        hold_id=e.hold_id,
        request_id=e.request_id,
        booking_id=e.booking_id,
        provider_id=e.provider_id,
        category=e.category,
        amount_cents=e.amount_cents,
        held_cents=e.held_cents,
        remaining_cents=e.remaining_cents,
        expires_at=e.expires_at,
        held_at=e.timestamp,
    )


@to_contract.register
def _(e: Voucher.HoldCaptured) -> ContractEvent:
    return c.ServiceVoucherCaptured(
        **chain(e),
        voucher_id=str(e.originator_id),
        round_id=str(e.round_id),
        hold_id=e.hold_id,
        request_id=e.request_id,
        booking_id=e.booking_id,
        redemption_id=str(e.redemption_id),
        provider_id=e.provider_id,
        category=e.category,
        amount_cents=e.amount_cents,
        released_cents=e.released_cents,
        held_cents=e.held_cents,
        remaining_cents=e.remaining_cents,
        captured_at=e.timestamp,
    )


@to_contract.register
def _(e: Voucher.HoldReleased) -> ContractEvent:
    return c.ServiceVoucherReleased(
        **chain(e),
        voucher_id=str(e.originator_id),
        round_id=str(e.round_id),
        hold_id=e.hold_id,
        request_id=e.request_id,
        booking_id=e.booking_id,
        amount_cents=e.amount_cents,
        held_cents=e.held_cents,
        lapsed=e.lapsed,
        released_at=e.timestamp,
    )


@to_contract.register
def _(e: MerchantAccount.ProviderOpened) -> ContractEvent:
    return c.ProviderAccountOpened(
        **chain(e),
        account_id=str(e.originator_id),
        round_id=str(e.round_id),
        provider_id=e.merchant_id,
        service_categories=e.service_categories,
        opened_at=e.timestamp,
    )


@to_contract.register
def _(e: VoucherBooking.HoldRefused) -> ContractEvent:
    return c.ServiceVoucherHoldRefused(
        voucher_id=e.voucher_id,
        booking_id=e.booking_id,
        request_id=e.request_id,
        provider_id=e.provider_id,
        amount_cents=e.amount_cents,
        reason_code=e.reason_code,
        refused_at=e.timestamp,
    )


@to_contract.register
def _(e: VoucherBooking.RequestRefused) -> ContractEvent:
    return c.ServiceVoucherRequestRefused(
        voucher_id=e.voucher_id,
        booking_id=e.booking_id,
        request_id=e.request_id,
        hold_request_id=e.hold_request_id,
        request=e.request,
        reason_code=e.reason_code,
        refused_at=e.timestamp,
    )
