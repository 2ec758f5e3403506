"""The wallet's and the vouchers service's answers to the booking's funds requests. Each is
believed only if it is for the booking and the account (the source) it names:

* wallet: ``FundsHeld`` and ``HoldRefused`` name the hold's request (``booking:<id>:<step>``)
  and the wallet, which must be the booking's wallet source for that request;
  ``RequestRefused`` names the refused request, its booking and wallet (and, for a capture or
  a release, the hold's request); ``HoldCaptured``, ``HoldReleased`` and ``HoldExpired`` name
  the hold only: it is linked to its booking (:class:`HoldLink`) when first held, and the
  wallet must be the source's;
* vouchers: every ``ServiceVoucher*`` answer names the booking, the voucher and the request
  (the hold's, or the capture's and the hold's).

A refused capture or release does not leave the booking waiting: if the participant holds
nothing any more (its hold was released or lapsed, or it never had it) the source pays nothing
and the booking goes on; otherwise the booking is marked stuck with the reason, for the
operator (:meth:`Booking.funds_request_refused`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal
from uuid import UUID

from benecomune_contracts import vouchers, wallet
from servicekit.domain import NotFound
from servicekit.messages import Processing

from booking.application.participants import Check, moment, on_booking
from booking.domain.booking import Booking
from booking.domain.components import booking_of
from booking.domain.links import HoldLink

if TYPE_CHECKING:
    from booking.application.app import BookingApplication

# Refusals that mean the participant holds nothing for the request any more.
WALLET_NOT_HELD = frozenset({"hold_not_found"})
VOUCHER_NOT_HELD = frozenset({"no_such_hold", "hold_released", "hold_lapsed"})


def uuid_or_none(value: str | None) -> UUID | None:
    try:
        return UUID(value) if value is not None else None
    except ValueError:
        return None


def same_booking(named: str | None, request_id: str) -> UUID | None:
    """The booking of ``request_id``, if the answer names no other."""
    booking_id = booking_of(request_id)
    if named is not None and uuid_or_none(named) != booking_id:
        return None
    return booking_id


def funds_check(source: str, request_id: str) -> Check:
    def check(booking: Booking) -> str | None:
        found = booking.find_funds(request_id=request_id)
        if found is None:
            return "not a funds request of this booking"
        if found[1].source != source:
            return f"for {source}, the booking asked {found[1].source}"
        return None

    return check


def on_request(
    app: BookingApplication,
    processing: Processing,
    source: str,
    request_id: str,
    change: Callable[[Booking], None],
    named_booking: str | None = None,
) -> Booking | None:
    booking_id = same_booking(named_booking, request_id)
    check = funds_check(source, request_id)
    return on_booking(app, booking_id, processing, change, check, f"{source} {request_id}")


def refused(
    app: BookingApplication,
    processing: Processing,
    source: str,
    request: Literal["hold", "capture", "release"],
    request_id: str,
    hold_request_id: str | None,
    reason_code: str,
    not_held: bool,
    named_booking: str | None,
) -> None:
    at = moment(processing)
    if request == "hold":
        on_request(
            app, processing, source, request_id,
            lambda b: b.funds_hold_refused(request_id, reason_code, at, source), named_booking,
        )  # fmt: skip
    elif hold_request_id is not None:
        on_request(
            app, processing, source, hold_request_id,
            lambda b: b.funds_request_refused(
                hold_request_id, request, reason_code, not_held, at, source
            ),
            named_booking,
        )  # fmt: skip


def apply_wallet_answer(app: BookingApplication, message: Any, processing: Processing) -> None:
    at = moment(processing)
    if isinstance(message, wallet.RequestRefused):
        refused(
            app, processing, f"wallet:{message.wallet_id}", message.request,
            message.request_id, message.hold_request_id, message.reason_code,
            message.hold_status in ("released", "expired")
            or message.reason_code in WALLET_NOT_HELD,
            message.booking_id,
        )  # fmt: skip
        return
    source = f"wallet:{message.wallet_id}"
    if isinstance(message, wallet.FundsHeld):
        booking = on_request(
            app, processing, source, message.request_id,
            lambda b: b.funds_held(message.request_id, message.hold_id, at, source),
        )  # fmt: skip
        if booking is not None:
            link(app, processing, message.hold_id, booking.id)
    elif isinstance(message, wallet.HoldRefused):
        on_request(
            app, processing, source, message.request_id,
            lambda b: b.funds_hold_refused(message.request_id, message.reason_code, at, source),
        )  # fmt: skip
    else:
        try:
            hold = app.get_aggregate(
                HoldLink.create_id("wallet", message.hold_id), HoldLink, "hold link"
            )
        except NotFound:
            return  # a hold the booking did not take (a spend, another caller's hold)
        change: Callable[[Booking], None]
        if isinstance(message, wallet.HoldCaptured):
            change = lambda b: b.funds_captured(message.hold_id, message.amount_cents, at, source)  # noqa: E731
        else:
            how = "released" if isinstance(message, wallet.HoldReleased) else "expired"
            change = lambda b: b.funds_released(message.hold_id, how, at, source)  # noqa: E731
        on_booking(app, hold.booking_id, processing, change, answer=f"{source} {message.hold_id}")


def link(app: BookingApplication, processing: Processing, hold_id: str, booking_id: UUID) -> None:
    try:
        app.get_aggregate(HoldLink.create_id("wallet", hold_id), HoldLink, "hold link")
    except NotFound:
        processing.collect_events(HoldLink("wallet", hold_id, booking_id))


def apply_voucher_answer(app: BookingApplication, message: Any, processing: Processing) -> None:
    at = moment(processing)
    source = f"voucher:{message.voucher_id}"
    if isinstance(message, vouchers.ServiceVoucherHoldRefused):
        refused(
            app, processing, source, "hold", message.request_id, None, message.reason_code,
            False, message.booking_id,
        )  # fmt: skip
    elif isinstance(message, vouchers.ServiceVoucherRequestRefused):
        refused(
            app, processing, source, message.request, message.request_id,
            message.hold_request_id, message.reason_code,
            message.reason_code in VOUCHER_NOT_HELD, message.booking_id,
        )  # fmt: skip
    elif isinstance(message, vouchers.ServiceVoucherHeld):
        on_request(
            app, processing, source, message.request_id,
            lambda b: b.funds_held(message.request_id, message.hold_id, at, source),
            message.booking_id,
        )  # fmt: skip
    else:
        booking_id = uuid_or_none(message.booking_id)
        change: Callable[[Booking], None]
        if isinstance(message, vouchers.ServiceVoucherCaptured):
            change = lambda b: b.funds_captured(message.hold_id, message.amount_cents, at, source)  # noqa: E731
        else:
            how = "expired" if message.lapsed else "released"
            change = lambda b: b.funds_released(message.hold_id, how, at, source)  # noqa: E731
        on_booking(app, booking_id, processing, change, answer=f"{source} {message.hold_id}")
