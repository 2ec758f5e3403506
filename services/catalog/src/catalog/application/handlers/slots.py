"""Slots: a provider opens them (one, or a weekly availability); bookings hold places, then
confirm or release them.

Holds are the hot path (many bookings at once on a popular slot): they, and the confirmations
and releases of the same slots, go through the kit's group commit (``store.group_commit``), and
any collision with another process's write is retried on fresh state, so a slot is never
oversold.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from uuid import UUID

from eventsourcing.persistence import IntegrityError
from servicekit.batching import UnitOfWork
from servicekit.domain import Conflict

from catalog.application import commands as cmd
from catalog.application.store import CatalogStore, now_utc
from catalog.domain.bookability import check_bookable
from catalog.domain.slot import Hold, Slot
from catalog.domain.weekly_slots import weekly_slots


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
