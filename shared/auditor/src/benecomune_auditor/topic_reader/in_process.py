"""A topic read by this process alone (a small topic, or one core): fetched as the messages
are needed, released in the producer's order."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence

from benecomune_auditor.topic_reader.consumer import (
    PartitionRange,
    fetch_batches,
    started_consumer,
)
from benecomune_auditor.topic_reader.merge import Merge
from benecomune_auditor.topic_reader.message import notification_id

__all__ = ["Message", "stream_in_process"]

Message = tuple[int, int, bytes | None, bytes | None, tuple[tuple[str, bytes], ...]]
"""partition, offset, key, value, headers."""


def stream_in_process(
    bootstrap: str,
    topic: str,
    ranges: Sequence[PartitionRange],
    *,
    deadline: float,
    timeout_seconds: float,
    client_id: str,
) -> Iterator[Message]:
    """The messages of ``ranges`` in the producer's order, fetched by this process as they are
    needed (an event loop of its own runs while fetching)."""
    loop = asyncio.new_event_loop()
    try:
        consumer = loop.run_until_complete(started_consumer(bootstrap, client_id, deadline))
        try:
            merge = Merge(r.partition for r in ranges)
            batches = fetch_batches(consumer, topic, ranges, deadline, timeout_seconds)
            while True:
                try:
                    batch, finished = loop.run_until_complete(anext(batches))
                except StopAsyncIteration:
                    break
                for partition, records in batch:
                    for r in records:
                        headers = tuple(r.headers or ())
                        message = (partition, r.offset, r.key, r.value, headers)
                        merge.add(partition, r.offset, notification_id(headers), message)
                for partition in finished:
                    merge.finish(partition)
                for keyed in merge.ready():
                    yield keyed[3:]  # type: ignore[misc]
        finally:
            loop.run_until_complete(consumer.stop())
    finally:
        loop.close()
