"""Reading a whole ledger topic for the auditor, fast and in bounded memory.

:mod:`benecomune_auditor.kafka_copy` describes *what* the auditor reads; this package is *how* a big
topic is read: the partitions are fetched from offset 0 up to the end offsets captured when the
audit starts, and every message is released in the producer's order (``merge_partitions``'s order:
its notification id, then partition and offset) as soon as no partition can still bring an earlier
one — so a topic of millions of events is never held in memory.

With worker processes (one per core, each with its own consumer and its own partitions), every
message is parsed in a worker — CloudEvents headers, the payload validated against its
contract, headers checked against the payload — and every ledger event's hash is recomputed
there (:meth:`~benecomune_contracts.chain.LedgerEvent.computed_hash`). The parent process
merges the workers' streams, validates each payload again to get the event it adds up (a
pydantic model does not cross processes faster than it is validated) and checks each stream's
chain against the hashes the workers recomputed.

One concern a module: :mod:`.consumer` (partitions, offsets, fetching), :mod:`.cut` (where a
live topic's replay stops), :mod:`.message` (one message read as a contract event),
:mod:`.sound_check` (the hot per-message check, compiled where it can be), :mod:`.merge` (the
producer's order while fetching), :mod:`.in_process` (one process reads), :mod:`.workers` (the
parent's side of the reader processes), :mod:`.worker` (a reader process) and
:mod:`.record_sets` (a reader's fetches as raw record sets). None imports an event store or a
service: a reader process starts in half a second.
"""

from benecomune_auditor.topic_reader.consumer import KafkaReadError, PartitionRange, topic_ranges
from benecomune_auditor.topic_reader.cut import Cut, settled_ranges
from benecomune_auditor.topic_reader.in_process import stream_in_process
from benecomune_auditor.topic_reader.message import (
    Parsed,
    WorkerItem,
    content_hash,
    first_error,
    notification_id,
    parse_message,
    transaction_reach,
)
from benecomune_auditor.topic_reader.workers import (
    PARALLEL_FROM,
    stream_from_workers,
    worker_count,
)

__all__ = [
    "PARALLEL_FROM",
    "Cut",
    "KafkaReadError",
    "Parsed",
    "PartitionRange",
    "WorkerItem",
    "content_hash",
    "first_error",
    "notification_id",
    "parse_message",
    "settled_ranges",
    "stream_from_workers",
    "stream_in_process",
    "topic_ranges",
    "transaction_reach",
    "worker_count",
]
