"""The auditor's own Kafka consumer: a topic's partitions, their offsets, and their messages
fetched batch by batch up to the end offsets an audit captured (no group, nothing committed)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "Batch",
    "KafkaReadError",
    "PartitionRange",
    "fetch_batches",
    "partitions_of",
    "read_ranges",
    "started_consumer",
    "topic_ranges",
]


class KafkaReadError(RuntimeError):
    """The topic could not be read: no such topic, or the broker did not answer in time."""


@dataclass(frozen=True)
class PartitionRange:
    """What the auditor reads of one partition: ``start`` (its first offset) up to ``end`` (the
    end offset when the audit started, excluded)."""

    partition: int
    start: int
    end: int


def _new_consumer(bootstrap: str, client_id: str) -> Any:
    from aiokafka import AIOKafkaConsumer

    return AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        client_id=client_id,
        request_timeout_ms=30_000,
        max_partition_fetch_bytes=4 * 1024 * 1024,
    )


async def started_consumer(bootstrap: str, client_id: str, deadline: float) -> Any:
    """A consumer of its own (no group, nothing committed), connected."""
    from aiokafka.errors import KafkaError

    consumer = _new_consumer(bootstrap, client_id)
    try:
        await asyncio.wait_for(consumer.start(), timeout=max(1.0, deadline - time.monotonic()))
    except (TimeoutError, KafkaError, OSError) as error:
        await consumer.stop()
        raise KafkaReadError(f"cannot reach Kafka at {bootstrap}: {error!r}") from None
    return consumer


async def topic_ranges(
    bootstrap: str, topic: str, *, timeout_seconds: float, client_id: str
) -> list[PartitionRange]:
    """Every partition of ``topic`` with its first offset and its end offset now."""
    from aiokafka import TopicPartition

    consumer = await started_consumer(bootstrap, client_id, time.monotonic() + timeout_seconds)
    try:
        partitions = [TopicPartition(topic, n) for n in await partitions_of(bootstrap, topic)]
        beginning = await consumer.beginning_offsets(partitions)
        end = await consumer.end_offsets(partitions)
        return [PartitionRange(tp.partition, beginning[tp], end[tp]) for tp in partitions]
    finally:
        await consumer.stop()


async def partitions_of(bootstrap: str, topic: str) -> list[int]:
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=15_000)
    await admin.start()
    try:
        described = await admin.describe_topics([topic])
    finally:
        await admin.close()
    for metadata in described:
        if metadata.get("topic") == topic and metadata.get("error_code") == 0:
            numbers = sorted(int(p["partition"]) for p in metadata.get("partitions", []))
            if numbers:
                return numbers
    raise KafkaReadError(f"topic {topic} does not exist on {bootstrap}")


Batch = list[tuple[int, list[Any]]]
"""Records fetched, per partition (aiokafka ``ConsumerRecord``\\ s, in offset order)."""


async def fetch_batches(
    consumer: Any,
    topic: str,
    ranges: Sequence[PartitionRange],
    deadline: float,
    timeout_seconds: float,
    paused: set[int] | None = None,
) -> AsyncIterator[tuple[Batch, list[int]]]:
    """The records of ``ranges`` up to their end offsets, batch by batch, with the partitions
    that each batch finished. Partitions in ``paused`` (the caller changes it) are not fetched
    meanwhile."""
    from aiokafka import TopicPartition

    by_partition = {r.partition: TopicPartition(topic, r.partition) for r in ranges}
    end = {r.partition: r.end for r in ranges}
    consumer.assign(list(by_partition.values()))
    pending: set[int] = set()
    for r in ranges:
        if r.end > r.start:
            consumer.seek(by_partition[r.partition], r.start)
            pending.add(r.partition)
    finished = [r.partition for r in ranges if r.end <= r.start]
    if finished:
        yield [], finished
    stopped: set[int] = set()
    while pending:
        if time.monotonic() > deadline:
            raise KafkaReadError(
                f"reading {topic} took more than {timeout_seconds:.0f} s; "
                f"{len(pending)} partition(s) unfinished"
            )
        wanted = paused & pending if paused else set()
        for p in wanted - stopped:
            consumer.pause(by_partition[p])
        for p in stopped - wanted:
            consumer.resume(by_partition[p])
        stopped = wanted
        fetched = await consumer.getmany(
            *(by_partition[p] for p in pending - stopped), timeout_ms=500, max_records=1_000
        )
        batch: Batch = []
        for tp, records in fetched.items():
            last = end[tp.partition]
            if records and records[-1].offset >= last:
                records = [record for record in records if record.offset < last]
            batch.append((tp.partition, records))
        finished = []
        for p in sorted(pending):
            if await consumer.position(by_partition[p]) >= end[p]:
                finished.append(p)
        pending.difference_update(finished)
        yield batch, finished


async def read_ranges(
    bootstrap: str,
    topic: str,
    ranges: Sequence[PartitionRange],
    *,
    deadline: float,
    timeout_seconds: float,
    client_id: str,
) -> dict[int, list[Any]]:
    """Every record of ``ranges``, per partition, in memory."""
    consumer = await started_consumer(bootstrap, client_id, deadline)
    try:
        records: dict[int, list[Any]] = {r.partition: [] for r in ranges}
        async for batch, _ in fetch_batches(consumer, topic, ranges, deadline, timeout_seconds):
            for partition, fetched in batch:
                records[partition].extend(fetched)
        return records
    finally:
        await consumer.stop()
