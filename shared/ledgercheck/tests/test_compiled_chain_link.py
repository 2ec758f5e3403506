"""The compiled chain step (``ChainLink``) leaves a replay exactly as the Python reference
(``_Claims.repeated`` then ``ChainVerifier.feed``) leaves it: the same breaks, duplicates,
heads, claimed hashes and events added up, over random orders of a small ledger with copies,
gaps, forged hashes, broken links, edited content and anchors of an earlier seal."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from benecomune_auditor.ledger_seal import LedgerSeal
from benecomune_auditor.records import AuditRecord
from benecomune_auditor.replay import LedgerReplay
from benecomune_contracts import vouchers as c
from benecomune_contracts.chain import GENESIS_HASH
from hypothesis import given, settings
from hypothesis import strategies as st

T0 = datetime(2020, 3, 30, 9, 0, tzinfo=UTC)
STREAMS = ("round-a", "round-b", "round-c")
LENGTH = 6
SPOILS = ("as read", "forged hash", "broken link", "edited content", "not hashed by a reader")


def claimed(stream: str, sequence: int, variant: int = 0) -> str:
    """The hash an event claims: one true one per place (variant 0), forgeries otherwise."""
    if sequence == 0:
        return GENESIS_HASH
    return hashlib.sha256(f"{stream}/{sequence}/{variant}".encode()).hexdigest()


def record(stream: str, sequence: int, spoil: str, position: int) -> AuditRecord:
    event_hash = claimed(stream, sequence, 1 if spoil == "forged hash" else 0)
    prev_hash = claimed(stream, sequence - 1, 1 if spoil == "broken link" else 0)
    event = c.RoundClosed(
        stream_id=stream,
        sequence=sequence,
        prev_hash=prev_hash,
        event_hash=event_hash,
        round_id=stream,
        closed_at=T0,
    )
    content_hash: str | None = event_hash
    if spoil == "edited content":
        content_hash = claimed(stream, sequence, 2)
    elif spoil == "not hashed by a reader":
        content_hash = None  # the verifier hashes it: never what these forged hashes claim
    return AuditRecord(event, f"t[0]@{position}", position, f"id-{position}", content_hash)


def fields(r: AuditRecord) -> tuple[Any, ...]:
    """What the replay hands the compiled link."""
    return (r.event.__dict__, r.event.type_name, r.content_hash)


class Recorder:
    def __init__(self) -> None:
        self.added: list[int] = []
        self.tainted_at: list[int] = []

    def add(self, record: AuditRecord) -> None:
        self.added.append(record.position)

    def broken(self, record: AuditRecord) -> None:
        self.tainted_at.append(record.position)


def replayed(records: list[AuditRecord], seal: LedgerSeal | None, compiled: bool) -> Any:
    tally = Recorder()
    replay = LedgerReplay(tally, source="test", since=seal)
    assert replay._link is not None, "the compiled module is installed"
    if not compiled:
        replay._link = None
    replay.feed(records)
    report = replay.finish()
    claims, verifier = replay.claims, replay.verifier
    return (
        [(f.stream_id, f.sequence, f.kind, f.detail, f.origin) for f in report.breaks],
        (report.records, report.ledger_events, report.duplicates, report.streams),
        report.seal.digest if report.seal else None,
        dict(verifier.heads),
        verifier.verified,
        ({k: bytes(v) for k, v in claims.chains.items()}, claims.scattered),
        tally.added,
        tally.tainted_at,
    )


places = st.tuples(st.sampled_from(STREAMS), st.integers(1, LENGTH), st.sampled_from(SPOILS))


@st.composite
def relay_orders(draw: st.DrawFn) -> list[tuple[str, int, str]]:
    """The ledger mostly as a relay writes it (each stream in order, streams interleaved),
    with some events spoiled in place and a few copies or strays put in anywhere."""
    order = draw(st.permutations([(s, q) for s in STREAMS for q in range(1, LENGTH + 1)]))
    ledger = [(s, q, "as read") for s, q in sorted(order, key=lambda p: p[1])]
    for at, spoil in draw(
        st.lists(st.tuples(st.integers(0, len(ledger) - 1), st.sampled_from(SPOILS)), max_size=4)
    ):
        ledger[at] = (*ledger[at][:2], spoil)
    for at, place in draw(st.lists(st.tuples(st.integers(0, len(ledger)), places), max_size=4)):
        ledger.insert(at, place)
    return ledger


ledgers = st.one_of(st.lists(places, max_size=40), relay_orders())
anchors = st.dictionaries(
    st.sampled_from(STREAMS),
    st.tuples(st.integers(1, LENGTH + 1), st.integers(0, 1)),
    max_size=3,
)


@settings(max_examples=300, deadline=None)
@given(ledgers, anchors)
def test_a_replay_with_the_compiled_link_ends_as_the_reference_ends(
    places: list[tuple[str, int, str]], anchored: dict[str, tuple[int, int]]
) -> None:
    records = [record(s, q, spoil, n) for n, (s, q, spoil) in enumerate(places)]
    seal = None
    if anchored:
        heads = {
            s: (q, claimed(s, q, variant), c.RoundClosed.type_name)
            for s, (q, variant) in anchored.items()
        }
        seal = LedgerSeal.of(heads)
    assert replayed(records, seal, compiled=True) == replayed(records, seal, compiled=False)


def test_the_compiled_link_records_a_sound_ledger_read_in_order() -> None:
    records = [
        record(s, q, "as read", n)
        for n, (q, s) in enumerate((q, s) for q in range(1, LENGTH + 1) for s in STREAMS)
    ]
    replay = LedgerReplay(Recorder(), source="test")
    link = replay._link
    assert link is not None
    assert [link(*fields(r)) for r in records] == [True] * len(records)
    assert replay.verifier.heads["round-b"] == (
        LENGTH,
        claimed("round-b", LENGTH),
        c.RoundClosed.type_name,
    )
    assert bytes(replay.claims.chains["round-b"]) == b"".join(
        bytes.fromhex(claimed("round-b", q)) for q in range(1, LENGTH + 1)
    )


def test_the_compiled_link_leaves_what_is_not_the_next_sound_event_to_the_reference() -> None:
    replay = LedgerReplay(Recorder(), source="test")
    link = replay._link
    assert link is not None
    first = record("round-a", 1, "as read", 0)
    assert link(*fields(first))
    heads = dict(replay.verifier.heads)
    for spoiled in (
        record("round-a", 1, "as read", 1),  # a copy
        record("round-a", 3, "as read", 2),  # a gap
        record("round-a", 2, "broken link", 3),
        record("round-a", 2, "edited content", 4),
        record("round-a", 2, "not hashed by a reader", 5),
        record("round-b", 2, "as read", 6),  # a stream read from its middle
    ):
        assert link(*fields(spoiled)) is None
        assert dict(replay.verifier.heads) == heads
        assert set(replay.claims.chains) == {"round-a"}
