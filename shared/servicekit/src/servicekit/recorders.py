"""Process recorders that store more than one tracking position in the same transaction.

A Kafka consumer needs two positions per partition, both written atomically with the effects:
the upstream notification id (so a message re-published by a restarted relay, which arrives at a
*new* offset, is still recognised as a duplicate) and the Kafka offset (so that on partition
assignment the consumer seeks to where its own store says, not to where Kafka's committed offset
says: the store is the truth). eventsourcing records one ``Tracking``; these subclasses record the
extra positions passed as ``extra_tracking`` through ``ProcessingEvent.saved_kwargs``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresProcessRecorder
from eventsourcing.sqlite import SQLiteProcessRecorder

EXTRA_TRACKING = "extra_tracking"


class SQLiteRecorderWithPositions(SQLiteProcessRecorder):
    def _insert_events(self, c: Any, stored_events: Sequence[Any], **kwargs: Any) -> Any:
        returning = super()._insert_events(c, stored_events, **kwargs)
        extra: Sequence[Tracking] = kwargs.get(EXTRA_TRACKING, ())
        for tracking in extra:
            self._insert_tracking(c, tracking)
        return returning


class PostgresRecorderWithPositions(PostgresProcessRecorder):
    def _insert_events(self, curs: Any, stored_events: Sequence[Any], **kwargs: Any) -> Any:
        returning = super()._insert_events(curs, stored_events, **kwargs)
        extra: Sequence[Tracking] = kwargs.get(EXTRA_TRACKING, ())
        for tracking in extra:
            self._insert_tracking(curs, tracking)
        return returning
