"""Replaying a ledger for an auditor, from Kafka or from a service's store.

The auditor trusts neither the service's aggregates nor its figures: it reads the public
contract events themselves and adds them up in an independent *tally*. The events come from

* a Kafka topic, read from offset 0 with a consumer of its own (no consumer group, nothing
  committed): every partition is assigned and read up to the end offsets captured when the
  audit starts, and the partitions are merged back into the producer's order (the
  ``ce_notificationid`` header: the service's notification-log id) as they are fetched, so the
  topic is streamed, never held in memory; a big topic is read, parsed and hash-checked by
  worker processes, one per core (:mod:`servicekit.topic_reader`); or
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
import contextlib
import gc
import heapq
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Protocol, TypeVar, cast
from uuid import UUID

import orjson
from benecomune_contracts import ContractEvent
from benecomune_contracts.chain import ChainBreak, ChainVerifier, LedgerEvent
from benecomune_contracts.registry import get_contract
from pydantic import ValidationError

from servicekit.ledger_seal import LedgerSeal
from servicekit.relay import event_id
from servicekit.store import ServiceApplication
from servicekit.topic_reader import (
    Cut,
    KafkaReadError,
    PartitionRange,
    WorkerItem,
    content_hash,
    first_error,
    notification_id,
    parse_message,
    read_ranges,
    settled_ranges,
    stream_from_workers,
    stream_in_process,
    topic_ranges,
    worker_count,
)

__all__ = [
    "AuditItem",
    "AuditRecord",
    "ChainFinding",
    "CheckedTally",
    "IncompleteTransaction",
    "KafkaReadError",
    "LedgerReplay",
    "PartitionRange",
    "PrivateEvent",
    "ReadProblem",
    "ReplayReport",
    "Tally",
    "TopicCopy",
    "TopicMessage",
    "cyclic_gc_paused",
    "from_worker_items",
    "merge_partitions",
    "message_item",
    "read_kafka",
    "read_topic",
    "records_from_messages",
    "replay",
    "replay_and_check",
    "store_records",
]

ContractMapper = Callable[[Any], ContractEvent | None]


# --- What a reader yields ----------------------------------------------------------------------


@dataclass(slots=True)
class AuditRecord:
    """One contract event as read, with where it was read from. Read-only by convention: not
    frozen, because a frozen dataclass is built four times slower, and a replay builds one per
    event."""

    event: ContractEvent
    origin: str
    """Where it was read: ``<topic>[<partition>]@<offset>`` or ``notification <id>``."""
    position: int
    """The producing service's notification-log id: the order the events were stored in."""
    event_id: str
    """The CloudEvents id (stable across re-publication): de-duplicates non-ledger events."""
    content_hash: str | None = None
    """A ledger event's hash as recomputed from its content by the reader (the Kafka reader's
    worker processes do it); None: :func:`replay` recomputes it."""


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


@dataclass(frozen=True, slots=True)
class IncompleteTransaction:
    """The end of a topic's replay, when it stopped inside a store transaction: the relay had
    not published it whole (``awaited``: the transaction's last published notification, named
    by ``ce_transactionend``; ``reached``: the highest notification replayed)."""

    reached: int
    awaited: int


AuditItem = AuditRecord | ReadProblem | PrivateEvent | IncompleteTransaction


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
    last_position: int = 0
    """The highest notification id replayed: the point a live service's figures are asked for."""
    incomplete_transaction_end: int | None = None
    """The end of a store transaction the topic stopped inside (:class:`IncompleteTransaction`):
    the copy is incomplete, the audit cannot be OK."""
    cut_at: int | None = None
    """A live topic's cut (:class:`~servicekit.topic_reader.Cut`), when there was one."""
    left_for_next_audit: int = 0
    """Messages that landed after the audit started, beyond the cut: not replayed."""
    breaks: list[ChainFinding] = field(default_factory=list)
    problems: list[ReadProblem] = field(default_factory=list)
    seconds: float = 0.0
    seal: LedgerSeal | None = None
    """Every stream's head as read, and their seal (:mod:`servicekit.ledger_seal`)."""
    since: LedgerSeal | None = None
    """The earlier audit's heads this replay was checked against, if any."""

    @property
    def intact(self) -> bool:
        return not self.breaks and not self.problems and self.incomplete_transaction_end is None

    def as_dict(self) -> dict[str, Any]:
        data = {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if f.name not in ("breaks", "problems", "seal", "since")
        }
        data["breaks"] = [asdict(b) for b in self.breaks]
        data["problems"] = [asdict(p) for p in self.problems]
        data["intact"] = self.intact
        data["seconds"] = round(self.seconds, 3)
        data["seal"] = None if self.seal is None else self.seal.digest
        data["sealed_streams"] = 0 if self.seal is None else len(self.seal)
        data["since_seal"] = None if self.since is None else self.since.digest
        return data

    def chain_lines(self) -> list[str]:
        """The summary's lines about the chain: intact or every break and unreadable record,
        the earlier seal it was checked against, and this replay's seal."""
        if not self.breaks and not self.problems:
            lines = ["  hash chain: intact"]
        else:
            lines = [
                f"  hash chain: BROKEN — {len(self.breaks)} break(s), {len(self.problems)} "
                "unreadable record(s)"
            ]
            lines.extend(f"    {b.describe()}" for b in self.breaks)
            lines.extend(f"    {p.describe()}" for p in self.problems)
        if self.incomplete_transaction_end is not None:
            lines.append(
                f"  the topic is INCOMPLETE: no notification beyond {self.last_position} was "
                "replayed, inside a store transaction whose last published notification is "
                f"{self.incomplete_transaction_end} (ce_transactionend). If the relay is still "
                "publishing, audit again; if a later audit still misses it, the service names "
                "a notification it never published"
            )
        if self.cut_at is not None:
            lines.append(
                f"  the topic was moving or inside a store transaction: replayed up to "
                f"notification {self.cut_at}; {self.left_for_next_audit} message(s) that "
                "landed later are left for the next audit"
            )
        if self.since is not None:
            lines.append(
                f"  checked against an earlier audit's seal {self.since.digest} "
                f"({len(self.since)} stream heads): "
                + ("every sealed event is still there" if self.intact else "see the breaks above")
            )
        if self.seal is not None:
            line = f"  seal of this ledger: {self.seal.digest} ({len(self.seal)} stream heads); "
            if self.intact:
                line += (
                    "keep the heads file and publish the seal: the next audit checks with "
                    "--since that nothing sealed here was deleted or rewritten"
                )
            elif not self.breaks and not self.problems:
                line += "the topic is INCOMPLETE: publish this seal only with this report"
            else:
                line += (
                    "the chain is BROKEN: publish this seal only with this report (a stream "
                    "found deleted or rewritten keeps the earlier seal's head, so the next "
                    "audit names it again)"
                )
            lines.append(line)
        return lines


class Tally(Protocol):
    """Adds up what a ledger's events say. ``broken`` hears of every ledger event involved in a
    chain break (edited, after a gap, out of order) before it is added (if it is sound at all),
    so the tally can stop checking the internal consistency of that stream."""

    def add(self, record: AuditRecord) -> None: ...

    def broken(self, record: AuditRecord) -> None: ...


V_co = TypeVar("V_co", covariant=True)


class CheckedTally(Tally, Protocol[V_co]):
    """A tally with checks across streams, run once every event is in (``finish``)."""

    def finish(self) -> Sequence[V_co]: ...


def replay_and_check(
    items: Iterable[AuditItem],
    tally: CheckedTally[V_co],
    *,
    source: str,
    problems: Iterable[ReadProblem] = (),
    since: LedgerSeal | None = None,
) -> tuple[ReplayReport, list[V_co]]:
    """:func:`replay`, then the tally's end checks (the violations they find), with the
    collector paused over both: the end checks allocate while the whole tally is alive."""
    with cyclic_gc_paused():
        report = replay(items, tally, source=source, problems=problems, since=since)
        return report, list(tally.finish())


def replay(
    items: Iterable[AuditItem],
    tally: Tally,
    *,
    source: str,
    problems: Iterable[ReadProblem] = (),
    since: LedgerSeal | None = None,
) -> ReplayReport:
    """Verify the hash chain of every stream and feed the sound events to ``tally``.
    ``problems`` are those found before reading any event (a truncated partition); ``since``
    the heads an earlier audit sealed, each of which must still be there."""
    with cyclic_gc_paused():
        state = LedgerReplay(tally, source=source, problems=problems, since=since)
        state.feed(items)
        return state.finish()


@contextlib.contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """The cyclic garbage collector paused: a replay keeps millions of objects alive (the
    tally) and the collector would walk them all again and again (a fifth of the time of a
    big replay); reference counting frees everything else meanwhile. At the end, whatever the
    replay left is moved to the collector's oldest generation (``freeze`` then ``unfreeze``,
    as documented), not left young: three walks of it right after the replay become at most
    one, whenever the collector next looks at everything.

    :func:`replay_and_check` holds the pause over the tally's end checks too (with the
    collector back there, a 3 M-event audit spent 2.6 s walking the tally). Nested, only the
    outermost pause acts."""
    if not gc.isenabled():  # paused already: the caller's pause ends it
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.unfreeze()
        gc.enable()


class LedgerReplay:
    """A replay under way: every ledger event's chain verified, duplicates skipped, the sound
    events fed to the tally. :meth:`feed` may be called with the items in several parts;
    :meth:`finish` gives the report."""

    def __init__(
        self,
        tally: Tally,
        *,
        source: str,
        problems: Iterable[ReadProblem] = (),
        since: LedgerSeal | None = None,
    ) -> None:
        self.tally = tally
        self.report = ReplayReport(source=source, problems=list(problems), since=since)
        self.verifier = ChainVerifier(None if since is None else since.heads)
        self.claims = _Claims(self.verifier.heads)
        self.seen_ids: set[str] = set()
        self._ledger_types: dict[type, str] = {}
        self._duplicates = 0
        self._link = _compiled_link(self.verifier, self.claims, since)
        self._started = time.perf_counter()

    def feed(self, items: Iterable[AuditItem]) -> None:
        report, tally = self.report, self.tally
        verifier, claims, seen_ids = self.verifier, self.claims, self.seen_ids
        breaks = verifier.breaks
        ledger_types = self._ledger_types
        link = self._link
        records = ledger_events = other_events = private_events = duplicates = linked = 0
        last_position = report.last_position
        try:
            for item in items:
                records += 1
                if type(item) is not AuditRecord:
                    if isinstance(item, ReadProblem):
                        report.problems.append(item)
                    elif isinstance(item, IncompleteTransaction):
                        records -= 1  # not a message: what the end of the copy lacks
                        report.incomplete_transaction_end = item.awaited
                    else:
                        private_events += 1
                    continue
                if item.position > last_position:
                    last_position = item.position
                event = item.event
                ledger = ledger_types.get(type(event))  # a ledger event's type name, or ""
                if ledger is None:
                    ledger = ledger_types[type(event)] = (
                        event.type_name if isinstance(event, LedgerEvent) else ""
                    )
                if ledger:
                    if link is not None and link(event.__dict__, ledger, item.content_hash):
                        linked += 1  # the next sound event of its stream, recorded as below
                        tally.add(item)
                        continue
                    event = cast(LedgerEvent, event)
                    if claims.repeated(event):
                        duplicates += 1  # a re-published event already verified
                        self._check_copy(event, item)
                        continue
                    known_breaks = len(breaks)
                    sound = verifier.feed(event, item.content_hash)
                    if len(breaks) > known_breaks:
                        for brk in breaks[known_breaks:]:
                            report.breaks.append(ChainFinding.of(brk, item.origin))
                        tally.broken(item)
                    if sound:
                        ledger_events += 1
                        tally.add(item)
                elif item.event_id not in seen_ids:
                    seen_ids.add(item.event_id)
                    other_events += 1
                    tally.add(item)
                else:
                    duplicates += 1
        finally:
            verifier.verified += linked
            report.last_position = last_position
            report.records += records
            report.ledger_events += ledger_events + linked
            report.other_events += other_events
            report.private_events += private_events
            self._duplicates += duplicates

    def _check_copy(self, event: LedgerEvent, item: AuditRecord) -> None:
        """A repeated event is skipped, but only a true copy: one whose content still matches
        the hash it claims (a forged copy of a sound event would otherwise pass unseen). Rare
        (re-publication after a crash), so hashing it here costs nothing in a replay."""
        computed = item.content_hash or event.computed_hash()
        if computed != event.event_hash:
            self.report.breaks.append(
                ChainFinding(
                    event.stream_id,
                    event.sequence,
                    event.type_name,
                    "edited",
                    "a second copy of this event does not match its event_hash: the copy was "
                    "edited (the first one, which matches, is the one added up)",
                    item.origin,
                )
            )

    def finish(self) -> ReplayReport:
        """The report, once: the anchors checked and the heads sealed. A stream found deleted
        or rewritten against the earlier seal keeps that seal's head in the new one, so the
        next audit names it again instead of taking the damage as the new reference."""
        report = self.report
        if report.seal is not None:
            return report
        heads = self.verifier.heads
        if report.since is not None:
            origin = f"sealed by an earlier audit, {report.since.digest[:16]}…"
            for brk in self.verifier.check_anchors():
                report.breaks.append(ChainFinding.of(brk, origin))
            sealed, kept = report.since.heads, dict(heads)  # the verifier's are left as read
            for brk in self.verifier.breaks:
                if brk.kind in ("deleted", "rewritten"):
                    kept[brk.stream_id] = sealed[brk.stream_id]
            heads = kept
        report.seal = LedgerSeal.of(heads)
        report.duplicates = self._duplicates + self.verifier.duplicates
        report.streams = len(self.verifier.heads)
        report.seconds = time.perf_counter() - self._started
        return report


class _Claims:
    """The hash each event claimed when it became its stream's head, to recognise it when it
    comes again. The verifier recognises a duplicate of a stream's last event only; a relay
    that re-publishes a whole batch after a crash repeats older events of a stream too, and
    those are skipped. Kept in 32 bytes an event (a replay holds one per ledger event): a
    stream's hashes from sequence 1 for as long as its heads follow each other, the rest (after
    a gap) by place.

    ``heads`` are the verifier's: it is fed every event that is no repeat, right after, and
    takes as its new head exactly the events beyond the head, the ones recorded here."""

    def __init__(self, heads: Mapping[str, tuple[int, str, str]]) -> None:
        self.heads = heads
        self.chains: dict[str, bytearray] = {}
        self.scattered: dict[tuple[str, int], bytes] = {}

    def repeated(self, event: LedgerEvent) -> bool:
        """Whether the event repeats the one claimed at its place; if not, and it is beyond
        its stream's head, its claim is recorded (the verifier, fed it next, makes it the
        stream's new head, sound or not)."""
        stream, sequence = event.stream_id, event.sequence
        digest = bytes.fromhex(event.event_hash)
        chain = self.chains.get(stream)
        if chain is not None and sequence * 32 <= len(chain):
            if chain[sequence * 32 - 32 : sequence * 32] == digest:
                return True
        elif self.scattered and self.scattered.get((stream, sequence)) == digest:
            return True
        head = self.heads.get(stream)
        if head is None or sequence > head[0]:
            if chain is None and sequence == 1:
                self.chains[stream] = bytearray(digest)
            elif chain is not None and sequence * 32 == len(chain) + 32:
                chain += digest
            else:
                self.scattered[(stream, sequence)] = digest
        return False


def _compiled_link(
    verifier: ChainVerifier, claims: _Claims, since: LedgerSeal | None
) -> Callable[[dict[str, Any], str, str | None], bool | None] | None:
    """The compiled twin (``shared/ledgercheck``) of :meth:`_Claims.repeated` then
    :meth:`ChainVerifier.feed` for a sound event that links to its stream's head: it records
    the event in their dicts as they would and answers True, or answers None (then they decide)
    and changes nothing. None if it is not installed."""
    try:
        from benecomune_ledgercheck import ChainLink
    except ImportError:
        return None
    heads = verifier.heads
    if type(heads) is not dict:
        return None
    anchors = since.heads if since is not None and since.heads else None
    return ChainLink(heads, claims.chains, claims.scattered, anchors).link


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
            origin, "invalid_payload", first_error(error), stream_id, sequence, domain_type
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


# --- From a Kafka topic ------------------------------------------------------------------------


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
    """What the reader processes sent (:mod:`servicekit.topic_reader`) as audit items. The
    workers parsed every message and recomputed every ledger event's hash; here each payload
    is validated (again, unless a worker found it sound without validating it: see
    ``topic_reader._sound_ledger_item``) to the event this process adds up, and named."""
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
