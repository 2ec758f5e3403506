"""Which notifications events leave the service: that a notice exists, never its text."""

from __future__ import annotations

from benecomune_contracts import ContractEvent
from benecomune_contracts.notifications import NoticeRecorded

from notifications.domain.notice import Notice


def to_contract(event: object) -> ContractEvent | None:
    if isinstance(event, Notice.Recorded):
        return NoticeRecorded(
            notice_id=str(event.originator_id),
            recipient=event.recipient,
            template=event.template,
            source_event_id=event.source_event_id,
            recorded_at=event.timestamp,
        )
    return None
