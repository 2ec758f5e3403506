"""Replaying a ledger for an auditor, from Kafka or from a service's store.

The auditor trusts neither the service's aggregates nor its figures: it reads the public
contract events themselves and adds them up in an independent *tally*. The events come from

* a Kafka topic (:mod:`benecomune_auditor.kafka_copy`), read from offset 0 with a consumer of
  its own (no consumer group, nothing committed) up to a cut taken when the audit starts, and
  merged back into the producer's order (the ``ce_notificationid`` header: the service's
  notification-log id) as it is fetched, so the topic is streamed, never held in memory; a big
  topic is read, parsed and hash-checked by reader processes, one per core
  (:mod:`benecomune_auditor.topic_reader`); or
* a service's store (:mod:`benecomune_auditor.store_reader`): its notification log read in
  batches up to the last notification when the audit starts, each stored event decoded by the
  service's hook to the contract event its relay publishes. Events with no contract are
  private and never left the service: they are counted and skipped.

Every ledger event is fed to the hash-chain verifier
(:class:`benecomune_contracts.chain.ChainVerifier`): an edited, missing or reordered event is
named (stream, sequence, type, and where it was read), exact duplicates from at-least-once
delivery are skipped, and only sound events reach the tally. Non-ledger contract events
(applications, say) go to the tally too, de-duplicated by event id. Messages that cannot be
read at all (bad CloudEvents headers, unknown type, invalid payload, headers that disagree
with the payload) are reported as problems; none of them is silently dropped.

The replay is generic: the vouchers and wallet audits only bring their tally.
"""

from __future__ import annotations

import contextlib
import gc
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Protocol, TypeVar, cast

from benecomune_contracts.chain import ChainVerifier, LedgerEvent

from benecomune_auditor.ledger_seal import LedgerSeal
from benecomune_auditor.records import AuditItem, AuditRecord, IncompleteTransaction, ReadProblem
from benecomune_auditor.report import ChainFinding, ReplayReport

__all__ = [
    "CheckedTally",
    "LedgerReplay",
    "Tally",
    "cyclic_gc_paused",
    "replay",
    "replay_and_check",
]


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
    """The cyclic garbage collector paused: a replay keeps millions of objects alive (the tally)
    and the collector would walk them all again and again; reference counting frees everything
    else meanwhile. At the end, whatever the replay left is moved to the collector's oldest
    generation (``freeze`` then ``unfreeze``, as documented), not left young: three walks of it
    right after the replay become at most one, whenever the collector next looks at everything.

    :func:`replay_and_check` holds the pause over the tally's end checks too (they allocate
    while the whole tally is alive). Nested, only the outermost pause acts. What it saves is
    measured in docs/performance.md."""
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
