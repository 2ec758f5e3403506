"""A reader process's fetches as raw record sets: the bytes a Kafka fetch response holds for
each partition, read by the compiled reader (``benecomune_ledgercheck``) instead of being
turned into one aiokafka ``ConsumerRecord`` per message first (the biggest cost of a reader
process: docs/performance.md).

The requests and responses are aiokafka's (its client, its ``FetchRequest``, the version the broker
agrees); the same consumer settings as the auditor's consumer
(:func:`benecomune_auditor.topic_reader.consumer.started_consumer`: no group, nothing committed,
read uncommitted, 4 MiB per partition). What the compiled reader does not read exactly as aiokafka
does (compressed batches, say) is read by aiokafka's own record classes (:func:`python_records`), as
its consumer reads it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

from benecomune_auditor.topic_reader.consumer import KafkaReadError, PartitionRange

__all__ = ["PARTITION_BYTES", "RawRecord", "RecordSetFetcher", "python_records"]

PARTITION_BYTES = 4 * 1024 * 1024
"""At most this much of one partition per fetch (the consumer's ``max_partition_fetch_bytes``)."""
FETCH_BYTES = 50 * 1024 * 1024
WAIT_MS = 500
READ_UNCOMMITTED = 0
RETRY_SECONDS = 0.2

RawRecord = tuple[int, bytes | None, bytes | None, tuple[tuple[str, bytes | None], ...]]
"""offset, key, value, headers: what a ``ConsumerRecord`` holds that a reader reads."""


class RecordSetFetcher:
    """Fetches ``ranges`` of ``topic`` (each from its start up to its end offset, excluded),
    every unfinished partition in each request to its leader. The caller reads each record
    set and says where the partition goes on (:meth:`advance`)."""

    def __init__(
        self,
        bootstrap: str,
        topic: str,
        ranges: Sequence[PartitionRange],
        *,
        deadline: float,
        timeout_seconds: float,
        client_id: str,
    ) -> None:
        self.topic = topic
        self.deadline = deadline
        self.timeout_seconds = timeout_seconds
        self.position = {r.partition: r.start for r in ranges if r.end > r.start}
        self.end = {r.partition: r.end for r in ranges}
        self.finished = [r.partition for r in ranges if r.end <= r.start]
        self.bootstrap = bootstrap
        self.client_id = client_id
        self.client: Any = None

    async def start(self) -> None:
        """Connect (in the event loop that reads: aiokafka's client belongs to one loop)."""
        from aiokafka.client import AIOKafkaClient
        from aiokafka.errors import KafkaError

        self.client = AIOKafkaClient(
            bootstrap_servers=self.bootstrap, client_id=self.client_id, request_timeout_ms=30_000
        )
        try:
            await asyncio.wait_for(
                self.client.bootstrap(), timeout=max(1.0, self.deadline - time.monotonic())
            )
            await self.client.set_topics([self.topic])
        except (TimeoutError, KafkaError, OSError) as error:
            await self.client.close()
            raise KafkaReadError(f"cannot reach Kafka at {self.bootstrap}: {error!r}") from None

    async def close(self) -> None:
        if self.client is not None:
            await self.client.close()

    @property
    def pending(self) -> bool:
        return bool(self.position)

    def advance(self, partition: int, next_offset: int) -> bool:
        """The partition goes on from ``next_offset``; True when it is finished."""
        if next_offset >= self.end[partition]:
            del self.position[partition]
            return True
        self.position[partition] = max(next_offset, self.position[partition])
        return False

    async def fetch(self, paused: set[int]) -> list[tuple[int, bytes, int]]:
        """The next record set of each unfinished partition not in ``paused`` (of every one,
        if all are): (partition, the bytes, the offset they were fetched from). Retries what
        a broker may answer while leadership moves, until the deadline."""
        from aiokafka.errors import KafkaError

        wanted = [p for p in self.position if p not in paused] or list(self.position)
        while True:
            if time.monotonic() > self.deadline:
                raise KafkaReadError(
                    f"reading {self.topic} took more than {self.timeout_seconds:.0f} s; "
                    f"{len(self.position)} partition(s) unfinished"
                )
            try:
                fetched = await self._fetch_from_leaders(wanted)
            except _Retry:
                fetched = None
            except KafkaError:  # the connection dropped, a request timed out: ask again
                fetched = None
            if fetched is not None:
                return fetched
            await asyncio.sleep(RETRY_SECONDS)
            await self.client.force_metadata_update()

    async def _fetch_from_leaders(self, wanted: list[int]) -> list[tuple[int, bytes, int]]:
        from aiokafka import TopicPartition
        from aiokafka.protocol.fetch import FetchRequest

        by_leader: dict[int, list[int]] = {}
        for partition in wanted:
            leader = self.client.cluster.leader_for_partition(TopicPartition(self.topic, partition))
            if leader is None or leader < 0:
                raise _Retry
            by_leader.setdefault(leader, []).append(partition)
        fetched: list[tuple[int, bytes, int]] = []
        for leader, partitions in by_leader.items():
            asked = {p: self.position[p] for p in partitions}
            request = FetchRequest(
                WAIT_MS,
                1,
                FETCH_BYTES,
                READ_UNCOMMITTED,
                [(self.topic, [(p, offset, PARTITION_BYTES) for p, offset in asked.items()])],
            )
            response = await self.client.send(leader, request)
            fetched.extend(self._record_sets(response, asked))
        return fetched

    def _record_sets(self, response: Any, asked: dict[int, int]) -> list[tuple[int, bytes, int]]:
        from aiokafka import errors

        out: list[tuple[int, bytes, int]] = []
        retry = False
        for topic, partitions in response.topics:
            for partition, error_code, _highwater, *rest in partitions:
                if topic != self.topic or partition not in asked:
                    continue
                error = errors.for_code(error_code)
                if error is errors.NoError:
                    out.append((partition, rest[-1] or b"", asked[partition]))
                elif error is errors.OffsetOutOfRangeError:
                    raise KafkaReadError(
                        f"{self.topic}[{partition}]: offset {asked[partition]} is no longer "
                        "on the topic (deleted by retention while the audit read it?)"
                    )
                elif error in _MOVING:
                    retry = True
                else:
                    raise KafkaReadError(
                        f"reading {self.topic}[{partition}]: the broker answered {error.__name__}"
                    )
        if retry and not out:
            raise _Retry
        return out


class _Retry(Exception):
    """A partition's leader is unknown or moving: refresh the metadata and fetch again."""


def _moving_errors() -> tuple[type, ...]:
    from aiokafka import errors

    return (
        errors.NotLeaderForPartitionError,
        errors.UnknownTopicOrPartitionError,
        errors.LeaderNotAvailableError,
        errors.ReplicaNotAvailableError,
        errors.KafkaStorageError,
    )


_MOVING = _moving_errors()


def python_records(
    blob: bytes, partition: int, start: int, end: int
) -> tuple[list[RawRecord], int]:
    """The records from ``start`` to ``end`` (excluded) of a record set, read by aiokafka's
    record classes as its consumer reads them (control batches skipped, a record below the
    offset reached skipped, checksums checked), and the offset to fetch next."""
    from aiokafka.record.memory_records import MemoryRecords

    records = MemoryRecords(blob)
    out: list[RawRecord] = []
    next_offset = start
    while records.has_next():
        batch = records.next_batch()
        if batch is None:
            break
        if not batch.validate_crc():
            raise KafkaReadError(
                f"a corrupt record batch (its checksum is wrong) in partition {partition} "
                f"at offset {batch.base_offset}"
            )
        if not getattr(batch, "is_control_batch", False):
            for record in batch:
                if record.offset < next_offset:
                    continue
                next_offset = record.offset + 1
                if record.offset < end:
                    out.append((record.offset, record.key, record.value, tuple(record.headers)))
        next_offset = batch.next_offset
    return out, next_offset
