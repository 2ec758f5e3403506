"""Replaying a big ledger topic in reader processes, each with a tally of its own.

A stream's events are all on one partition (the message key is the stream), so a reader process
that owns some partitions sees whole streams: it can verify their chains, skip their duplicates
and add them to a tally of its own, in its streams' order, exactly as one process reading the
whole topic would — for a tally whose checks while adding look at the event's own stream only
(:class:`~servicekit.audit.MergeableTally`). The parent then merges the readers' tallies and
reports, and the tally's end checks (across streams) run on the whole.

This spares the parent what bounded the replay: every event validated a second time, shipped
through a pipe and merged back into one order.

If a stream is found in partitions of two readers (a topic whose partitions were added to after
it was written moves keys), the readers' views of it are partial: the merge is refused and the
caller replays the topic in one order instead (:func:`replay_in_readers` returns None).
"""

from __future__ import annotations

import asyncio
import gc
import importlib
import json
import pickle
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any, cast

from servicekit.audit import LedgerReplay, MergeableTally, ReadProblem, ReplayReport, message_item
from servicekit.topic_reader import (
    YIELD_EVERY,
    KafkaReadError,
    PartitionRange,
    _fetch,
    _started,
    reader_processes,
    reader_tasks,
    received,
    reporting_to,
)

__all__ = ["ReaderResult", "merge_results", "replay_in_readers", "replay_worker_main"]


@dataclass
class ReaderResult:
    """What a reader process sends back once its partitions are read."""

    report: ReplayReport
    tally: Any
    streams: set[str]
    """The ledger streams it read."""
    event_ids: set[str]
    """The non-ledger events it read (their CloudEvents ids)."""


def replay_in_readers(
    bootstrap: str,
    topic: str,
    ranges: Sequence[PartitionRange],
    workers: int,
    tally: MergeableTally,
    *,
    source: str,
    problems: Iterable[ReadProblem],
    deadline: float,
    timeout_seconds: float,
    client_id: str,
) -> ReplayReport | None:
    """Replay ``ranges`` in ``workers`` reader processes and merge what they tallied into
    ``tally``. None (``tally`` untouched) when a stream or an event was read by two readers."""
    started = time.perf_counter()
    kind = type(tally)
    tasks = [
        {**task, "tally": f"{kind.__module__}:{kind.__qualname__}"}
        for task in reader_tasks(
            bootstrap, topic, ranges, workers, deadline, timeout_seconds, client_id
        )
    ]
    with reader_processes(tasks, _ENTRY) as readers:
        order = {connection: n for n, (connection, _) in enumerate(readers)}
        waiting = dict(readers)
        results: dict[int, ReaderResult] = {}
        while waiting:  # bounded: every turn takes at least one reader's result, or raises
            # Whichever finishes first: its result is read while the others still work.
            for ready in wait(list(waiting)):
                connection = cast(Connection, ready)
                process = waiting.pop(connection)
                kind_sent, payload = received(connection, process)
                if kind_sent != "result" or not isinstance(payload, ReaderResult):
                    raise KafkaReadError(f"a reader process sent {kind_sent!r}, not its result")
                results[order[connection]] = payload
    report = merge_results(
        [results[n] for n in sorted(results)], tally, source=source, problems=problems
    )
    if report is not None:
        report.seconds = time.perf_counter() - started
    return report


def merge_results(
    results: Sequence[ReaderResult],
    tally: MergeableTally,
    *,
    source: str,
    problems: Iterable[ReadProblem] = (),
) -> ReplayReport | None:
    """The readers' reports and tallies as one (the tallies merged into ``tally``), or None
    (``tally`` untouched) when a ledger stream or a non-ledger event was read by two of them:
    then each saw part of a stream, and only a replay in one order can say what it holds."""
    streams: set[str] = set()
    event_ids: set[str] = set()
    for result in results:
        if not streams.isdisjoint(result.streams) or not event_ids.isdisjoint(result.event_ids):
            return None
        streams |= result.streams
        event_ids |= result.event_ids
    report = ReplayReport(source=source, problems=list(problems))
    for result in results:
        part = result.report
        report.records += part.records
        report.ledger_events += part.ledger_events
        report.other_events += part.other_events
        report.private_events += part.private_events
        report.duplicates += part.duplicates
        report.breaks.extend(part.breaks)
        report.problems.extend(part.problems)
        tally.merge(result.tally)
    report.streams = len(streams)
    return report


_ENTRY = (
    "import sys; from servicekit.reader_replay import replay_worker_main; "
    "replay_worker_main(sys.argv[1])"
)


def replay_worker_main(task_json: str) -> None:
    """A reader process: read its partitions, replay them into a fresh tally, and send back
    a :class:`ReaderResult` (or the error that stopped it)."""
    import logging

    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    # The tally keeps what it is fed and nothing cyclic is dropped meanwhile: the collector
    # would only walk the growing tally again and again.
    gc.disable()
    task = json.loads(task_json)
    connection = Connection(task["fd"], readable=False)
    try:
        with reporting_to(connection):
            result = asyncio.run(_replay_partitions(task))
            data = pickle.dumps(("result", result), protocol=pickle.HIGHEST_PROTOCOL)
            connection.send_bytes(data)
    finally:
        connection.close()


def _tally_class(path: str) -> Any:
    module, _, name = path.partition(":")
    target: Any = importlib.import_module(module)
    for part in name.split("."):
        target = getattr(target, part)
    return target


async def _replay_partitions(task: dict[str, Any]) -> ReaderResult:
    topic: str = task["topic"]
    tally = _tally_class(task["tally"])()
    state = LedgerReplay(tally, source=topic)
    ranges = [PartitionRange(*r) for r in task["ranges"]]
    deadline = time.monotonic() + task["seconds_left"]
    consumer = await _started(task["bootstrap"], task["client_id"], deadline)
    try:
        async for batch, _ in _fetch(consumer, topic, ranges, deadline, task["timeout_seconds"]):
            for partition, records in batch:
                for start in range(0, len(records), YIELD_EVERY):
                    state.feed(
                        message_item(topic, partition, r.offset, r.key, r.value, r.headers or ())
                        for r in records[start : start + YIELD_EVERY]
                    )
                    await asyncio.sleep(0)  # the consumer fetches the next batch meanwhile
    finally:
        await consumer.stop()
    report = state.finish()
    return ReaderResult(report, tally, state.streams, state.seen_ids)
