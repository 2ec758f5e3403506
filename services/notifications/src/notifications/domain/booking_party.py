"""Whose booking it is: where its notices go.

The booking's facts name the beneficiary when it is requested, confirmed, compensated or
cancelled, but not when one of its components is delivered: the beneficiary named by
``BookingRequested`` is remembered (a pseudonymous id, as the booking topic carries it).
"""

from __future__ import annotations

import uuid

from eventsourcing.domain import event
from servicekit.domain import Aggregate

BOOKING_PARTY_NAMESPACE = uuid.UUID("8e2b6f0a-4c1d-4f7a-b3e5-9d2c7a1f6b40")


class BookingParty(Aggregate):
    """The beneficiary of one booking (its id derived from the booking's)."""

    class Recorded(Aggregate.Created):
        booking_id: str
        beneficiary_id: str

    @event(Recorded)
    def __init__(self, booking_id: str, beneficiary_id: str) -> None:
        self.booking_id = booking_id
        self.beneficiary_id = beneficiary_id

    @staticmethod
    def create_id(booking_id: str, beneficiary_id: str) -> uuid.UUID:
        return BookingParty.id_for(booking_id)

    @staticmethod
    def id_for(booking_id: str) -> uuid.UUID:
        return uuid.uuid5(BOOKING_PARTY_NAMESPACE, booking_id)
