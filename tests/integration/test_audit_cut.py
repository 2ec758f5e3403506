"""The auditor's cut of a live topic, on the real broker: the relay publishes a batch of
notifications across partitions at once, so when the audit starts one partition may hold a
notification whose predecessor is still on its way to another. The audit reads up to the
highest notification id it saw, after letting that batch land, so it never replays half of it
(a sale without its shop credit, a false violation)."""

from __future__ import annotations

import asyncio
import time

import pytest
from aiokafka import AIOKafkaProducer
from benecomune_contracts import VOUCHERS_TOPIC
from benecomune_contracts.cloudevents import CE_NOTIFICATIONID
from servicekit.topic_reader import PartitionRange, notification_id, read_ranges, settled_ranges
from servicekit.topics import ensure_topics

from .support import StackConfig

pytestmark = pytest.mark.kafka


async def ids_up_to(bootstrap: str, topic: str, ranges: list[PartitionRange], cut: int) -> set[int]:
    records = await read_ranges(
        bootstrap,
        topic,
        ranges,
        deadline=asyncio.get_running_loop().time() + 1e9,
        timeout_seconds=30,
        client_id="test-cut",
    )
    found = {notification_id(r.headers) for fetched in records.values() for r in fetched}
    return {n for n in found if n is not None and n <= cut}


async def a_new_topic(config: StackConfig) -> tuple[str, str]:
    """The broker and a new 6-partition ledger topic on it."""
    await ensure_topics(config.bootstrap, [VOUCHERS_TOPIC], config.topic_prefix)
    return config.bootstrap, config.topic_prefix + VOUCHERS_TOPIC.name


async def test_a_batch_landing_as_the_audit_starts_is_replayed_whole_up_to_the_cut(
    stack_config: StackConfig,
) -> None:
    bootstrap, topic = await a_new_topic(stack_config)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True)
    await producer.start()

    async def publish(partition: int, nid: int) -> None:
        headers = [(CE_NOTIFICATIONID, str(nid).encode())]
        await producer.send_and_wait(topic, b"{}", partition=partition, headers=headers)

    try:
        await publish(0, 1)
        await publish(1, 2)
        await publish(0, 4)  # notification 3, for partition 1, is still on its way
        unsettled, cut_now = await settled_ranges(
            bootstrap, topic, timeout_seconds=30, client_id="test-cut", settle_seconds=0
        )
        settling = asyncio.create_task(
            settled_ranges(
                bootstrap, topic, timeout_seconds=30, client_id="test-cut", settle_seconds=4
            )
        )
        await asyncio.sleep(1.5)
        await publish(1, 3)  # the rest of the batch lands while the audit waits
        await publish(1, 5)  # and the next batch begins: after the cut
        ranges, cut = await settling
    finally:
        await producer.stop()

    assert cut_now == cut == 4
    assert await ids_up_to(bootstrap, topic, unsettled, cut_now) == {1, 2, 4}  # 3 missing
    assert await ids_up_to(bootstrap, topic, ranges, cut) == {1, 2, 3, 4}
    assert {r.partition: r.end for r in ranges}[1] == 3  # 5 was read, and is left out


async def test_a_quiet_topic_is_cut_at_its_last_notification_without_waiting(
    stack_config: StackConfig,
) -> None:
    bootstrap, topic = await a_new_topic(stack_config)
    empty, no_cut = await settled_ranges(
        bootstrap, topic, timeout_seconds=30, client_id="test-cut", settle_seconds=60
    )
    assert no_cut is None and all(r.end == 0 for r in empty)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    a_minute_ago = int(time.time() * 1000) - 60_000  # the last publication, a minute ago
    try:
        for nid in (1, 2, 3):
            headers = [(CE_NOTIFICATIONID, str(nid).encode())]
            await producer.send_and_wait(
                topic, b"{}", partition=nid % 2, headers=headers, timestamp_ms=a_minute_ago
            )
    finally:
        await producer.stop()

    started = time.monotonic()
    _, cut = await settled_ranges(
        bootstrap, topic, timeout_seconds=60, client_id="test-cut", settle_seconds=30
    )

    assert cut == 3
    # Every batch lands within the settle time of its first message, so a topic whose newest
    # message is older than that has none on its way: it is not waited for (30 s otherwise).
    assert time.monotonic() - started < 15
