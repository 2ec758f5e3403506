"""Replaying a ledger for an auditor, from Kafka or from a service's store.

The auditor trusts neither the service's aggregates nor its figures: it reads the public
contract events themselves and adds them up in an independent *tally*. The events come from

* a Kafka topic, read from offset 0 with a consumer of its own (no consumer group, nothing
  committed): every partition is assigned and read up to the end offsets captured when the
  audit starts, then the partitions are merged back into the producer's order (the
  ``ce_notificationid`` header: the service's notification-log id); or
* a service's store: its notification log read in batches (``select_notifications``) up to the
  last notification when the audit starts, each domain event mapped to its contract with the
  service's own ``to_contract`` (the function its relay publishes with). Events with no
  contract are private and never left the service: they are counted and skipped.

Every ledger event is fed to the hash-chain verifier
(:class:`benecomune_contracts.chain.ChainVerifier`): an edited, missing or reordered event is
named (stream, sequence, type, and where it was read), exact duplicates from at-least-once
delivery are skipped, and only sound events reach the tally. Non-ledger contract events
(applications, say) go to the tally too, de-duplicated by event id. Messages that cannot be
read at all (bad CloudEvents headers, unknown type, invalid payload, headers that disagree
with the payload) are reported as problems; none of them is silently dropped.

This module is generic: the vouchers and wallet audits only bring their tally.
"""

from __future__ import annotations

import asyncio
import heapq
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol
from uuid import UUID

from benecomune_contracts import ContractEvent, EventEnvelope, MalformedEnvelope
from benecomune_contracts.chain import ChainBreak, ChainVerifier, LedgerEvent
from benecomune_contracts.cloudevents import CE_NOTIFICATIONID
from benecomune_contracts.registry import UnknownEventType, parse_event
from pydantic import ValidationError

from servicekit.relay import event_id
from servicekit.store import ServiceApplication

__all__ = [
    "AuditItem",
    "AuditRecord",
    "ChainFinding",
    "KafkaReadError",
    "PrivateEvent",
    "ReadProblem",
    "ReplayReport",
    "Tally",
    "TopicCopy",
    "TopicMessage",
    "merge_partitions",
    "read_kafka",
    "read_topic",
    "records_from_messages",
    "replay",
    "store_records",
]

ContractMapper = Callable[[Any], ContractEvent | None]


# --- What a reader yields ----------------------------------------------------------------------


@dataclass(frozen=True)
class AuditRecord:
    """One contract event as read, with where it was read from."""

    event: ContractEvent
    origin: str
    """Where it was read: ``<topic>[<partition>]@<offset>`` or ``notification <id>``."""
    position: int
    """The producing service's notification-log id: the order the events were stored in."""
    event_id: str
    """The CloudEvents id (stable across re-publication): de-duplicates non-ledger events."""


@dataclass(frozen=True)
class ReadProblem:
    """A message or stored event that could not be read as a sound contract event."""

    origin: str
    kind: str
    """``malformed_envelope``, ``unknown_type``, ``invalid_payload``, ``envelope_mismatch``,
    ``undecodable`` or ``truncated``."""
    detail: str
    stream_id: str | None = None
    sequence: int | None = None
    type_name: str | None = None

    def describe(self) -> str:
        where = ""
        if self.stream_id is not None:
            where = f" stream {self.stream_id}"
            if self.sequence is not None:
                where += f" sequence {self.sequence}"
        what = f" {self.type_name}" if self.type_name else ""
        return f"{self.kind}:{what}{where} ({self.origin}): {self.detail}"


@dataclass(frozen=True)
class PrivateEvent:
    """A stored domain event with no public contract (it never left the service)."""

    origin: str


AuditItem = AuditRecord | ReadProblem | PrivateEvent


# --- The report --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainFinding:
    """A break of the hash chain, naming the event and where it was read."""

    stream_id: str
    sequence: int
    type_name: str
    kind: str
    detail: str
    origin: str

    @classmethod
    def of(cls, brk: ChainBreak, origin: str) -> ChainFinding:
        return cls(brk.stream_id, brk.sequence, brk.type_name, brk.kind, brk.detail, origin)

    def describe(self) -> str:
        return (
            f"{self.kind}: {self.type_name} stream {self.stream_id} sequence {self.sequence} "
            f"({self.origin}): {self.detail}"
        )


@dataclass
class ReplayReport:
    """What the replay read and whether the event stream is intact."""

    source: str
    records: int = 0
    """Messages (Kafka) or notifications (store) read."""
    ledger_events: int = 0
    """Sound ledger events passed to the tally."""
    other_events: int = 0
    """Non-ledger contract events passed to the tally."""
    private_events: int = 0
    duplicates: int = 0
    streams: int = 0
    breaks: list[ChainFinding] = field(default_factory=list)
    problems: list[ReadProblem] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def intact(self) -> bool:
        return not self.breaks and not self.problems

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["intact"] = self.intact
        data["seconds"] = round(self.seconds, 3)
        return data


class Tally(Protocol):
    """Adds up what a ledger's events say. ``broken`` hears of every ledger event involved in a
    chain break (edited, after a gap, out of order) before it is added (if it is sound at all),
    so the tally can stop checking the internal consistency of that stream."""

    def add(self, record: AuditRecord) -> None: ...

    def broken(self, record: AuditRecord) -> None: ...


def replay(
    items: Iterable[AuditItem],
    tally: Tally,
    *,
    source: str,
    problems: Iterable[ReadProblem] = (),
) -> ReplayReport:
    """Verify the hash chain of every stream and feed the sound events to ``tally``.
    ``problems`` are those found before reading any event (a truncated partition)."""
    started = time.perf_counter()
    report = ReplayReport(source=source, problems=list(problems))
    verifier = ChainVerifier()
    # Claimed hash of every event that became its stream's head. The verifier recognises a
    # duplicate of a stream's last event only; a relay that re-publishes a whole batch after a
    # crash repeats older events of a stream too, and those are skipped here.
    heads: dict[str, int] = {}
    claimed: dict[tuple[str, int], bytes] = {}
    seen_ids: set[str] = set()
    for item in items:
        report.records += 1
        if isinstance(item, ReadProblem):
            report.problems.append(item)
        elif isinstance(item, PrivateEvent):
            report.private_events += 1
        elif isinstance(item.event, LedgerEvent):
            event = item.event
            place = (event.stream_id, event.sequence)
            digest = bytes.fromhex(event.event_hash)
            if claimed.get(place) == digest:
                report.duplicates += 1  # a re-published event already verified
                continue
            if event.sequence > heads.get(event.stream_id, 0):
                heads[event.stream_id] = event.sequence  # the verifier's new head, sound or not
                claimed[place] = digest
            known_breaks = len(verifier.breaks)
            sound = verifier.feed(event)
            for brk in verifier.breaks[known_breaks:]:
                report.breaks.append(ChainFinding.of(brk, item.origin))
            if len(verifier.breaks) > known_breaks:
                tally.broken(item)
            if sound:
                report.ledger_events += 1
                tally.add(item)
        elif item.event_id not in seen_ids:
            seen_ids.add(item.event_id)
            report.other_events += 1
            tally.add(item)
        else:
            report.duplicates += 1
    report.duplicates += verifier.duplicates
    report.streams = len(heads)
    report.seconds = time.perf_counter() - started
    return report


# --- From a service's store --------------------------------------------------------------------


def store_records(
    app: ServiceApplication, to_contract: ContractMapper, *, batch_size: int = 1000
) -> Iterator[AuditItem]:
    """The service's notification log, mapped to contract events, up to the last notification
    stored when reading starts."""
    last = app.recorder.max_notification_id() or 0
    start = 1
    while start <= last:  # bounded: start moves past every batch read
        batch = app.recorder.select_notifications(start=start, limit=batch_size, stop=last)
        if not batch:
            return
        for notification in batch:
            yield _from_notification(app, to_contract, notification)
        start = batch[-1].id + 1


def _from_notification(
    app: ServiceApplication, to_contract: ContractMapper, notification: Any
) -> AuditItem:
    origin = f"notification {notification.id}"
    stream_id = str(notification.originator_id)
    sequence = int(notification.originator_version)
    domain_type = str(notification.topic).partition(":")[2] or str(notification.topic)
    try:
        domain_event = app.mapper.to_domain_event(notification)
        contract = to_contract(domain_event)
    except ValidationError as error:
        return ReadProblem(
            origin, "invalid_payload", _first_error(error), stream_id, sequence, domain_type
        )
    except Exception as error:  # an edited or corrupted row: name it, keep going
        return ReadProblem(
            origin,
            "undecodable",
            f"{type(error).__name__}: {error}"[:300],
            stream_id,
            sequence,
            domain_type,
        )
    if contract is None:
        return PrivateEvent(origin)
    return AuditRecord(
        contract,
        origin,
        notification.id,
        event_id(UUID(stream_id), sequence),
    )


def _first_error(error: ValidationError) -> str:
    first = error.errors()[0]
    location = ".".join(str(part) for part in first["loc"])
    return f"{location}: {first['msg']}" if location else str(first["msg"])


# --- From a Kafka topic ------------------------------------------------------------------------


@dataclass(frozen=True)
class TopicMessage:
    """One Kafka message as the auditor keeps it (a copy of a topic is a list of these)."""

    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]


class KafkaReadError(RuntimeError):
    """The topic could not be read: no such topic, or the broker did not answer in time."""


async def read_topic(
    bootstrap: str,
    topic: str,
    *,
    timeout_seconds: float = 300.0,
    client_id: str = "benecomune-audit",
) -> tuple[dict[int, list[TopicMessage]], list[ReadProblem]]:
    """Every message of ``topic`` from its first offset up to the end offsets captured at
    start, per partition. A consumer of its own: no group, nothing committed. A partition that
    no longer starts at offset 0 is reported (a ledger topic must keep everything)."""
    from aiokafka import AIOKafkaConsumer, TopicPartition
    from aiokafka.errors import KafkaError

    deadline = time.monotonic() + timeout_seconds
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        client_id=client_id,
        request_timeout_ms=30_000,
        max_partition_fetch_bytes=4 * 1024 * 1024,
    )
    try:
        await asyncio.wait_for(consumer.start(), timeout=max(1.0, deadline - time.monotonic()))
    except (TimeoutError, KafkaError, OSError) as error:
        await consumer.stop()
        raise KafkaReadError(f"cannot reach Kafka at {bootstrap}: {error!r}") from None
    try:
        numbers = await _partitions_of(bootstrap, topic)
        partitions = [TopicPartition(topic, number) for number in numbers]
        consumer.assign(partitions)
        beginning = await consumer.beginning_offsets(partitions)
        end = await consumer.end_offsets(partitions)
        problems = [
            ReadProblem(
                f"{topic}[{tp.partition}]@0",
                "truncated",
                f"partition {tp.partition} starts at offset {beginning[tp]}: "
                "earlier messages were deleted",
            )
            for tp in partitions
            if beginning[tp] > 0
        ]
        messages: dict[int, list[TopicMessage]] = {tp.partition: [] for tp in partitions}
        pending = set()
        for tp in partitions:
            if end[tp] > beginning[tp]:
                consumer.seek(tp, beginning[tp])
                pending.add(tp)
        while pending:
            if time.monotonic() > deadline:
                raise KafkaReadError(
                    f"reading {topic} took more than {timeout_seconds:.0f} s; "
                    f"{len(pending)} partition(s) unfinished"
                )
            batch = await consumer.getmany(*pending, timeout_ms=500, max_records=10_000)
            for tp, records in batch.items():
                for record in records:
                    if record.offset < end[tp]:
                        messages[tp.partition].append(
                            TopicMessage(
                                partition=tp.partition,
                                offset=record.offset,
                                key=record.key,
                                value=record.value,
                                headers=tuple(record.headers or ()),
                            )
                        )
            for tp in list(pending):
                if await consumer.position(tp) >= end[tp]:
                    pending.discard(tp)
        return messages, problems
    finally:
        await consumer.stop()


async def _partitions_of(bootstrap: str, topic: str) -> list[int]:
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


def merge_partitions(partitions: Mapping[int, Sequence[TopicMessage]]) -> Iterator[TopicMessage]:
    """The messages of all partitions in the producer's order (its notification id); within a
    partition the order read is kept. A message without a readable notification id keeps its
    place after the one before it."""

    def keyed(messages: Sequence[TopicMessage]) -> Iterator[tuple[int, int, int, TopicMessage]]:
        last = 0
        for message in messages:
            last = max(last, _notification_id(message) or last)
            yield last, message.partition, message.offset, message

    for *_, message in heapq.merge(*(keyed(partitions[p]) for p in sorted(partitions))):
        yield message


def _notification_id(message: TopicMessage) -> int | None:
    for name, value in message.headers:
        if name == CE_NOTIFICATIONID:
            try:
                return int(value)
            except ValueError:
                return None
    return None


def records_from_messages(messages: Iterable[TopicMessage], topic: str) -> Iterator[AuditItem]:
    """Kafka messages as contract events, checking their CloudEvents headers and that the
    headers agree with the payload (type, subject = stream, sequence, key = subject)."""
    for message in messages:
        yield _from_message(message, topic)


def _from_message(message: TopicMessage, topic: str) -> AuditItem:
    origin = f"{topic}[{message.partition}]@{message.offset}"
    try:
        envelope = EventEnvelope.from_headers(message.headers)
    except MalformedEnvelope as error:
        return ReadProblem(origin, "malformed_envelope", str(error))
    stream_id, sequence, type_name = envelope.subject, envelope.sequence, envelope.type
    if message.value is None:
        return ReadProblem(
            origin, "invalid_payload", "the message has no value", stream_id, sequence, type_name
        )
    try:
        event = parse_event(type_name, message.value)
    except UnknownEventType as error:
        return ReadProblem(origin, "unknown_type", str(error), stream_id, sequence, type_name)
    except ValidationError as error:
        return ReadProblem(
            origin, "invalid_payload", _first_error(error), stream_id, sequence, type_name
        )
    mismatch: list[str] = []
    if message.key is not None and message.key != envelope.kafka_key():
        mismatch.append(f"key {message.key!r} is not the subject")
    if isinstance(event, LedgerEvent):
        if event.stream_id != envelope.subject:
            mismatch.append(f"payload stream {event.stream_id} is not the subject")
        if event.sequence != envelope.sequence:
            mismatch.append(f"payload sequence {event.sequence} is not ce_sequence")
    if mismatch:
        return ReadProblem(
            origin, "envelope_mismatch", "; ".join(mismatch), stream_id, sequence, type_name
        )
    return AuditRecord(event, origin, envelope.notification_id, envelope.id)


@dataclass(frozen=True)
class TopicCopy:
    """A whole topic as read by the auditor: its messages in the producer's order."""

    topic: str
    messages: list[TopicMessage]
    problems: list[ReadProblem]

    def records(self) -> Iterator[AuditItem]:
        return records_from_messages(self.messages, self.topic)


def read_kafka(bootstrap: str, topic: str, *, timeout_seconds: float = 300.0) -> TopicCopy:
    """Read the whole topic (see :func:`read_topic`) and merge its partitions."""
    partitions, problems = asyncio.run(
        read_topic(bootstrap, topic, timeout_seconds=timeout_seconds)
    )
    return TopicCopy(topic, list(merge_partitions(partitions)), problems)
