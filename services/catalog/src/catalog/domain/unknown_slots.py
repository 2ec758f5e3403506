"""A booking's requests about a slot the catalog does not have (a wrong or made-up slot id).

There is no slot to record the answer on, yet the booking saga must hear one to settle: the
hold is refused (``unknown_slot``) and the release answered (nothing was held), each once, on
this record of the request.
"""

from __future__ import annotations

import uuid
from uuid import UUID

from eventsourcing.domain import event
from servicekit.domain import Aggregate

NAMESPACE = uuid.UUID("5b0d3f64-2f7e-4d6a-9a61-0c2e8f1b7d35")
UNKNOWN_SLOT = "unknown_slot"


class UnknownSlotRequest(Aggregate):
    class Noted(Aggregate.Created):
        slot_id: str
        request_id: str
        holder: str

    # Each event that leaves the service names the slot, the request and the holder.
    class HoldRefused(Aggregate.Event):
        slot_id: str
        request_id: str
        holder: str
        quantity: int
        code: str

    class Released(Aggregate.Event):
        slot_id: str
        request_id: str
        holder: str

    @event(Noted)
    def __init__(self, slot_id: str, request_id: str, holder: str) -> None:
        self.slot_id = slot_id
        self.request_id = request_id
        self.holder = holder
        self.refused = False
        self.released = False

    @staticmethod
    def create_id(slot_id: str, request_id: str, holder: str) -> UUID:
        return uuid.uuid5(NAMESPACE, f"{holder}/{slot_id}/{request_id}")

    @classmethod
    def note(cls, slot_id: str, request_id: str, holder: str) -> UnknownSlotRequest:
        return cls(slot_id=slot_id, request_id=request_id, holder=holder)

    def refuse_hold(self, quantity: int) -> bool:
        """Refuse the hold, once; False when it was refused already."""
        if self.refused:
            return False
        self._refuse(self.slot_id, self.request_id, self.holder, quantity, UNKNOWN_SLOT)
        return True

    def release(self) -> bool:
        """Answer the release (nothing was held), once; False when it was answered already."""
        if self.released:
            return False
        self._release(self.slot_id, self.request_id, self.holder)
        return True

    @event(HoldRefused)
    def _refuse(self, slot_id: str, request_id: str, holder: str, quantity: int, code: str) -> None:
        self.refused = True

    @event(Released)
    def _release(self, slot_id: str, request_id: str, holder: str) -> None:
        self.released = True
