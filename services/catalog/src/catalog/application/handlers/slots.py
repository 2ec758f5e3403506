"""Slots: a provider opens them (one, or a weekly availability); bookings hold places, then
confirm or release them.

Holds are the hot path (many bookings at once on a popular slot): they, and the confirmations
and releases of the same slots, go through the kit's group commit (``store.group_commit``), and
any collision with another process's write is retried on fresh state, so a slot is never
oversold.

The booking saga asks by event (``benecomune.booking``): the application's policy hands each
request to ``booking_hold``, ``booking_confirm`` or ``booking_release``, which apply the same
slot rules on a fresh unit of work; what changed is collected into the processing event and
stored with the message's tracking positions (a collision with a concurrent hold runs the
policy again on fresh state). The holder is the booking (``booking:<booking id>``); every
request is answered once, refusals included (with a reason code).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from uuid import UUID

import structlog
from benecomune_contracts import booking
from eventsourcing.persistence import IntegrityError
from servicekit.batching import UnitOfWork
from servicekit.domain import Conflict, DomainError, NotFound
from servicekit.messages import Processing

from catalog.application import commands as cmd
from catalog.application.store import CatalogStore, now_utc
from catalog.domain.bookability import booking_refusal, check_bookable
from catalog.domain.errors import InvalidBookingRequest
from catalog.domain.slot import MAX_HOLD_SECONDS, MIN_HOLD_SECONDS, Hold, Slot, booking_holder
from catalog.domain.unknown_slots import UnknownSlotRequest
from catalog.domain.weekly_slots import weekly_slots

log = structlog.get_logger(__name__)


def open_slot(store: CatalogStore, offering_id: UUID, command: cmd.OpenSlot) -> UUID:
    offering = store.get_offering(offering_id)
    offering.check_can_open_slots()
    starts_at, ends_at = command.starts_at.astimezone(UTC), command.ends_at.astimezone(UTC)
    slot = Slot.open(
        offering.id, offering.provider_id, starts_at, ends_at, command.capacity, now=now_utc()
    )
    try:
        store.save(slot)
    except IntegrityError:
        raise Conflict(
            f"offering {offering_id} already has a slot starting at {command.starts_at.isoformat()}"
        ) from None
    return slot.id


def open_weekly_slots(
    store: CatalogStore, offering_id: UUID, command: cmd.OpenWeeklySlots
) -> list[UUID]:
    """Slots for every weekly time between the dates (territory's local time), skipping the
    exception dates and the slots that already exist; returns the new slots' ids."""
    offering = store.get_offering(offering_id)
    zone = store.territory.zoneinfo
    new = weekly_slots(offering, command, zone, now_utc(), lambda id_: id_ in store.repository)
    if new:
        try:
            store.save(*new)
        except IntegrityError:
            raise Conflict("slots were opened concurrently for these times; try again") from None
    return [s.id for s in new]


def hold_slot(
    store: CatalogStore, slot_id: UUID, command: cmd.HoldSlot, holder: str, now: datetime | None
) -> Hold:
    """Hold places for a pending booking. The same request id always gives the same answer:
    the hold granted first, or the refusal recorded first (409 slot_full)."""
    change = _hold(store, slot_id, command, holder, now or now_utc())
    return store.group_commit(change).granted(slot_id)


async def hold_slot_async(
    store: CatalogStore, slot_id: UUID, command: cmd.HoldSlot, holder: str, now: datetime | None
) -> Hold:
    """As :func:`hold_slot`, for the HTTP API: awaited, so a booking waiting for its batch to be
    stored holds no thread."""
    change = _hold(store, slot_id, command, holder, now or now_utc())
    return (await store.group_commit_async(change)).granted(slot_id)


def _hold(
    store: CatalogStore, slot_id: UUID, command: cmd.HoldSlot, holder: str, at: datetime
) -> Callable[[UnitOfWork], Hold]:
    seconds = command.hold_seconds or store.catalog_settings.default_hold_seconds

    def change(uow: UnitOfWork) -> Hold:
        slot = uow.get(slot_id, Slot, "slot")
        if slot.asks_new_hold(holder, command.request_id):
            # Read fresh from the store, not through the unit of work: the writer keeps
            # aggregates warm between batches, and one only read there (never saved) would not
            # be refreshed by a collision, so a suspension could go unseen.
            offering = store.get_offering(slot.offering_id)
            check_bookable(offering, store.get_provider(slot.provider_id))
        hold = slot.hold(
            command.request_id, command.quantity, holder, at, timedelta(seconds=seconds)
        )
        return dataclasses.replace(hold)  # a copy: the slot's own may change in a later batch

    return change


def confirm_hold(
    store: CatalogStore, slot_id: UUID, request_id: str, holder: str, now: datetime | None
) -> Hold:
    """Confirm ``holder``'s hold for ``request_id`` (a request id is its holder's own)."""
    at = now or now_utc()

    def change(uow: UnitOfWork) -> Hold:
        return dataclasses.replace(uow.get(slot_id, Slot, "slot").confirm(request_id, at, holder))

    # Through the same writer as holds, so its warm copy of the slot stays current.
    return store.group_commit(change)


def release_hold(store: CatalogStore, slot_id: UUID, request_id: str, holder: str) -> Hold:
    def change(uow: UnitOfWork) -> Hold:
        return dataclasses.replace(uow.get(slot_id, Slot, "slot").release(request_id, holder))

    return store.group_commit(change)


# --- the booking saga's requests (by event) ----------------------------------------------------


def booking_hold(
    store: CatalogStore, request: booking.SlotHoldRequested, processing: Processing
) -> None:
    """Hold places for the booking, or refuse with a reason code; once per request id (a
    hold that arrives after its release is refused, ``released_first``)."""
    holder = _holder(request.booking_id, request.request_id)
    uow = UnitOfWork(store)
    slot = _slot(uow, request.slot_id)
    if slot is None:
        unknown = _unknown(store, request.slot_id, request.request_id, holder)
        unknown.refuse_hold(request.quantity)
        processing.collect_events(unknown)
        return
    rid, quantity = request.request_id, request.quantity
    known = slot.holds.get((holder, rid))
    if known is not None and not Slot.is_tombstone(known):
        return  # answered before: the first answer stands
    now = now_utc()
    refusal = None if known is not None else _refusal(store, slot, request, now)
    if known is not None or refusal is not None:
        code, reason = refusal or ("released_first", "")
        slot.refuse(rid, quantity, holder, code, reason)
    else:
        hold_for = min(request.expires_at - now, timedelta(seconds=MAX_HOLD_SECONDS))
        try:
            slot.hold(rid, quantity, holder, now, hold_for)
        except DomainError as refused:  # a rule of the slot's: told, not raised
            slot.refuse(rid, quantity, holder, refused.code, str(refused))
    processing.collect_events(*uow.changed())


def booking_confirm(
    store: CatalogStore, request: booking.SlotConfirmRequested, processing: Processing
) -> None:
    """Confirm the booking's hold, once. A hold that is not held (expired, released, refused,
    unknown) cannot be confirmed: logged, and the booking hears nothing."""
    holder = _holder(request.booking_id, request.request_id)
    uow = UnitOfWork(store)
    slot = _slot(uow, request.slot_id)
    try:
        if slot is None:
            raise NotFound(f"no slot with id {request.slot_id}")
        if slot.check_hold(request.request_id, holder).status == "confirmed":
            return  # answered before
        slot.confirm(request.request_id, now_utc(), holder)
    except DomainError as refused:
        log.warning("booking_confirmation_refused", request_id=request.request_id, why=str(refused))
        return
    processing.collect_events(*uow.changed())


def booking_release(
    store: CatalogStore, request: booking.SlotReleaseRequested, processing: Processing
) -> None:
    """Give the booking's places back, or leave a tombstone when the hold has not arrived (it
    will be refused), or answer a refused hold's release with nothing given back; once."""
    holder = _holder(request.booking_id, request.request_id)
    uow = UnitOfWork(store)
    slot = _slot(uow, request.slot_id)
    if slot is None:
        unknown = _unknown(store, request.slot_id, request.request_id, holder)
        unknown.release()
        processing.collect_events(unknown)
        return
    slot.release_answered(request.request_id, holder)
    processing.collect_events(*uow.changed())


def _holder(booking_id: str, request_id: str) -> str:
    """The booking's holder name; its request ids are ``booking:<booking id>:<step>``."""
    holder = booking_holder(booking_id)
    if not request_id.startswith(f"{holder}:"):
        raise InvalidBookingRequest(
            f"request {request_id} does not belong to booking {booking_id}: not answered"
        )
    return holder


def _slot(uow: UnitOfWork, slot_id: str) -> Slot | None:
    try:
        return uow.get(UUID(slot_id), Slot, "slot")
    except (ValueError, NotFound):
        return None


def _unknown(store: CatalogStore, slot_id: str, request_id: str, holder: str) -> UnknownSlotRequest:
    try:
        return store.get_aggregate(
            UnknownSlotRequest.create_id(slot_id, request_id, holder),
            UnknownSlotRequest,
            "request",
        )
    except NotFound:
        return UnknownSlotRequest.note(slot_id, request_id, holder)


def _refusal(
    store: CatalogStore, slot: Slot, request: booking.SlotHoldRequested, now: datetime
) -> tuple[str, str] | None:
    """Why the booking cannot hold the slot now (code, reason), before counting places."""
    if request.offering_id != str(slot.offering_id) or request.provider_id != slot.provider_id:
        return (
            "slot_mismatch",
            f"slot {slot.id} is of offering {slot.offering_id} by {slot.provider_id}, not "
            f"{request.offering_id} by {request.provider_id}",
        )
    # Read fresh from the store: a suspension or a withdrawal saved a moment ago counts.
    refusal = booking_refusal(
        store.get_offering(slot.offering_id), store.get_provider(slot.provider_id)
    )
    if refusal is not None:
        return refusal
    if now >= slot.starts_at:
        return "slot_started", f"the slot started at {slot.starts_at.isoformat()}"
    if request.expires_at - now < timedelta(seconds=MIN_HOLD_SECONDS):
        return "hold_expired", f"the hold was to expire at {request.expires_at.isoformat()}"
    return None
