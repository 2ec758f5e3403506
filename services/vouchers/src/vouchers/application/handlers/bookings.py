"""Service vouchers held, captured and released by the booking saga's events (topic
``benecomune.booking``, ``source="voucher"``): the application's policy hands each request
here; what changed is collected into the processing event and stored with the message's
tracking position, so each request has its effect once.

Every request is answered exactly once, by its request id: held (``ServiceVoucherHeld``) or
refused (``ServiceVoucherHoldRefused``, with the reason's code), captured
(``ServiceVoucherCaptured`` and the provider's ``MerchantCredited``) or released
(``ServiceVoucherReleased``), and a capture or release that cannot be done is refused
(``ServiceVoucherRequestRefused``). The rules are in ``vouchers.domain.booking_holds``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import structlog
from benecomune_contracts import booking
from servicekit.domain import DomainError, NotFound
from servicekit.messages import Processing

from vouchers.application.handlers.redemption import redemption_id_for
from vouchers.application.store import VouchersStore
from vouchers.domain import booking_holds
from vouchers.domain.booking_holds import VoucherBooking, hold_id_for
from vouchers.domain.errors import HoldClosed, MerchantSuspended, NoSuchHold, NotAffiliated
from vouchers.domain.merchant import MerchantAccount
from vouchers.domain.voucher import Voucher

log = structlog.get_logger(__name__)


class BookingUnknown(DomainError):
    """The booking's ``BookingRequested`` (its beneficiary) never reached this service."""

    code = "booking_unknown"


class UnknownVoucher(DomainError):
    code = "unknown_voucher"


def reason_of(refusal: DomainError) -> str:
    """The reason code a refusal answers the booking with."""
    if isinstance(refusal, MerchantSuspended):
        return "provider_suspended"
    if isinstance(refusal, NotAffiliated):
        return "provider_not_accredited"
    if isinstance(refusal, HoldClosed):  # hold_captured, hold_released or hold_lapsed
        return f"hold_{refusal.fields['status']}"
    return refusal.code


def moment(processing: Processing) -> datetime:
    """When the booking asked (its envelope's time), else now."""
    return processing.envelope.time if processing.envelope is not None else datetime.now(UTC)


def booking_record(store: VouchersStore, booking_id: str) -> VoucherBooking:
    """The booking as this service knows it (new, without a beneficiary, if unknown)."""
    try:
        record_id = VoucherBooking.id_for(booking_id)
        return store.get_aggregate(record_id, VoucherBooking, "booking")
    except NotFound:
        return VoucherBooking(booking_id, None)


def booking_requested(
    store: VouchersStore, message: booking.BookingRequested, processing: Processing
) -> None:
    """A booking paid (in part) with a service voucher: its beneficiary is remembered, for the
    holds that follow it on the booking's partition."""
    if not any(share.source == "voucher" for share in message.split):
        return
    record = booking_record(store, message.booking_id)
    record.name_beneficiary(message.beneficiary_id)
    processing.collect_events(record)


def voucher_named(store: VouchersStore, account_id: str) -> Voucher:
    try:
        return store.get_voucher(UUID(account_id))
    except (ValueError, NotFound):
        raise UnknownVoucher(f"no voucher {account_id}") from None


def hold_requested(
    store: VouchersStore, message: booking.FundsHoldRequested, processing: Processing
) -> None:
    if message.source != "voucher":
        return  # the wallet's
    record = booking_record(store, message.booking_id)
    if record.was_answered(message.request_id):
        return
    changed: list[Any] = []
    try:
        voucher = voucher_named(store, message.account_id)
        if record.beneficiary_id is None:
            raise BookingUnknown("the booking's request never reached the vouchers service")
        round_ = store.get_round(voucher.round_id)
        account = provider_account(store, voucher, message.provider_id)
        booking_holds.hold(
            voucher,
            round_,
            account,
            beneficiary_id=record.beneficiary_id,
            hold_id=hold_id_for(voucher.id, message.request_id),
            request_id=message.request_id,
            booking_id=message.booking_id,
            provider_id=message.provider_id,
            category=message.category,
            amount_cents=message.amount_cents,
            expires_at=message.expires_at,
            now=moment(processing),
        )
        changed.append(voucher)
        record.answer(message.request_id, "held")
    except DomainError as refusal:
        log.info("voucher_hold_refused", request_id=message.request_id, why=str(refusal))
        record.refuse_hold(
            message.request_id,
            message.account_id,
            message.provider_id,
            message.amount_cents,
            reason_of(refusal),
        )
    processing.collect_events(record, *changed)


def capture_requested(
    store: VouchersStore, message: booking.FundsCaptureRequested, processing: Processing
) -> None:
    if message.source != "voucher":
        return
    record = booking_record(store, message.booking_id)
    if record.was_answered(message.request_id):
        return
    changed: list[Any] = []
    try:
        voucher, hold_id = hold_named(store, message)
        voucher.open_hold(hold_id)
        account = store.merchant_account(voucher.round_id, message.provider_id)
        booking_holds.capture(
            voucher,
            account,
            hold_id=hold_id,
            request_id=message.request_id,
            redemption_id=redemption_id_for(voucher.id, message.provider_id, message.request_id),
            provider_id=message.provider_id,
            amount_cents=message.amount_cents,
            now=moment(processing),
        )
        changed += [voucher, account]
        record.answer(message.request_id, "captured")
    except DomainError as refusal:
        refuse(record, message, "capture", refusal)
    processing.collect_events(record, *changed)


def release_requested(
    store: VouchersStore, message: booking.FundsReleaseRequested, processing: Processing
) -> None:
    if message.source != "voucher":
        return
    record = booking_record(store, message.booking_id)
    if record.was_answered(message.request_id):
        return
    changed: list[Any] = []
    try:
        voucher, hold_id = hold_named(store, message)
        voucher.release(hold_id, message.request_id)
        changed.append(voucher)
        record.answer(message.request_id, "released")
    except DomainError as refusal:
        refuse(record, message, "release", refusal)
    processing.collect_events(record, *changed)


def hold_named(
    store: VouchersStore, message: booking.FundsCaptureRequested | booking.FundsReleaseRequested
) -> tuple[Voucher, str]:
    """The voucher and the hold a capture or release names (by the hold's request)."""
    try:
        voucher = voucher_named(store, message.account_id)
    except UnknownVoucher:
        raise NoSuchHold(f"no voucher {message.account_id}") from None
    hold_id = hold_id_for(voucher.id, message.hold_request_id)
    if message.hold_id is not None and message.hold_id != hold_id:
        raise NoSuchHold(f"the voucher's hold for {message.hold_request_id} is {hold_id}")
    return voucher, hold_id


def refuse(
    record: VoucherBooking,
    message: booking.FundsCaptureRequested | booking.FundsReleaseRequested,
    request: str,
    refusal: DomainError,
) -> None:
    log.warning(f"voucher_{request}_refused", request_id=message.request_id, why=str(refusal))
    record.refuse_request(
        message.request_id, message.hold_request_id, message.account_id, request, reason_of(refusal)
    )


def provider_account(
    store: VouchersStore, voucher: Voucher, provider_id: str
) -> MerchantAccount | None:
    try:
        return store.merchant_account(voucher.round_id, provider_id)
    except NotAffiliated:
        return None
