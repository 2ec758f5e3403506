"""A time slot of an offering, with a capacity in places.

Places are **held** for a pending booking (until the hold expires), then **confirmed** or
**released**. The booking saga drives these commands and may repeat them, so each is keyed by
the caller's request id and is idempotent: the same request id always means the same hold, a
repeated hold returns the first answer (granted or refused, never a second hold), a repeated
confirmation or release changes nothing, and a release that arrives before its hold leaves a
tombstone so the late hold is not granted.

Invariant, at every instant: confirmed places + places of unexpired holds ≤ capacity. Concurrent
holds on one slot are serialised by the store (optimistic concurrency on the slot's version).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal
from uuid import UUID

from eventsourcing.domain import event
from servicekit.domain import Aggregate

from catalog.domain.errors import (
    HoldNotActive,
    HoldNotFound,
    InvalidSlot,
    RequestMismatch,
)

SLOT_NAMESPACE = uuid.UUID("e7a2c4d1-3b9f-4f08-8c6e-5d1a0b7f2e93")
HoldStatus = Literal["held", "confirmed", "released", "refused"]
MAX_CAPACITY = 1000
MAX_SLOT_HOURS = 24 * 31
MIN_HOLD_SECONDS = 30
MAX_HOLD_SECONDS = 7 * 24 * 3600


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

    class HoldConfirmed(Aggregate.Event):
        request_id: str
        quantity: int

    class Released(Aggregate.Event):
        request_id: str
        quantity: int

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
        self.holds: dict[str, Hold] = {}

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
    ) -> Slot:
        if starts_at.tzinfo is None or ends_at.tzinfo is None:
            raise InvalidSlot("slot times must carry a time zone")
        if ends_at <= starts_at:
            raise InvalidSlot("a slot must end after it starts")
        if ends_at - starts_at > timedelta(hours=MAX_SLOT_HOURS):
            raise InvalidSlot(f"a slot lasts at most {MAX_SLOT_HOURS} hours")
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
        existing = self.holds.get(request_id)
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
            self._refuse(request_id, quantity, holder, f"only {available} places left")
        else:
            self._hold(
                request_id, quantity, holder, now + hold_for, self.offering_id, self.provider_id
            )
        return self.holds[request_id]

    def confirm(self, request_id: str, now: datetime) -> Hold:
        hold = self.check_hold(request_id)
        if hold.status == "confirmed":
            return hold  # a repeated confirmation changes nothing
        if hold.state_at(now) != "held":
            raise HoldNotActive(
                f"hold {request_id} is {hold.state_at(now)}: it cannot be confirmed"
            )
        self._confirm(request_id, hold.quantity)
        return hold

    def release(self, request_id: str) -> Hold:
        """Give the places back. Idempotent; a release before the hold leaves a tombstone."""
        check_request_id(request_id)
        hold = self.holds.get(request_id)
        if hold is not None and hold.status in ("released", "refused"):
            return hold
        self._release(request_id, hold.quantity if hold is not None else 0)
        return self.holds[request_id]

    def check_hold(self, request_id: str) -> Hold:
        hold = self.holds.get(request_id)
        if hold is None:
            raise HoldNotFound(f"slot {self.id} has no hold for request {request_id}")
        return hold

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
        self.holds[request_id] = Hold(request_id, quantity, holder, "held", expires_at)

    @event(HoldRefused)
    def _refuse(self, request_id: str, quantity: int, holder: str, reason: str) -> None:
        self.holds[request_id] = Hold(request_id, quantity, holder, "refused", None, reason)

    @event(HoldConfirmed)
    def _confirm(self, request_id: str, quantity: int) -> None:
        self.holds[request_id].status = "confirmed"

    @event(Released)
    def _release(self, request_id: str, quantity: int) -> None:
        hold = self.holds.get(request_id)
        if hold is None:
            self.holds[request_id] = Hold(request_id, 0, "", "released", None, "released first")
        else:
            hold.status = "released"


def check_places(value: int, label: str) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise InvalidSlot(f"{label} must be a whole number of places, at least 1")


def check_request_id(request_id: str) -> None:
    if not 1 <= len(request_id) <= 128 or not request_id.isprintable() or " " in request_id:
        raise InvalidSlot("a request id has 1-128 printable characters and no spaces")
