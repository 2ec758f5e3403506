"""A ledger read from the service's store, through the hook the service exposes
(:mod:`benecomune_auditor.service_hooks`): its notification log, each stored event decoded to
the contract event the service's relay publishes, up to the last notification stored when
reading starts. Events with no contract are private (they never left the service): counted
and skipped. A row that cannot be decoded is named, and the reading goes on."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

from pydantic import ValidationError

from benecomune_auditor.records import AuditItem, AuditRecord, PrivateEvent, ReadProblem
from benecomune_auditor.service_hooks import LedgerStore
from benecomune_auditor.topic_reader.message import first_error

__all__ = ["EVENT_ID_NAMESPACE", "event_id", "store_records"]

EVENT_ID_NAMESPACE = uuid.UUID("6b1f4e2c-0c55-4d9b-9a57-3c3f1f0b7e11")
"""The CloudEvents id of a published event is ``uuid5(EVENT_ID_NAMESPACE, "<stream>/<sequence>")``
(the relay's rule, kept here as the auditor's own copy): stable across re-publication."""


def event_id(stream_id: uuid.UUID, sequence: int) -> str:
    """The CloudEvents id the relay gives the event at ``sequence`` of ``stream_id``."""
    return str(uuid.uuid5(EVENT_ID_NAMESPACE, f"{stream_id}/{sequence}"))


def store_records(store: LedgerStore, *, batch_size: int = 1000) -> Iterator[AuditItem]:
    """The service's notification log, decoded to contract events, up to the last notification
    stored when reading starts."""
    last = store.max_notification_id() or 0
    start = 1
    while start <= last:  # bounded: start moves past every batch read
        batch = store.select_notifications(start=start, limit=batch_size, stop=last)
        if not batch:
            return
        for notification in batch:
            yield _from_notification(store, notification)
        start = batch[-1].id + 1


def _from_notification(store: LedgerStore, notification: Any) -> AuditItem:
    origin = f"notification {notification.id}"
    stream_id = str(notification.originator_id)
    sequence = int(notification.originator_version)
    domain_type = str(notification.topic).partition(":")[2] or str(notification.topic)
    try:
        contract = store.contract_of(notification)
    except ValidationError as error:
        return ReadProblem(
            origin, "invalid_payload", first_error(error), stream_id, sequence, domain_type
        )
    except Exception as error:  # an edited or corrupted row: name it, keep going
        return ReadProblem(
            origin,
            "undecodable",
            f"{type(error).__name__}: {error}"[:300],
            stream_id,
            sequence,
            domain_type,
        )
    if contract is None:
        return PrivateEvent(origin)
    return AuditRecord(contract, origin, notification.id, event_id(uuid.UUID(stream_id), sequence))
