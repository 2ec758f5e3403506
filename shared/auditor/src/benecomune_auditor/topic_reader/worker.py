"""A reader process: it reads its share of the partitions (see :mod:`.workers`), checks every
message (:mod:`.sound_check`), and sends the items to the parent through its pipe in the
producer's order (:mod:`.merge`).

This module imports neither an event store nor a service: a reader process starts in half a
second."""

from __future__ import annotations

import asyncio
import contextlib
import json
import pickle
import queue
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from multiprocessing.connection import Connection
from typing import Any, NamedTuple

from benecomune_auditor.topic_reader.consumer import (
    KafkaReadError,
    PartitionRange,
    fetch_batches,
    started_consumer,
)
from benecomune_auditor.topic_reader.merge import Merge
from benecomune_auditor.topic_reader.message import WorkerItem
from benecomune_auditor.topic_reader.sound_check import COMPILED, item_of, record_item

__all__ = ["take_record_set", "worker_main"]

CHUNK = 500
"""Messages a worker sends to the parent at once."""
PAUSE_ABOVE = 20_000
"""Messages a worker holds for one partition, waiting for the others, before it stops
fetching that partition for a while (memory stays bounded however skewed the partitions)."""
QUEUED = 64
"""Chunks a worker holds ready for the parent (about 35,000 messages) before it waits."""
YIELD_EVERY = 200
"""Messages a worker parses between two chances for its consumer to fetch the next batch."""


def worker_main(task_json: str) -> None:
    """A worker process (see :func:`stream_from_workers`): read, parse and hash its
    partitions; send the items, in order, to the pipe it was given."""
    import gc
    import logging

    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    # Young collections only, and rarely: what a worker holds (messages waiting in the merge)
    # is not cyclic; the collector would walk it again and again.
    gc.set_threshold(50_000, 1_000_000, 1_000_000)
    task = json.loads(task_json)
    connection = Connection(task["fd"], readable=False)
    ranges = [PartitionRange(*r) for r in task["ranges"]]
    try:
        with reporting_to(connection):
            asyncio.run(
                _work(
                    connection,
                    task["bootstrap"],
                    task["topic"],
                    ranges,
                    time.monotonic() + task["seconds_left"],
                    task["timeout_seconds"],
                    task["client_id"],
                )
            )
    finally:
        connection.close()


@contextlib.contextmanager
def reporting_to(connection: Connection) -> Iterator[None]:
    """A reader process's work, telling the parent what stopped it, if anything did."""
    try:
        yield
    except KafkaReadError as error:
        _send(connection, ("error", str(error)))
    except BaseException as error:  # report anything: the parent names it
        _send(connection, ("error", f"a reader process failed: {error!r}"[:1000]))


def _send(connection: Connection, message: tuple[str, Any]) -> None:
    with contextlib.suppress(OSError):  # the parent has gone: nothing to tell
        connection.send_bytes(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))


async def _work(
    connection: Connection,
    bootstrap: str,
    topic: str,
    ranges: list[PartitionRange],
    deadline: float,
    timeout_seconds: float,
    client_id: str,
) -> None:
    sender = _Sender(connection)
    merge = Merge(r.partition for r in ranges)
    task = _ReadTask(bootstrap, topic, ranges, deadline, timeout_seconds, client_id)
    if COMPILED is not None:
        await _read_record_sets(sender, merge, task)
    else:
        await _read_records(sender, merge, task)
    sender.send(("done", None))
    sender.close()


class _ReadTask(NamedTuple):
    """What one reader process reads."""

    bootstrap: str
    topic: str
    ranges: list[PartitionRange]
    deadline: float
    timeout_seconds: float
    client_id: str


async def _read_records(sender: _Sender, merge: Merge, task: _ReadTask) -> None:
    """Read with aiokafka's consumer, one ``ConsumerRecord`` per message."""
    consumer = await started_consumer(task.bootstrap, task.client_id, task.deadline)
    try:
        paused: set[int] = set()
        out = _Chunks(sender)
        async for batch, finished in fetch_batches(
            consumer, task.topic, task.ranges, task.deadline, task.timeout_seconds, paused
        ):
            for partition, records in batch:
                for n, record in enumerate(records, 1):
                    nid, item = record_item(record)
                    merge.add(partition, record.offset, nid, item)
                    if n % YIELD_EVERY == 0:
                        await asyncio.sleep(0)  # the consumer fetches the next batch meanwhile
            for partition in finished:
                merge.finish(partition)
            out.extend(merge.ready())
            paused.clear()
            paused.update(p for p in merge.open if merge.held(p) > PAUSE_ABOVE)
        out.flush()
    finally:
        await consumer.stop()


async def _read_record_sets(sender: _Sender, merge: Merge, task: _ReadTask) -> None:
    """Read each fetched record set with the compiled reader: the sound ledger events come out
    as keyed items in runs, without a Python object per message on the way; any other message
    is read by :func:`item_of`, as a consumer's record is."""
    from benecomune_auditor.topic_reader.record_sets import RecordSetFetcher

    fetcher = RecordSetFetcher(
        task.bootstrap,
        task.topic,
        task.ranges,
        deadline=task.deadline,
        timeout_seconds=task.timeout_seconds,
        client_id=task.client_id,
    )
    await fetcher.start()
    try:
        for partition in fetcher.finished:
            merge.finish(partition)
        out = _Chunks(sender)
        while fetcher.pending:
            paused = {p for p in merge.open if merge.held(p) > PAUSE_ABOVE}
            for partition, blob, offset in await fetcher.fetch(paused):
                next_offset = take_record_set(merge, partition, blob, offset, fetcher.end)
                if fetcher.advance(partition, next_offset):
                    merge.finish(partition)
            out.extend(merge.ready())
        out.flush()
    finally:
        await fetcher.close()


def take_record_set(
    merge: Merge, partition: int, blob: bytes, offset: int, ends: Mapping[int, int]
) -> int:
    """Add one partition's record set (fetched from ``offset``) to the merge; the offset to
    fetch next."""
    assert COMPILED is not None
    records = COMPILED.records(blob, offset, ends[partition])
    if records is None:  # not read exactly as aiokafka reads it: aiokafka reads it
        from benecomune_auditor.topic_reader.record_sets import python_records

        raws, after = python_records(blob, partition, offset, ends[partition])
        for at, key, value, headers in raws:
            nid, item = item_of(key, value, headers)
            merge.add(partition, at, nid, item)
        return after
    while True:
        run, stopped = records.run(partition, merge.last[partition])
        merge.add_run(partition, run)
        if stopped is None:
            next_offset: int = records.next_offset
            return next_offset
        at, key, value, headers = stopped
        nid, item = item_of(key, value, headers)
        merge.add(partition, at, nid, item)


class _Chunks:
    """Released items, sent to the parent ``CHUNK`` at a time."""

    def __init__(self, sender: _Sender) -> None:
        self.sender = sender
        self.items: list[WorkerItem] = []

    def extend(self, items: Iterable[WorkerItem]) -> None:
        for item in items:
            self.items.append(item)
            if len(self.items) >= CHUNK:
                self.sender.send(("items", self.items))
                self.items = []

    def flush(self) -> None:
        if self.items:
            self.sender.send(("items", self.items))
            self.items = []


class _Sender:
    """Sends a worker's chunks to the parent from a thread, up to ``QUEUED`` chunks behind: the
    worker keeps reading while the parent takes the other workers' messages, or while it waits
    for the broker (the parent merges in order, so one worker's pause would stall them all)."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.queue: queue.Queue[bytes | None] = queue.Queue(maxsize=QUEUED)
        self.failed: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="audit-sender", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while (data := self.queue.get()) is not None:
            try:
                self.connection.send_bytes(data)
            except BaseException as error:  # the parent has gone
                self.failed = error
                return

    def send(self, message: tuple[str, Any]) -> None:
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        while True:
            if self.failed is not None:
                raise KafkaReadError(f"the parent stopped reading: {self.failed!r}")
            try:
                self.queue.put(data, timeout=1.0)  # full: wait, memory stays bounded
                return
            except queue.Full:
                continue

    def close(self) -> None:
        """Wait until everything queued is sent."""
        self.queue.put(None)
        self.thread.join()
