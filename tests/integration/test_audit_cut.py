"""The auditor's cut of a live topic, on the real broker: the relay publishes a batch of
notifications across partitions at once, so when the audit starts one partition may hold a
notification whose predecessor is still on its way to another. An audit that sees the topic
moving lets that batch land and replays up to the highest notification id it saw at the
start, so it never replays half of it (a sale without its shop credit, a false violation)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from benecomune_auditor.topic_reader.consumer import PartitionRange, read_ranges
from benecomune_auditor.topic_reader.cut import Cut, settled_ranges
from benecomune_auditor.topic_reader.message import notification_id
from benecomune_contracts import VOUCHERS_TOPIC
from benecomune_contracts.cloudevents import CE_NOTIFICATIONID, CE_TRANSACTIONEND
from servicekit.topics import ensure_topics

from .support import StackConfig

pytestmark = pytest.mark.kafka


async def a_new_topic(config: StackConfig) -> tuple[str, str]:
    """The broker and a new 6-partition ledger topic on it."""
    await ensure_topics(config.bootstrap, [VOUCHERS_TOPIC], config.topic_prefix)
    return config.bootstrap, config.topic_prefix + VOUCHERS_TOPIC.name


async def replayed(
    bootstrap: str, topic: str, ranges: list[PartitionRange], cut: Cut | None
) -> set[int]:
    """The notification ids an audit with these ranges and this cut replays."""
    records = await read_ranges(
        bootstrap,
        topic,
        ranges,
        deadline=time.monotonic() + 60,
        timeout_seconds=60,
        client_id="test-cut",
    )
    ids = set()
    for partition, fetched in records.items():
        for record in fetched:
            nid = notification_id(record.headers)
            assert nid is not None
            if cut is None or cut.keeps(nid, partition, record.offset):
                ids.add(nid)
    return ids


Published = tuple[int, int, int]
"""(partition, notification id, ce_transactionend) of a message as the relay publishes it."""


async def a_look_while_publishing(
    config: StackConfig,
    before: list[Published],
    during: list[Published],
    look: Callable[[str, str], Coroutine[Any, Any, tuple[list[PartitionRange], Cut | None]]],
    delay: float = 0.5,
) -> tuple[str, str, list[PartitionRange], Cut | None]:
    """``look`` at a new topic holding ``before``, while ``during`` is published ``delay``
    seconds after it started."""
    bootstrap, topic = await a_new_topic(config)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True)
    await producer.start()

    async def publish(messages: list[Published]) -> None:
        for partition, nid, transaction_end in messages:
            headers = [
                (CE_NOTIFICATIONID, str(nid).encode()),
                (CE_TRANSACTIONEND, str(transaction_end).encode()),
            ]
            await producer.send_and_wait(topic, b"{}", partition=partition, headers=headers)

    try:
        await publish(before)
        looking = asyncio.create_task(look(bootstrap, topic))
        await asyncio.sleep(delay)
        await publish(during)
        ranges, cut = await looking
    finally:
        await producer.stop()
    return bootstrap, topic, ranges, cut


async def a_slow_look(bootstrap: str, topic: str) -> tuple[list[PartitionRange], Cut | None]:
    """settled_ranges with time to publish while it probes and while it settles."""
    return await settled_ranges(
        bootstrap,
        topic,
        timeout_seconds=30,
        client_id="test-cut",
        settle_seconds=3,
        probe_seconds=3,
    )


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
        unsettled = await settled_ranges(
            bootstrap, topic, timeout_seconds=30, client_id="test-cut", settle_seconds=0
        )
        settling = asyncio.create_task(a_slow_look(bootstrap, topic))
        await asyncio.sleep(0.5)
        await publish(1, 3)  # the rest of the batch lands while the audit looks
        await publish(1, 5)  # and the next batch begins: beyond the cut
        ranges, cut = await settling
    finally:
        await producer.stop()

    assert unsettled[1] is None  # a quiet moment: no cut, the end offsets as they are
    assert await replayed(bootstrap, topic, *unsettled) == {1, 2, 4}  # 3 would be missing
    assert cut is not None and cut.notification_id == 4
    assert await replayed(bootstrap, topic, ranges, cut) == {1, 2, 3, 4}  # 5 read, left out


async def test_the_cut_reaches_the_end_of_the_store_transaction_it_falls_in(
    stack_config: StackConfig,
) -> None:
    """Notifications 3 and 4 were stored together (a sale and the shop's credit). 3 is the
    highest id on the topic when the audit starts; 4 lands while it waits. Cut at 3, the
    replay would hold the sale without its credit; it reads on to the transaction's end."""
    bootstrap, topic, ranges, cut = await a_look_while_publishing(
        stack_config,
        [(0, 1, 2), (1, 2, 2), (2, 3, 4)],
        [(3, 4, 4), (4, 5, 5)],  # the rest of the transaction, then the next one
        a_slow_look,
    )

    assert cut is not None and cut.notification_id == 4
    assert await replayed(bootstrap, topic, ranges, cut) == {1, 2, 3, 4}  # 5 read, left out


async def test_a_quiet_topic_ending_inside_a_transaction_is_awaited(
    stack_config: StackConfig,
) -> None:
    """The relay stopped after publishing notification 2 of a transaction that ends at 3: the
    topic is quiet, yet the audit waits for 3 (longer than one settling wait: the relay
    resumes 2.5 s later), and its cut says it awaits it."""

    async def a_quick_look(bootstrap: str, topic: str) -> tuple[list[PartitionRange], Cut | None]:
        return await settled_ranges(
            bootstrap, topic, timeout_seconds=30, client_id="test-cut", settle_seconds=1
        )

    bootstrap, topic, ranges, cut = await a_look_while_publishing(
        stack_config,
        [(0, 1, 1), (1, 2, 3)],
        [(2, 3, 3)],
        a_quick_look,
        delay=2.5,  # the relay resumes
    )

    assert cut is not None and (cut.notification_id, cut.awaited) == (3, 3)
    assert await replayed(bootstrap, topic, ranges, cut) == {1, 2, 3}


async def test_a_quiet_topic_is_read_to_its_end_without_waiting(
    stack_config: StackConfig,
) -> None:
    bootstrap, topic = await a_new_topic(stack_config)
    empty, no_cut = await settled_ranges(
        bootstrap, topic, timeout_seconds=30, client_id="test-cut", settle_seconds=60
    )
    assert no_cut is None and all(r.end == 0 for r in empty)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for nid in (1, 2, 3):
            headers = [(CE_NOTIFICATIONID, str(nid).encode())]
            await producer.send_and_wait(topic, b"{}", partition=nid % 2, headers=headers)
    finally:
        await producer.stop()

    started = time.monotonic()
    ranges, cut = await settled_ranges(
        bootstrap, topic, timeout_seconds=60, client_id="test-cut", settle_seconds=30
    )

    assert cut is None and await replayed(bootstrap, topic, ranges, cut) == {1, 2, 3}
    assert time.monotonic() - started < 15  # the topic did not move: no 30 s wait
