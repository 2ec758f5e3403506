"""A notice: one message for one recipient, caused by one upstream domain event.

Its id is derived from the upstream event's id, so the same upstream event can never create two
notices even if every other guard failed.
"""

from __future__ import annotations

import uuid

from eventsourcing.domain import event
from servicekit.domain import Aggregate

NOTICE_NAMESPACE = uuid.UUID("0f4b8a52-5f7e-4a8e-9d0e-1b7c5a3e9f21")


def notice_id_for(source_event_id: str, recipient: str) -> uuid.UUID:
    return uuid.uuid5(NOTICE_NAMESPACE, f"{source_event_id}->{recipient}")


class Notice(Aggregate):
    class Recorded(Aggregate.Created):
        recipient: str
        template: str
        params: dict[str, str]
        source_event_id: str
        source_subject: str
        source_sequence: int
        source_notification_id: int

    @event(Recorded)
    def __init__(
        self,
        recipient: str,
        template: str,
        params: dict[str, str],
        source_event_id: str,
        source_subject: str,
        source_sequence: int,
        source_notification_id: int,
    ) -> None:
        self.recipient = recipient
        self.template = template
        self.params = params
        self.source_event_id = source_event_id
        self.source_subject = source_subject
        self.source_sequence = source_sequence
        self.source_notification_id = source_notification_id
        self.read = False

    @staticmethod
    def create_id(
        recipient: str,
        template: str,
        params: dict[str, str],
        source_event_id: str,
        source_subject: str,
        source_sequence: int,
        source_notification_id: int,
    ) -> uuid.UUID:
        return notice_id_for(source_event_id, recipient)
