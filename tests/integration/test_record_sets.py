"""A reader process's raw fetches on the real broker: every message of the audit's ranges, once,
in offset order, read by the compiled reader (or by aiokafka where it declines); and messages
deleted from the topic while the audit reads it stop the audit with a clear error, instead of
being skipped as a consumer resetting to the earliest offset would skip them."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest
from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.records_to_delete import RecordsToDelete
from benecomune_auditor.topic_reader.consumer import KafkaReadError, PartitionRange
from benecomune_auditor.topic_reader.merge import Merge
from benecomune_auditor.topic_reader.record_sets import RecordSetFetcher
from benecomune_auditor.topic_reader.worker import take_record_set
from benecomune_contracts import TopicSpec
from servicekit.topics import ensure_topics

pytestmark = pytest.mark.kafka

MESSAGES = 600


async def new_topic(bootstrap: str, compression: str | None = None) -> str:
    """A 2-partition topic with ``MESSAGES`` messages (not contract events: the Python reader
    names each as a read problem), half on each partition."""
    prefix = f"rs{uuid.uuid4().hex[:8]}."
    spec = TopicSpec(name="benecomune.vouchers", partitions=2, ledger=True)
    await ensure_topics(bootstrap, [spec], prefix)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, compression_type=compression)
    await producer.start()
    try:
        for n in range(MESSAGES):
            await producer.send(prefix + spec.name, b"%d" % n, key=b"k", partition=n % 2)
        await producer.flush()
    finally:
        await producer.stop()
    return prefix + spec.name


async def read_all(fetcher: RecordSetFetcher, ranges: list[PartitionRange]) -> dict[int, list]:
    merge = Merge(r.partition for r in ranges)
    await fetcher.start()
    try:
        while fetcher.pending:
            for partition, blob, offset in await fetcher.fetch(set()):
                fetcher.advance(
                    partition, take_record_set(merge, partition, blob, offset, fetcher.end)
                )
    finally:
        await fetcher.close()
    return {p: list(queue) for p, queue in merge.queues.items()}


def fetcher_of(bootstrap: str, topic: str, ranges: list[PartitionRange]) -> RecordSetFetcher:
    return RecordSetFetcher(
        bootstrap,
        topic,
        ranges,
        deadline=time.monotonic() + 60,
        timeout_seconds=60,
        client_id="test-record-sets",
    )


@pytest.mark.parametrize("compression", [None, "gzip"])
def test_every_message_of_the_ranges_is_fetched_once_in_offset_order(
    kafka_bootstrap: str, compression: str | None
) -> None:
    topic = asyncio.run(new_topic(kafka_bootstrap, compression))
    ranges = [PartitionRange(0, 10, 250), PartitionRange(1, 0, MESSAGES // 2)]
    read = asyncio.run(read_all(fetcher_of(kafka_bootstrap, topic, ranges), ranges))
    assert [item[2] for item in read[0]] == list(range(10, 250))
    assert [item[2] for item in read[1]] == list(range(MESSAGES // 2))
    assert all(len(item) == 4 for items in read.values() for item in items)  # read problems


def test_messages_deleted_while_the_audit_reads_stop_it_with_a_clear_error(
    kafka_bootstrap: str,
) -> None:
    topic = asyncio.run(new_topic(kafka_bootstrap))

    async def delete_then_read() -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
        await admin.start()
        try:
            await admin.delete_records({TopicPartition(topic, 1): RecordsToDelete(100)})
        finally:
            await admin.close()
        ranges = [PartitionRange(0, 0, MESSAGES // 2), PartitionRange(1, 0, MESSAGES // 2)]
        await read_all(fetcher_of(kafka_bootstrap, topic, ranges), ranges)

    with pytest.raises(KafkaReadError, match=r"\[1\]: offset 0 is no longer on the topic"):
        asyncio.run(delete_then_read())
