"""Where the replay of a live topic stops: the cut taken where the topic is whole (a relay's
batch landed, its store transactions complete)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from benecomune_auditor.topic_reader.consumer import (
    PartitionRange,
    partitions_of,
    started_consumer,
)
from benecomune_auditor.topic_reader.message import notification_id, transaction_reach

__all__ = ["AWAIT_ROUNDS", "LAST_MESSAGE_SECONDS", "Cut", "settled_ranges"]


@dataclass(frozen=True)
class Cut:
    """Where a replay of a live topic stops: every message that was in a partition when the
    audit started (``ends``: the end offsets then), and those that landed while it waited
    whose notification id is at most ``notification_id``."""

    notification_id: int
    ends: Mapping[int, int]
    awaited: int | None = None
    """The end of a store transaction begun by the last messages at the start, beyond every
    notification on the topic then: a replay that does not reach it holds part of a
    transaction (the relay had not finished publishing it)."""

    def keeps(self, position: int, partition: int, offset: int) -> bool:
        return position <= self.notification_id or offset < self.ends.get(partition, 0)


async def settled_ranges(
    bootstrap: str,
    topic: str,
    *,
    timeout_seconds: float,
    client_id: str,
    settle_seconds: float,
    probe_seconds: float = 0.2,
) -> tuple[list[PartitionRange], Cut | None]:
    """The partitions to read and the :class:`Cut`. The relay publishes a batch of
    notifications across partitions at once, so when an audit starts, one partition may
    already hold a notification whose predecessor is still on its way to another: a shop's
    credit without its voucher's redemption. So the end offsets are taken twice,
    ``probe_seconds`` apart; if the topic moved meanwhile (a relay is publishing), they are
    taken again after ``settle_seconds``, and what landed in between is kept up to the highest
    notification id among the partitions' last messages at the start — or up to the end of
    that message's store transaction (``ce_transactionend``), which the relay publishes in the
    same batch: the redemption at the cut keeps its credit. A quiet topic whose last
    transaction reaches beyond every notification on it (the relay stopped part-way) is waited
    for the same way, and the cut says what it awaits (:attr:`Cut.awaited`). None: an empty or
    quiet topic, or a last message without a notification id (everything to the end is read).

    Messages present at the start are always kept, so a ``ce_transactionend`` (written by the
    audited service) can only make the replay longer, never hide what was there."""
    from aiokafka import TopicPartition

    deadline = time.monotonic() + timeout_seconds
    consumer = await started_consumer(bootstrap, client_id, deadline)
    try:
        partitions = [TopicPartition(topic, n) for n in await partitions_of(bootstrap, topic)]
        beginning = await consumer.beginning_offsets(partitions)
        start = await consumer.end_offsets(partitions)
        await asyncio.sleep(probe_seconds)
        end = await consumer.end_offsets(partitions)
        cut = None
        lasts = await _last_notifications(consumer, topic, beginning, start, deadline)
        known = [last for last in lasts if last is not None]
        if known and len(known) == len(lasts):
            highest = max(nid for nid, _ in known)
            reach = max(reach for _, reach in known)
            if end != start or reach > highest:
                # A relay is publishing, or has not finished a transaction: let its batch
                # land, and cut.
                cut = Cut(
                    reach,
                    {tp.partition: start[tp] for tp in partitions},
                    reach if reach > highest else None,
                )
                await asyncio.sleep(settle_seconds)
                if cut.awaited is not None:
                    await _await_notification(
                        consumer,
                        topic,
                        partitions,
                        beginning,
                        cut.awaited,
                        settle_seconds,
                        deadline,
                    )
                end = await consumer.end_offsets(partitions)
        ranges = [PartitionRange(tp.partition, beginning[tp], end[tp]) for tp in partitions]
        return ranges, cut
    finally:
        await consumer.stop()


AWAIT_ROUNDS = 5
"""How many more times, ``settle_seconds`` apart, the end of a transaction the relay has not
finished publishing is waited for."""


async def _await_notification(
    consumer: Any,
    topic: str,
    partitions: Sequence[Any],
    beginning: Any,
    awaited: int,
    settle_seconds: float,
    deadline: float,
) -> None:
    """Until a partition's last message reaches notification ``awaited`` (a broker or a relay
    slower than one settling wait), at most :data:`AWAIT_ROUNDS` more waits."""
    for _ in range(AWAIT_ROUNDS):
        end = await consumer.end_offsets(partitions)
        lasts = await _last_notifications(consumer, topic, beginning, end, deadline)
        if any(last is not None and last[0] >= awaited for last in lasts):
            return
        await asyncio.sleep(settle_seconds)


LAST_MESSAGE_SECONDS = 10.0
"""How long the last messages are looked for (an offset may hold no record: a transaction
marker, a compacted message); then the topic is read to its end, uncut."""


async def _last_notifications(
    consumer: Any, topic: str, beginning: Any, end: Any, deadline: float
) -> list[tuple[int, int] | None]:
    """Each non-empty partition's last message's notification id and how far it reaches
    (:func:`transaction_reach`): None for one without a readable id, [None] if one cannot be
    found in time."""
    wanted = {tp: end[tp] - 1 for tp in end if end[tp] > beginning[tp]}
    if not wanted:
        return []
    consumer.assign(list(wanted))
    for tp, offset in wanted.items():
        consumer.seek(tp, offset)
    found: dict[Any, tuple[int, int] | None] = {}
    give_up = min(deadline, time.monotonic() + LAST_MESSAGE_SECONDS)
    while len(found) < len(wanted):
        if time.monotonic() > give_up:
            return [None]
        fetched = await consumer.getmany(
            *(tp for tp in wanted if tp not in found), timeout_ms=500, max_records=len(wanted)
        )
        for tp, records in fetched.items():
            for record in records:
                if record.offset == wanted[tp]:
                    headers = record.headers or ()
                    nid, reach = notification_id(headers), transaction_reach(headers)
                    found[tp] = None if nid is None or reach is None else (nid, reach)
    return list(found.values())
