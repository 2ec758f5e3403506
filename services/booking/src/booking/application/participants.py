"""The participants' answers, as the booking's policy applies them (the kit's consumer stores
their effects with its tracking positions, in one transaction: each answer has its effect
once). An answer is believed only if it is really for the booking it names:

* catalog (``SlotHeld``, ``SlotHoldRefused``, ``SlotHoldConfirmed``, ``SlotReleased``): the
  request id names the booking (``booking:<booking id>:<step>``) and must be one of that
  booking's slot requests, for the slot it asked; the catalog names the holder
  (``booking:<booking id>``): an answer whose holder is another is ignored (logged), one
  without a holder (an older catalog) is accepted only for a request id of the booking;
* wallet and vouchers: :mod:`booking.application.funds_answers`;
* the catalog's offerings and slots (``OfferingPublished`` with its terms,
  ``OfferingPriceChanged``, ``OfferingWithdrawn``, ``SlotOpened``) are recorded
  (:mod:`booking.domain.catalog_facts`): a booking takes its facts from them.

Answers about a booking this service does not know, or a request that is not a booking's, are
tracked and otherwise ignored.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

import structlog
from benecomune_contracts import catalog, wallet
from servicekit.domain import NotFound
from servicekit.messages import Processing

from booking.domain.booking import Booking
from booking.domain.catalog_facts import OfferingRecord, SlotRecord
from booking.domain.components import booking_of
from booking.domain.links import Delegation

if TYPE_CHECKING:
    from booking.application.app import BookingApplication

log = structlog.get_logger(__name__)

Check = Callable[[Booking], str | None]
"""Why an answer is not this booking's (None: it is)."""


def moment(processing: Processing) -> datetime:
    """When the answer was given (its envelope's time), else now."""
    return processing.envelope.time if processing.envelope is not None else datetime.now(UTC)


def on_booking(
    app: BookingApplication,
    booking_id: UUID | None,
    processing: Processing,
    change: Callable[[Booking], None],
    check: Check | None = None,
    answer: str = "",
) -> Booking | None:
    """Apply ``change`` to the booking if it exists and ``check`` finds the answer its own."""
    if booking_id is None:
        return None
    try:
        booking = app.get_booking(booking_id)
    except NotFound:
        log.warning("answer_for_unknown_booking", booking_id=str(booking_id), answer=answer)
        return None
    why = check(booking) if check is not None else None
    if why is not None:
        log.warning("answer_ignored", booking_id=str(booking_id), answer=answer, why=why)
        return None
    change(booking)
    processing.collect_events(booking)
    return booking


SlotAnswer = (
    catalog.SlotHeld | catalog.SlotHoldRefused | catalog.SlotHoldConfirmed | catalog.SlotReleased
)


def slot_check(message: SlotAnswer) -> Check:
    """The catalog's answer is this booking's: its holder (when given) is the booking, and the
    request is one of the booking's slot requests, for the slot it named."""

    def check(booking: Booking) -> str | None:
        if message.holder is not None and message.holder != f"booking:{booking.id}":
            return f"held for {message.holder}, not this booking"
        found = booking.find_slot_hold(message.request_id)
        if found is None:
            return "not a slot request of this booking"
        if found[1].slot_id != message.slot_id:
            return f"for slot {message.slot_id}, not {found[1].slot_id}"
        return None

    return check


def apply_slot_answer(app: BookingApplication, message: SlotAnswer, processing: Processing) -> None:
    at = moment(processing)
    rid = message.request_id
    change: Callable[[Booking], None]
    if isinstance(message, catalog.SlotHeld):
        change = lambda b: b.slot_held(rid, at)  # noqa: E731
    elif isinstance(message, catalog.SlotHoldRefused):
        change = lambda b: b.slot_hold_refused(rid, message.reason, at)  # noqa: E731
    elif isinstance(message, catalog.SlotHoldConfirmed):
        change = lambda b: b.slot_confirmed(rid, at)  # noqa: E731
    else:
        change = lambda b: b.slot_released(rid, at)  # noqa: E731
    on_booking(
        app, booking_of(rid), processing, change, slot_check(message), type(message).__name__
    )


# --- the catalog's offerings -------------------------------------------------------------------


def record_offering(app: BookingApplication, message: Any, processing: Processing) -> None:
    """Keep what the catalog published of an offering or a slot (a booking's facts)."""
    if isinstance(message, catalog.SlotOpened):
        try:
            app.get_aggregate(SlotRecord.create_id(message.slot_id), SlotRecord, "slot")
        except NotFound:
            record = SlotRecord(
                message.slot_id, message.offering_id, message.provider_id,
                message.starts_at, message.ends_at,
            )  # fmt: skip
            processing.collect_events(record)
        return
    offering_id = OfferingRecord.create_id(message.offering_id)
    try:
        offering: OfferingRecord | None = app.get_aggregate(offering_id, OfferingRecord, "offering")
    except NotFound:
        offering = None
    if isinstance(message, catalog.OfferingPublished):
        terms = message.terms.model_dump() if message.terms is not None else {}
        args = (message.provider_id, message.category, message.price_cents, terms)
        if offering is None:
            offering = OfferingRecord(message.offering_id, *args, message.published_at)
        else:
            offering.republish(*args, message.published_at)
    elif offering is None:
        return  # a change of an offering published before this service listened
    elif isinstance(message, catalog.OfferingPriceChanged):
        offering.change_price(message.price_cents, message.effective_from)
    elif isinstance(message, catalog.OfferingWithdrawn):
        offering.withdraw(message.withdrawn_at)
    processing.collect_events(offering)


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
