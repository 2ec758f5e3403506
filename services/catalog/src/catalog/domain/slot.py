"""A time slot of an offering, with a capacity in places.

Places are **held** for a pending booking (until the hold expires), then **confirmed** or
**released**. The booking saga drives these commands and may repeat them, so each is keyed by
the caller's request id **scoped by the caller** (the holder) and is idempotent: the same
holder and request id always mean the same hold, a repeated hold returns the first answer
(granted or refused, never a second hold), a repeated confirmation or release changes nothing,
and a release that arrives before its hold leaves a tombstone so the late hold is not granted.
Another caller sending the same request id makes a hold of its own: it never sees or changes
the first caller's.

A slot starts in the future (not more than two years ahead), ends after it starts and lasts at
most a month.

Invariant, at every instant: confirmed places + places of unexpired holds ≤ capacity. Concurrent
holds on one slot are serialised by the store (optimistic concurrency on the slot's version).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from uuid import UUID

from eventsourcing.domain import event
from servicekit.domain import Aggregate

from catalog.domain.errors import (
    HoldNotActive,
    HoldNotFound,
    InvalidSlot,
    RequestMismatch,
    SlotFull,
)

SLOT_NAMESPACE = uuid.UUID("e7a2c4d1-3b9f-4f08-8c6e-5d1a0b7f2e93")
HoldStatus = Literal["held", "confirmed", "released", "refused"]
MAX_CAPACITY = 1000
MAX_SLOT_HOURS = 24 * 31
MAX_DAYS_AHEAD = 2 * 365
MIN_HOLD_SECONDS = 30
MAX_HOLD_SECONDS = 7 * 24 * 3600
FULL = "not_enough_places"
RELEASED_FIRST = "released first"  # a release's tombstone: nothing was held
LATE_HOLD = "released before it arrived"  # the hold that came after its tombstone


BOOKING_HOLDER = "booking:"  # a booking saga's holds: booking:<booking id>


def booking_holder(booking_id: str) -> str:
    return f"{BOOKING_HOLDER}{booking_id}"


def is_booking_holder(holder: str | None) -> bool:
    return holder is not None and holder.startswith(BOOKING_HOLDER)


def slot_id_for(offering_id: UUID, starts_at: datetime) -> UUID:
    """One slot per offering and start time: opening it twice collides in the store."""
    return uuid.uuid5(SLOT_NAMESPACE, f"{offering_id}/{starts_at.isoformat()}")


@dataclass
class Hold:
    request_id: str
    quantity: int
    holder: str
    status: HoldStatus
    expires_at: datetime | None
    reason: str = ""

    def counts_at(self, moment: datetime) -> bool:
        """Whether the hold's places are taken at ``moment``."""
        if self.status == "confirmed":
            return True
        return self.status == "held" and self.expires_at is not None and moment < self.expires_at

    def state_at(self, moment: datetime) -> str:
        if self.status == "held" and not self.counts_at(moment):
            return "expired"
        return self.status

    def granted(self, slot_id: UUID) -> Hold:
        """The hold, if its places were granted: a refused hold is :class:`SlotFull`, one
        released before it arrived :class:`HoldNotActive`."""
        if self.status == "refused":
            raise SlotFull(f"slot {slot_id} cannot hold {self.quantity} places: {self.reason}")
        if self.status == "released":
            raise HoldNotActive(f"request {self.request_id} was released before its hold arrived")
        return self


class Slot(Aggregate):
    class Opened(Aggregate.Created):
        offering_id: UUID
        provider_id: str
        starts_at: datetime
        ends_at: datetime
        capacity: int

    class Held(Aggregate.Event):
        request_id: str
        quantity: int
        holder: str
        expires_at: datetime
        offering_id: UUID
        provider_id: str

    class HoldRefused(Aggregate.Event):
        request_id: str
        quantity: int
        holder: str
        reason: str
        code: str  # v2: the reason's code (every v1 refusal was for places)

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["code"] = FULL

    class HoldConfirmed(Aggregate.Event):
        request_id: str
        quantity: int
        # v2: whose hold (None in events recorded when request ids were not scoped by holder)
        holder: str | None

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["holder"] = None

    class Released(Aggregate.Event):
        request_id: str
        quantity: int
        holder: str | None  # v2, as HoldConfirmed's

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["holder"] = None

    @event(Opened)
    def __init__(
        self,
        offering_id: UUID,
        provider_id: str,
        starts_at: datetime,
        ends_at: datetime,
        capacity: int,
    ) -> None:
        self.offering_id = offering_id
        self.provider_id = provider_id
        self.starts_at = starts_at
        self.ends_at = ends_at
        self.capacity = capacity
        # By (holder, request id): a request id is the holder's own.
        self.holds: dict[tuple[str, str], Hold] = {}

    @staticmethod
    def create_id(offering_id: UUID, starts_at: datetime) -> UUID:
        return slot_id_for(offering_id, starts_at)

    @classmethod
    def open(
        cls,
        offering_id: UUID,
        provider_id: str,
        starts_at: datetime,
        ends_at: datetime,
        capacity: int,
        now: datetime | None = None,
    ) -> Slot:
        check_slot_times(starts_at, ends_at, now or datetime.now(UTC))
        check_places(capacity, "capacity")
        if capacity > MAX_CAPACITY:
            raise InvalidSlot(f"a slot has at most {MAX_CAPACITY} places")
        return cls(offering_id, provider_id, starts_at, ends_at, capacity)

    def taken_at(self, moment: datetime) -> int:
        return sum(h.quantity for h in self.holds.values() if h.counts_at(moment))

    def available_at(self, moment: datetime) -> int:
        return self.capacity - self.taken_at(moment)

    def hold(
        self,
        request_id: str,
        quantity: int,
        holder: str,
        now: datetime,
        hold_for: timedelta,
    ) -> Hold:
        """Hold ``quantity`` places for ``request_id``, or record the refusal; returns the hold
        (status ``held`` or ``refused``). A repeated request id returns the first outcome."""
        check_request_id(request_id)
        check_places(quantity, "quantity")
        existing = self.holds.get((holder, request_id)) or self.holds.get(("", request_id))
        if existing is not None:
            if existing.status != "released" and existing.quantity != quantity:
                raise RequestMismatch(
                    f"request {request_id} already asked for {existing.quantity} places, "
                    f"not {quantity}: use a new request id for a different hold"
                )
            return existing
        if now >= self.starts_at:
            raise InvalidSlot("the slot has already started: it cannot be held")
        seconds = hold_for.total_seconds()
        if not MIN_HOLD_SECONDS <= seconds <= MAX_HOLD_SECONDS:
            raise InvalidSlot(
                f"a hold lasts between {MIN_HOLD_SECONDS} seconds and "
                f"{MAX_HOLD_SECONDS // 86400} days"
            )
        available = self.available_at(now)
        if quantity > available:
            self._refuse(request_id, quantity, holder, f"only {available} places left", FULL)
        else:
            self._hold(
                request_id, quantity, holder, now + hold_for, self.offering_id, self.provider_id
            )
        return self.holds[(holder, request_id)]

    def asks_new_hold(self, holder: str, request_id: str) -> bool:
        """Whether a hold for this request would hold places anew (and so needs the offering
        bookable): not a repeat of a hold already granted, refused or confirmed."""
        known = self.holds.get((holder, request_id))
        return known is None or known.status == "released"

    def confirm(self, request_id: str, now: datetime, holder: str) -> Hold:
        hold = self.check_hold(request_id, holder)
        if hold.status == "confirmed":
            return hold  # a repeated confirmation changes nothing
        if hold.state_at(now) != "held":
            raise HoldNotActive(
                f"hold {request_id} is {hold.state_at(now)}: it cannot be confirmed"
            )
        self._confirm(request_id, hold.quantity, holder)
        return hold

    def release(self, request_id: str, holder: str) -> Hold:
        """Give the places back. Idempotent; a release before the hold leaves a tombstone."""
        check_request_id(request_id)
        hold = self.holds.get((holder, request_id))
        if hold is not None and hold.status in ("released", "refused"):
            return hold
        self._release(request_id, hold.quantity if hold is not None else 0, holder)
        return self.holds[(holder, request_id)]

    def check_hold(self, request_id: str, holder: str) -> Hold:
        hold = self.holds.get((holder, request_id))
        if hold is None:
            raise HoldNotFound(f"slot {self.id} has no hold of yours for request {request_id}")
        return hold

    def holders_of(self, request_id: str) -> list[str]:
        """Who holds (or held) places under this request id, for the provider or the operator
        settling a hold that is not theirs."""
        return sorted(h for (h, r) in self.holds if r == request_id and h)

    def _key(self, request_id: str, holder: str | None) -> tuple[str, str]:
        """The hold an event names; events recorded before request ids were scoped by holder
        name none, and then the request id alone was unique in the slot."""
        if holder is not None:
            return (holder, request_id)
        for key in self.holds:
            if key[1] == request_id:
                return key
        return ("", request_id)

    @event(Held)
    def _hold(
        self,
        request_id: str,
        quantity: int,
        holder: str,
        expires_at: datetime,
        offering_id: UUID,
        provider_id: str,
    ) -> None:
        self.holds[(holder, request_id)] = Hold(request_id, quantity, holder, "held", expires_at)

    def refuse(self, request_id: str, quantity: int, holder: str, code: str, reason: str) -> Hold:
        """Record a refusal decided outside the slot (its offering cannot be booked...) for a
        request not answered yet; the hold that came after its release's tombstone is refused
        as ``released_first``; otherwise the first answer stands."""
        known = self.holds.get((holder, request_id))
        if known is None:
            self._refuse(request_id, quantity, holder, reason, code)
        elif self.is_tombstone(known):
            self._refuse(request_id, quantity, holder, LATE_HOLD, "released_first")
        return self.holds[(holder, request_id)]

    @staticmethod
    def is_tombstone(hold: Hold) -> bool:
        """A release that came before its hold: the hold, when it comes, is refused."""
        return hold.status == "released" and hold.reason == RELEASED_FIRST

    def release_answered(self, request_id: str, holder: str) -> Hold | None:
        """Release for a caller that hears an answer to every release (the booking saga):
        places held or confirmed go back; a release before the hold leaves a tombstone; a
        refused hold's release gives back nothing (quantity 0) but is answered. Once: None
        when this release was answered already."""
        check_request_id(request_id)
        hold = self.holds.get((holder, request_id))
        if hold is None or hold.status in ("held", "confirmed"):
            self._release(request_id, hold.quantity if hold is not None else 0, holder)
        elif hold.status == "refused" and hold.reason != LATE_HOLD:
            self._release(request_id, 0, holder)
        else:
            return None
        return self.holds[(holder, request_id)]

    @event(HoldRefused)
    def _refuse(self, request_id: str, quantity: int, holder: str, reason: str, code: str) -> None:
        self.holds[(holder, request_id)] = Hold(
            request_id, quantity, holder, "refused", None, reason
        )

    @event(HoldConfirmed)
    def _confirm(self, request_id: str, quantity: int, holder: str | None) -> None:
        self.holds[self._key(request_id, holder)].status = "confirmed"

    @event(Released)
    def _release(self, request_id: str, quantity: int, holder: str | None) -> None:
        key = self._key(request_id, holder)
        hold = self.holds.get(key)
        if hold is None:
            self.holds[key] = Hold(request_id, 0, key[0], "released", None, RELEASED_FIRST)
        else:
            hold.status = "released"


def check_slot_times(starts_at: datetime, ends_at: datetime, now: datetime) -> None:
    """A slot people can book: in the future, within two years, ending after it starts, at
    most a month long."""
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise InvalidSlot("slot times must carry a time zone")
    if starts_at <= now:
        raise InvalidSlot(
            f"a slot cannot start in the past: starts_at {starts_at.isoformat()} is before now "
            f"({now.isoformat(timespec='seconds')})",
            starts_at=starts_at.isoformat(),
            now=now.isoformat(timespec="seconds"),
        )
    latest = now + timedelta(days=MAX_DAYS_AHEAD)
    if starts_at > latest:
        raise InvalidSlot(
            f"a slot starts at most {MAX_DAYS_AHEAD} days ahead (by {latest.date().isoformat()}):"
            f" starts_at {starts_at.isoformat()} is too far",
            starts_at=starts_at.isoformat(),
            latest_start=latest.isoformat(timespec="seconds"),
        )
    if ends_at <= starts_at:
        raise InvalidSlot(
            f"a slot must end after it starts: ends_at {ends_at.isoformat()} is not after "
            f"starts_at {starts_at.isoformat()}"
        )
    if ends_at - starts_at > timedelta(hours=MAX_SLOT_HOURS):
        raise InvalidSlot(
            f"a slot lasts at most {MAX_SLOT_HOURS} hours ({MAX_SLOT_HOURS // 24} days)",
            max_hours=MAX_SLOT_HOURS,
        )


def check_places(value: int, label: str) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise InvalidSlot(f"{label} must be a whole number of places, at least 1")


def check_request_id(request_id: str) -> None:
    if not 1 <= len(request_id) <= 128 or not request_id.isprintable() or " " in request_id:
        raise InvalidSlot("a request id has 1-128 printable characters and no spaces")
