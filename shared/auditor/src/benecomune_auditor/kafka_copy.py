"""A ledger read from its Kafka topic: every partition from offset 0, with a consumer of the
auditor's own (no group, nothing committed), up to a consistent cut taken when the audit
starts, merged back into the producer's order (the ``ce_notificationid`` header), streamed as
it is replayed (by reader processes when the topic is big: :mod:`benecomune_auditor.topic_reader`)
or copied into memory."""

from __future__ import annotations

import asyncio
import heapq
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from benecomune_contracts.chain import LedgerEvent
from benecomune_contracts.registry import get_contract
from pydantic import ValidationError

from benecomune_auditor.records import (
    AuditItem,
    AuditRecord,
    IncompleteTransaction,
    ReadProblem,
)
from benecomune_auditor.topic_reader.consumer import (
    KafkaReadError,
    PartitionRange,
    read_ranges,
    topic_ranges,
)
from benecomune_auditor.topic_reader.cut import Cut, settled_ranges
from benecomune_auditor.topic_reader.in_process import stream_in_process
from benecomune_auditor.topic_reader.message import (
    WorkerItem,
    content_hash,
    first_error,
    notification_id,
    parse_message,
)
from benecomune_auditor.topic_reader.workers import stream_from_workers, worker_count

__all__ = [
    "KafkaReadError",
    "TopicCopy",
    "TopicMessage",
    "from_worker_items",
    "merge_partitions",
    "message_item",
    "read_kafka",
    "read_topic",
    "records_from_messages",
]


@dataclass(frozen=True)
class TopicMessage:
    """One Kafka message as the auditor keeps it (a copy of a topic is a list of these)."""

    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]


async def read_topic(
    bootstrap: str,
    topic: str,
    *,
    timeout_seconds: float = 300.0,
    client_id: str = "benecomune-audit",
) -> tuple[dict[int, list[TopicMessage]], list[ReadProblem]]:
    """Every message of ``topic`` from its first offset up to the end offsets captured at
    start, per partition, in memory. A consumer of its own: no group, nothing committed. A
    partition that no longer starts at offset 0 is reported (a ledger topic must keep
    everything)."""
    deadline = time.monotonic() + timeout_seconds
    ranges = await topic_ranges(
        bootstrap, topic, timeout_seconds=timeout_seconds, client_id=client_id
    )
    return await _read_into_memory(
        bootstrap, topic, ranges, deadline, timeout_seconds, client_id
    ), _truncated(topic, ranges)


async def _read_into_memory(
    bootstrap: str,
    topic: str,
    ranges: Sequence[PartitionRange],
    deadline: float,
    timeout_seconds: float,
    client_id: str,
) -> dict[int, list[TopicMessage]]:
    records = await read_ranges(
        bootstrap,
        topic,
        ranges,
        deadline=deadline,
        timeout_seconds=timeout_seconds,
        client_id=client_id,
    )
    return {
        partition: [
            TopicMessage(partition, r.offset, r.key, r.value, tuple(r.headers or ()))
            for r in fetched
        ]
        for partition, fetched in records.items()
    }


def _truncated(topic: str, ranges: Iterable[PartitionRange]) -> list[ReadProblem]:
    return [
        ReadProblem(
            f"{topic}[{r.partition}]@0",
            "truncated",
            f"partition {r.partition} starts at offset {r.start}: earlier messages were deleted",
        )
        for r in ranges
        if r.start > 0
    ]


def merge_partitions(partitions: Mapping[int, Sequence[TopicMessage]]) -> Iterator[TopicMessage]:
    """The messages of all partitions in the producer's order (its notification id); within a
    partition the order read is kept. A message without a readable notification id keeps its
    place after the one before it."""

    def keyed(messages: Sequence[TopicMessage]) -> Iterator[tuple[int, int, int, TopicMessage]]:
        last = 0
        for message in messages:
            last = max(last, notification_id(message.headers) or last)
            yield last, message.partition, message.offset, message

    for *_, message in heapq.merge(*(keyed(partitions[p]) for p in sorted(partitions))):
        yield message


def records_from_messages(messages: Iterable[TopicMessage], topic: str) -> Iterator[AuditItem]:
    """Kafka messages as contract events, checking their CloudEvents headers and that the
    headers agree with the payload (type, subject = stream, sequence, key = subject)."""
    for message in messages:
        yield _from_message(message, topic)


def _from_message(message: TopicMessage, topic: str) -> AuditItem:
    return message_item(
        topic, message.partition, message.offset, message.key, message.value, message.headers
    )


def message_item(
    topic: str,
    partition: int,
    offset: int,
    key: bytes | None,
    value: bytes | None,
    headers: Sequence[tuple[str, bytes]],
) -> AuditItem:
    """One Kafka message as a contract event with its recomputed hash (a ledger event), or as
    the problem that keeps it from being one."""
    origin = f"{topic}[{partition}]@{offset}"
    parsed = parse_message(key, value, headers)
    event = parsed.event
    if parsed.problem is not None or parsed.envelope is None or event is None or value is None:
        assert parsed.problem is not None
        return ReadProblem(origin, *parsed.problem)
    envelope = parsed.envelope
    hashed = content_hash(event, value) if isinstance(event, LedgerEvent) else None
    return AuditRecord(event, origin, envelope["notification_id"], envelope["id"], hashed)


class TopicCopy:
    """A whole topic as the auditor reads it: every partition from its first offset up to the
    end offsets captured by :func:`read_kafka`, in the producer's order.

    :meth:`records` streams it — fetched, parsed and hash-checked as it is replayed, by worker
    processes when the topic is big — so a topic of millions of events is never held in
    memory. :attr:`messages` is a copy in memory, read on first use (to edit a copy in a test,
    or count it)."""

    def __init__(
        self,
        topic: str,
        problems: list[ReadProblem],
        *,
        bootstrap: str,
        ranges: Sequence[PartitionRange],
        deadline: float,
        timeout_seconds: float,
        workers: int | None = None,
        client_id: str = "benecomune-audit",
        cut: Cut | None = None,
    ) -> None:
        self.topic = topic
        self.cut = cut
        """Where the replay of a live topic stops (None: at the end offsets); later messages
        wait for the next audit, so a batch half-published when the audit started is not
        replayed in half."""
        self.beyond_cut = 0
        """Messages after the cut, skipped by the last :meth:`records`."""
        self.problems = problems
        """Found before reading any event: partitions that no longer start at offset 0."""
        self.bootstrap = bootstrap
        self.ranges = tuple(ranges)
        self.deadline = deadline
        self.timeout_seconds = timeout_seconds
        self.workers = workers
        self.client_id = client_id
        self._messages: list[TopicMessage] | None = None

    @property
    def size(self) -> int:
        """Messages to read."""
        return sum(r.end - r.start for r in self.ranges)

    @property
    def messages(self) -> list[TopicMessage]:
        """The topic in memory, in the producer's order (read once, on first use)."""
        if self._messages is None:
            partitions = asyncio.run(
                _read_into_memory(
                    self.bootstrap,
                    self.topic,
                    self.ranges,
                    self.deadline,
                    self.timeout_seconds,
                    self.client_id,
                )
            )
            self._messages = list(merge_partitions(partitions))
        return self._messages

    def records(self) -> Iterator[AuditItem]:
        """Every message up to the cut as a contract event (or a read problem), in the
        producer's order. Raises :class:`KafkaReadError` if the topic cannot be read to its
        end in time."""
        if self._messages is not None:
            items = records_from_messages(self._messages, self.topic)
        else:
            workers = worker_count(self.ranges, self.workers)
            if workers == 0:
                items = records_from_messages(self._stream(), self.topic)
            else:
                items = self._from_workers(workers)
        return items if self.cut is None else self._up_to_cut(items, self.cut)

    def _up_to_cut(self, items: Iterator[AuditItem], cut: Cut) -> Iterator[AuditItem]:
        self.beyond_cut = 0
        last = cut.notification_id
        reached = 0
        for item in items:
            if type(item) is AuditRecord:
                if item.position > last:
                    partition, offset = _place(item.origin)
                    if not cut.keeps(item.position, partition, offset):
                        self.beyond_cut += 1
                        continue
                if item.position > reached:
                    reached = item.position
            yield item
        if cut.awaited is not None and reached < cut.awaited:
            yield IncompleteTransaction(reached, cut.awaited)

    def _stream(self) -> Iterator[TopicMessage]:
        for partition, offset, key, value, headers in stream_in_process(
            self.bootstrap,
            self.topic,
            self.ranges,
            deadline=self.deadline,
            timeout_seconds=self.timeout_seconds,
            client_id=self.client_id,
        ):
            yield TopicMessage(partition, offset, key, value, headers)

    def _from_workers(self, workers: int) -> Iterator[AuditItem]:
        return from_worker_items(
            stream_from_workers(
                self.bootstrap,
                self.topic,
                self.ranges,
                workers,
                deadline=self.deadline,
                timeout_seconds=self.timeout_seconds,
                client_id=self.client_id,
            ),
            self.topic,
        )


def _place(origin: str) -> tuple[int, int]:
    """(partition, offset) of an origin written ``<topic>[<partition>]@<offset>``."""
    where, _, offset = origin.rpartition("@")
    return int(where[where.rindex("[") + 1 : -1]), int(offset)


def from_worker_items(items: Iterable[WorkerItem], topic: str) -> Iterator[AuditItem]:
    """What the reader processes sent (:mod:`benecomune_auditor.topic_reader`) as audit items. The
    workers parsed every message and recomputed every ledger event's hash; here each payload
    is validated (again, unless a worker found it sound without validating it: see
    ``topic_reader.sound_check.sound_ledger_item``) to the event this process adds up, and named."""
    contracts: dict[str, Any] = {}
    for item in items:
        if len(item) == 4:
            _, partition, offset, problem = item
            yield ReadProblem(f"{topic}[{partition}]@{offset}", *problem)
            continue
        _, partition, offset, position, ce_id, type_name, value, content_hash = item
        origin = f"{topic}[{partition}]@{offset}"
        validate = contracts.get(type_name)
        if validate is None:
            # from_json_bytes (model_validate_json) without its two Python calls.
            validate = contracts[type_name] = get_contract(
                type_name
            ).__pydantic_validator__.validate_json
        try:
            event = validate(value)
        except ValidationError as error:
            # A ledger event the worker found sound but did not validate: its stream and
            # sequence are the payload's, which agree with its headers (the worker checked).
            body = _json_object(value)
            yield ReadProblem(
                origin,
                "invalid_payload",
                first_error(error),
                body.get("stream_id"),
                body.get("sequence"),
                type_name,
            )
            continue
        yield AuditRecord(event, origin, position, ce_id, content_hash)


def _json_object(value: bytes) -> dict[str, Any]:
    try:
        body = orjson.loads(value)
    except orjson.JSONDecodeError:
        return {}
    return body if type(body) is dict else {}


def read_kafka(
    bootstrap: str,
    topic: str,
    *,
    timeout_seconds: float = 300.0,
    workers: int | None = None,
    settle_seconds: float = 1.0,
) -> TopicCopy:
    """The whole topic, from offset 0 up to a consistent cut now (:func:`settled_ranges`):
    connects, finds the partitions, their offsets and the cut (raising
    :class:`KafkaReadError` when Kafka cannot be reached or the topic does not exist); the
    messages are read as the copy's records are replayed, within ``timeout_seconds`` from now.
    ``workers``: reader processes (default: one per core for a big topic on two or more cores;
    0 reads in this process)."""
    deadline = time.monotonic() + timeout_seconds
    ranges, cut = asyncio.run(
        settled_ranges(
            bootstrap,
            topic,
            timeout_seconds=timeout_seconds,
            client_id="benecomune-audit",
            settle_seconds=settle_seconds,
        )
    )
    return TopicCopy(
        topic,
        _truncated(topic, ranges),
        bootstrap=bootstrap,
        ranges=ranges,
        deadline=deadline,
        timeout_seconds=timeout_seconds,
        workers=workers,
        cut=cut,
    )
