"""The participants' answers, as the booking's policy applies them (the kit's consumer stores
their effects with its tracking positions, in one transaction: each answer has its effect
once). An answer names its request (``booking:<booking id>:<step>``) or, for the wallet's
captures and releases, the hold: the hold is linked to its booking when it is first held.

* catalog: ``SlotHeld``, ``SlotHoldRefused``, ``SlotHoldConfirmed``, ``SlotReleased``;
* wallet: ``FundsHeld``, ``HoldRefused``, ``HoldCaptured``, ``HoldReleased``, ``HoldExpired``,
  and ``DelegateNamed`` / ``DelegateRevoked`` (who may book for a beneficiary);
* vouchers: none yet (service vouchers are not held by event yet): the domain's answers are
  source-neutral (``funds_held``...), a vouchers policy will call the same methods.

Answers about a booking this service does not know, or a request that is not a booking's, are
tracked and otherwise ignored.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import structlog
from benecomune_contracts import catalog, wallet
from servicekit.domain import NotFound
from servicekit.messages import Processing

from booking.domain.booking import Booking
from booking.domain.components import booking_of
from booking.domain.links import Delegation, HoldLink

if TYPE_CHECKING:
    from booking.application.app import BookingApplication

log = structlog.get_logger(__name__)


def moment(processing: Processing) -> datetime:
    """When the answer was given (its envelope's time), else now."""
    return processing.envelope.time if processing.envelope is not None else datetime.now(UTC)


def on_request(
    app: BookingApplication,
    request_id: str,
    processing: Processing,
    change: Callable[[Booking], None],
) -> Booking | None:
    booking_id = booking_of(request_id)
    if booking_id is None:
        return None
    try:
        booking = app.get_booking(booking_id)
    except NotFound:
        log.warning("answer_for_unknown_booking", request_id=request_id)
        return None
    change(booking)
    processing.collect_events(booking)
    return booking


def on_hold(
    app: BookingApplication, hold_id: str, processing: Processing, change: Callable[[Booking], None]
) -> None:
    try:
        link = app.get_aggregate(HoldLink.create_id("wallet", hold_id), HoldLink, "hold link")
        booking = app.get_booking(link.booking_id)
    except NotFound:
        return  # a hold the booking did not take (a spend, another caller's hold)
    change(booking)
    processing.collect_events(booking)


def apply_answer(app: BookingApplication, message: Any, processing: Processing) -> None:
    """Apply one participant's answer (dispatched on its contract type)."""
    at = moment(processing)
    if isinstance(message, catalog.SlotHeld):
        on_request(
            app, message.request_id, processing, lambda b: b.slot_held(message.request_id, at)
        )
    elif isinstance(message, catalog.SlotHoldRefused):
        on_request(
            app, message.request_id, processing,
            lambda b: b.slot_hold_refused(message.request_id, message.reason, at),
        )  # fmt: skip
    elif isinstance(message, catalog.SlotHoldConfirmed):
        on_request(
            app, message.request_id, processing, lambda b: b.slot_confirmed(message.request_id, at)
        )
    elif isinstance(message, catalog.SlotReleased):
        on_request(
            app, message.request_id, processing, lambda b: b.slot_released(message.request_id, at)
        )
    elif isinstance(message, wallet.FundsHeld):
        funds_held(app, message, processing, at)
    elif isinstance(message, wallet.HoldRefused):
        on_request(
            app, message.request_id, processing,
            lambda b: b.funds_hold_refused(message.request_id, message.reason_code, at),
        )  # fmt: skip
    elif isinstance(message, wallet.HoldCaptured):
        on_hold(
            app, message.hold_id, processing,
            lambda b: b.funds_captured(message.hold_id, message.amount_cents, at),
        )  # fmt: skip
    elif isinstance(message, wallet.HoldReleased | wallet.HoldExpired):
        how = "released" if isinstance(message, wallet.HoldReleased) else "expired"
        on_hold(
            app, message.hold_id, processing, lambda b: b.funds_released(message.hold_id, how, at)
        )


def funds_held(
    app: BookingApplication, message: wallet.FundsHeld, processing: Processing, at: datetime
) -> None:
    booking = on_request(
        app, message.request_id, processing,
        lambda b: b.funds_held(message.request_id, message.hold_id, at),
    )  # fmt: skip
    if booking is None:
        return
    link_id = HoldLink.create_id("wallet", message.hold_id)
    try:
        app.get_aggregate(link_id, HoldLink, "hold link")
    except NotFound:
        processing.collect_events(HoldLink("wallet", message.hold_id, booking.id))


def delegation(app: BookingApplication, message: Any, processing: Processing) -> None:
    """The wallet's word on who is an employee's (a beneficiary's) delegate."""
    try:
        record = app.get_aggregate(
            Delegation.create_id(message.employee_id), Delegation, "delegation"
        )
    except NotFound:
        record = Delegation(message.employee_id)
    if isinstance(message, wallet.DelegateNamed):
        record.name(message.delegate_id)
    else:
        record.revoke(message.delegate_id)
    processing.collect_events(record)
