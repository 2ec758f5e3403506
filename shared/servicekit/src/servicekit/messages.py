"""How a service's policy sees a message from another service: the contract event plus its
CloudEvents envelope (ids, source, correlation), delivered inside the processing event whose
collected domain events are stored atomically with the tracking positions."""

from __future__ import annotations

from uuid import UUID

from benecomune_contracts import EventEnvelope
from eventsourcing.application import ProcessingEvent
from eventsourcing.persistence import Tracking


class Processing(ProcessingEvent[UUID]):
    def __init__(self, tracking: Tracking | None, envelope: EventEnvelope | None = None) -> None:
        super().__init__(tracking)
        self.envelope = envelope
