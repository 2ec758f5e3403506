"""Process recorders that store more than one tracking position in the same transaction, and
where each transaction's events begin and end.

A Kafka consumer needs two positions per partition, both written atomically with the effects:
the upstream notification id (so a message re-published by a restarted relay, which arrives at a
*new* offset, is still recognised as a duplicate) and the Kafka offset (so that on partition
assignment the consumer seeks to where its own store says, not to where Kafka's committed offset
says: the store is the truth). eventsourcing records one ``Tracking``; these subclasses record the
extra positions passed as ``extra_tracking`` through ``ProcessingEvent.saved_kwargs``.

They also record, in the same transaction, the first and last notification id of the events
each transaction stored (``<events table>_transactions``). The notification log does not say
which events were stored together — a redemption and the shop's credit — and a reader that
stops part-way through the log (an auditor replaying a live topic) must not keep one without
the other. The relay publishes each event with its transaction's end
(:data:`benecomune_contracts.cloudevents.CE_TRANSACTIONEND`) and never ends a batch inside a
transaction. Events stored before this table existed have no recorded transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresProcessRecorder
from eventsourcing.sqlite import SQLiteProcessRecorder
from psycopg.sql import SQL, Identifier

EXTRA_TRACKING = "extra_tracking"

Transaction = tuple[int, int]
"""The first and the last notification id a transaction stored."""


class SQLiteRecorderWithPositions(SQLiteProcessRecorder):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.transactions_table_name = f"{self.events_table_name}_transactions"
        self.create_table_statements.append(
            f"CREATE TABLE IF NOT EXISTS {self.transactions_table_name} ("
            "last_id INTEGER PRIMARY KEY, first_id INTEGER NOT NULL)"
        )

    def _insert_events(self, c: Any, stored_events: Sequence[Any], **kwargs: Any) -> Any:
        returning = super()._insert_events(c, stored_events, **kwargs)
        extra: Sequence[Tracking] = kwargs.get(EXTRA_TRACKING, ())
        for tracking in extra:
            self._insert_tracking(c, tracking)
        if returning:
            c.execute(
                f"INSERT INTO {self.transactions_table_name} (last_id, first_id) VALUES (?, ?)",
                (max(returning), min(returning)),
            )
        return returning

    def select_transactions(self, first: int, last: int) -> list[Transaction]:
        """The transactions holding any notification id from ``first`` to ``last``."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT first_id, last_id FROM {self.transactions_table_name} "
                "WHERE last_id >= ? AND first_id <= ? ORDER BY last_id",
                (first, last),
            )
            return [(int(row[0]), int(row[1])) for row in c.fetchall()]


class PostgresRecorderWithPositions(PostgresProcessRecorder):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.datastore.enable_db_functions:
            # eventsourcing's database function inserts the events without the hooks below:
            # the extra positions and the transactions would silently not be recorded.
            raise ValueError(
                "POSTGRES_ENABLE_DB_FUNCTIONS is not supported by the Benecomune store: it "
                "records tracking positions and transactions with the events"
            )
        self.transactions_table_name = f"{self.events_table_name}_transactions"
        table = (Identifier(self.datastore.schema), Identifier(self.transactions_table_name))
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {0}.{1} ("
                "last_id bigint PRIMARY KEY, first_id bigint NOT NULL)"
            ).format(*table)
        )
        self._insert_transaction = SQL(
            "INSERT INTO {0}.{1} (last_id, first_id) VALUES (%s, %s)"
        ).format(*table)
        self._select_transactions = SQL(
            "SELECT first_id, last_id FROM {0}.{1} "
            "WHERE last_id >= %s AND first_id <= %s ORDER BY last_id"
        ).format(*table)

    def _insert_events(self, curs: Any, stored_events: Sequence[Any], **kwargs: Any) -> Any:
        returning = super()._insert_events(curs, stored_events, **kwargs)
        extra: Sequence[Tracking] = kwargs.get(EXTRA_TRACKING, ())
        for tracking in extra:
            self._insert_tracking(curs, tracking)
        return returning

    def _fetch_ids_after_insert_events(
        self, curs: Any, stored_events: Sequence[Any], **kwargs: Any
    ) -> Any:
        # The ids are known only once the events are inserted, still inside the transaction.
        ids = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        if ids:
            curs.execute(self._insert_transaction, (max(ids), min(ids)), prepare=True)
        return ids

    def select_transactions(self, first: int, last: int) -> list[Transaction]:
        """The transactions holding any notification id from ``first`` to ``last``."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self._select_transactions, (first, last), prepare=True)
            return [(int(row["first_id"]), int(row["last_id"])) for row in curs.fetchall()]
