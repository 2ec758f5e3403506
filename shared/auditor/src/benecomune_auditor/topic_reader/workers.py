"""The parent's side of the reader processes: how many, which partitions each reads, the
processes themselves (fresh interpreters writing to a pipe), and their items merged back into
the producer's order. What a reader process does is in :mod:`.worker`."""

from __future__ import annotations

import contextlib
import heapq
import json
import os
import pickle
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from multiprocessing.connection import Connection
from typing import Any

from benecomune_auditor.topic_reader.consumer import KafkaReadError, PartitionRange
from benecomune_auditor.topic_reader.message import WorkerItem

__all__ = [
    "PARALLEL_FROM",
    "reader_processes",
    "reader_tasks",
    "received",
    "shares_of",
    "stream_from_workers",
    "worker_count",
]

PARALLEL_FROM = 50_000
"""Messages from which worker processes read the topic (below, starting them costs more than
they save)."""

PIPE_BYTES = 1 << 20


def worker_count(ranges: Sequence[PartitionRange], workers: int | None) -> int:
    """How many worker processes read ``ranges``: ``workers`` if given (0: none), else one per
    usable core when there are two or more and the topic holds ``PARALLEL_FROM`` messages."""
    busy = sum(1 for r in ranges if r.end > r.start)
    if os.name != "posix" or not sys.executable:  # a worker is this Python, given a pipe
        return 0
    if workers is not None:
        return min(max(workers, 0), busy)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    total = sum(r.end - r.start for r in ranges)
    if (cores or 1) < 2 or total < PARALLEL_FROM:
        return 0
    return min(cores or 1, busy)


def stream_from_workers(
    bootstrap: str,
    topic: str,
    ranges: Sequence[PartitionRange],
    workers: int,
    *,
    deadline: float,
    timeout_seconds: float,
    client_id: str,
) -> Iterator[WorkerItem]:
    """The messages of ``ranges`` parsed and hashed by ``workers`` processes (each with some of
    the partitions), merged in the producer's order. The processes stop when the iterator is
    closed, whatever happens.

    A worker is a fresh interpreter (``python -c``) that imports this module only: unlike
    :mod:`multiprocessing`'s spawn, it never re-runs the caller's ``__main__``, and unlike fork
    it shares no state (threads, locks, sockets) with the caller. It writes to a pipe."""
    tasks = reader_tasks(bootstrap, topic, ranges, workers, deadline, timeout_seconds, client_id)
    with reader_processes(tasks, _WORKER_MAIN) as readers:
        yield from heapq.merge(*(_received(c, p) for c, p in readers))


def reader_tasks(
    bootstrap: str,
    topic: str,
    ranges: Sequence[PartitionRange],
    workers: int,
    deadline: float,
    timeout_seconds: float,
    client_id: str,
) -> list[dict[str, Any]]:
    """What each of ``workers`` reader processes is told to read (its share of the
    partitions, the time it has left), as JSON-ready dicts."""
    return [
        {
            "bootstrap": bootstrap,
            "topic": topic,
            "ranges": [[r.partition, r.start, r.end] for r in share],
            "seconds_left": deadline - time.monotonic(),
            "timeout_seconds": timeout_seconds,
            "client_id": f"{client_id}-{n}",
        }
        for n, share in enumerate(shares_of(ranges, workers))
    ]


def shares_of(ranges: Sequence[PartitionRange], workers: int) -> list[list[PartitionRange]]:
    """The partitions with messages, dealt to ``workers`` readers: the biggest first, round
    robin."""
    busy = sorted((r for r in ranges if r.end > r.start), key=lambda r: r.end - r.start)
    shares: list[list[PartitionRange]] = [[] for _ in range(workers)]
    for n, r in enumerate(reversed(busy)):
        shares[n % workers].append(r)
    return shares


@contextlib.contextmanager
def reader_processes(
    tasks: Sequence[dict[str, Any]], entry: str
) -> Iterator[list[tuple[Connection, subprocess.Popen[bytes]]]]:
    """One reader process per task: a fresh interpreter running ``entry`` (Python code) with
    the task as JSON in ``sys.argv[1]``, its ``fd`` the write end of a pipe whose read end is
    given here with the process. Every process is stopped on the way out, whatever happens."""
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    readers: list[tuple[Connection, subprocess.Popen[bytes]]] = []
    try:
        for task in tasks:
            readable, writable = os.pipe()
            with contextlib.suppress(OSError, AttributeError):  # Linux: a deeper pipe
                import fcntl

                fcntl.fcntl(writable, getattr(fcntl, "F_SETPIPE_SZ", 1031), PIPE_BYTES)
            connection = Connection(readable, writable=False)
            try:
                process = subprocess.Popen(
                    [sys.executable, "-c", entry, json.dumps({**task, "fd": writable})],
                    pass_fds=(writable,),
                    stdin=subprocess.DEVNULL,
                    env=environment,
                )
            except BaseException:
                connection.close()
                raise
            finally:
                os.close(writable)
            readers.append((connection, process))
        yield readers
    finally:
        for connection, _ in readers:
            connection.close()
        for _, process in readers:
            if process.poll() is None:
                process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


_WORKER_MAIN = (
    "import sys; from benecomune_auditor.topic_reader.worker import worker_main; "
    "worker_main(sys.argv[1])"
)


def received(connection: Connection, process: subprocess.Popen[bytes]) -> tuple[str, Any]:
    """The next message a reader process sent: (kind, payload). Raises
    :class:`KafkaReadError` when it sent an error or stopped without a word."""
    try:
        kind, payload = pickle.loads(connection.recv_bytes())
    except EOFError:
        try:
            code = process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            code = None
        raise KafkaReadError(f"a reader process stopped unexpectedly (exit code {code})") from None
    if kind == "error":
        raise KafkaReadError(str(payload))
    return kind, payload


def _received(connection: Connection, process: subprocess.Popen[bytes]) -> Iterator[WorkerItem]:
    while True:
        kind, payload = received(connection, process)
        if kind == "items":
            yield from payload
        elif kind == "done":
            return
