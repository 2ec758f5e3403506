"""Small records the booking keeps of other services' facts it needs to route answers and to
check who acts for whom:

* :class:`HoldLink`: which booking a participant's hold belongs to. The wallet's answers to a
  capture or a release (``HoldCaptured``, ``HoldReleased``, ``HoldExpired``) name the hold, not
  the request; the link is recorded with the ``FundsHeld`` that named both.
* :class:`Delegation`: who is a beneficiary's current delegate (the wallet's ``DelegateNamed``
  and ``DelegateRevoked``): a delegate books and follows the beneficiary's bookings.
"""

from __future__ import annotations

import uuid
from uuid import UUID

from eventsourcing.domain import event
from servicekit.domain import Aggregate

LINK_NAMESPACE = UUID("0b9f1c52-8d7e-4a4a-a5f1-2e6c7d3b8a41")


class HoldLink(Aggregate):
    class Linked(Aggregate.Created):
        source_kind: str
        hold_id: str
        booking_id: UUID

    @staticmethod
    def create_id(source_kind: str, hold_id: str) -> UUID:
        return uuid.uuid5(LINK_NAMESPACE, f"hold/{source_kind}/{hold_id}")

    @event(Linked)
    def __init__(self, source_kind: str, hold_id: str, booking_id: UUID) -> None:
        self.source_kind = source_kind
        self.hold_id = hold_id
        self.booking_id = booking_id


class Delegation(Aggregate):
    class Opened(Aggregate.Created):
        beneficiary_id: str

    class Named(Aggregate.Event):
        delegate_id: str

    class Revoked(Aggregate.Event):
        delegate_id: str

    @staticmethod
    def create_id(beneficiary_id: str) -> UUID:
        return uuid.uuid5(LINK_NAMESPACE, f"delegation/{beneficiary_id}")

    @event(Opened)
    def __init__(self, beneficiary_id: str) -> None:
        self.beneficiary_id = beneficiary_id
        self.delegate_id: str | None = None

    def name(self, delegate_id: str) -> None:
        if self.delegate_id != delegate_id:
            self._named(delegate_id)

    def revoke(self, delegate_id: str) -> None:
        if self.delegate_id == delegate_id:
            self._revoked(delegate_id)

    def is_delegate(self, subject_id: str) -> bool:
        return self.delegate_id is not None and self.delegate_id == subject_id

    @event(Named)
    def _named(self, delegate_id: str) -> None:
        self.delegate_id = delegate_id

    @event(Revoked)
    def _revoked(self, delegate_id: str) -> None:
        self.delegate_id = None
