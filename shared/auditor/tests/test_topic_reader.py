"""The auditor's streaming reader: messages released while fetching come out in the order the
in-memory merge gives; what worker processes send becomes the same audit items one process
reads; the compact record of claimed hashes answers as a dict of every head would."""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from benecomune_auditor.kafka_copy import (
    TopicMessage,
    from_worker_items,
    merge_partitions,
    records_from_messages,
)
from benecomune_auditor.records import AuditItem, AuditRecord, ReadProblem
from benecomune_auditor.replay import _Claims, replay
from benecomune_auditor.topic_reader.merge import Merge
from benecomune_auditor.topic_reader.sound_check import record_item
from benecomune_contracts import EventEnvelope
from benecomune_contracts import vouchers as c
from benecomune_contracts.base import ContractEvent
from benecomune_contracts.chain import GENESIS_HASH, ChainVerifier, LedgerEvent, ledger_hash

TOPIC = "t.benecomune.vouchers"
T0 = datetime(2020, 3, 30, 9, 0, tzinfo=UTC)


# --- The producer's order while fetching -------------------------------------------------------


def message(partition: int, offset: int, nid: bytes | None) -> TopicMessage:
    headers = () if nid is None else (("ce_notificationid", nid),)
    return TopicMessage(partition, offset, None, None, headers)


def test_messages_released_while_fetching_come_in_the_in_memory_merge_order() -> None:
    rng = random.Random(658)
    for _ in range(300):
        partitions: dict[int, list[TopicMessage]] = {}
        nid = 0
        for p in range(rng.randrange(1, 6)):
            partitions[p] = []
        for _ in range(rng.randrange(0, 60)):
            nid += rng.randrange(1, 4)
            p = rng.randrange(len(partitions))
            roll = rng.random()
            # Mostly increasing ids; sometimes none, unreadable, or an old one (re-published).
            value = (
                None
                if roll < 0.05
                else b"x"
                if roll < 0.1
                else str(rng.randrange(1, nid + 1)).encode()
                if roll < 0.2
                else str(nid).encode()
            )
            partitions[p].append(message(p, 100 + len(partitions[p]), value))
        expected = [(m.partition, m.offset) for m in merge_partitions(partitions)]

        merge = Merge(partitions)
        fetched = dict.fromkeys(partitions, 0)
        released: list[tuple[int, int]] = []
        while merge.open:
            p = rng.choice(sorted(merge.open))
            take = rng.randrange(0, 5)
            in_runs = rng.random() < 0.5  # keyed ahead, as the compiled reader keys them
            last = merge.last[p]
            run = []
            for m in partitions[p][fetched[p] : fetched[p] + take]:
                nid_value = dict(m.headers).get("ce_notificationid")
                parsed = int(nid_value) if nid_value and nid_value.isdigit() else None
                if in_runs:
                    last = max(last, parsed or 0)
                    run.append((last, p, m.offset, m.partition, m.offset))
                else:
                    merge.add(p, m.offset, parsed, (m.partition, m.offset))
            merge.add_run(p, run)
            fetched[p] += take
            if fetched[p] >= len(partitions[p]):
                merge.finish(p)
            released.extend(keyed[3:] for keyed in merge.ready())
        assert released == expected


# --- What workers send -------------------------------------------------------------------------


@dataclass
class Record:
    """What aiokafka's consumer gives a worker, for one message."""

    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]


def chained_messages() -> list[TopicMessage]:
    heads: dict[str, tuple[int, str]] = {}
    events: list[ContractEvent] = []
    funds = [str(uuid.UUID(int=n)) for n in range(1, 4)]
    for n in range(40):
        fund = funds[n % 3]
        sequence, prev = heads.get(fund, (0, GENESIS_HASH))
        fields: dict[str, Any] = {"fund_id": fund, "amount_cents": 100 + n}
        if sequence == 0:
            cls: type[LedgerEvent] = c.FundAllocated
            fields |= {
                "municipality_istat": "096004",
                "source_kind": "state_transfer",
                "source_reference": "OCDPC 658/2020",
                "allocated_at": T0 + timedelta(minutes=n),
            }
        else:
            cls = c.FundToppedUp
            fields |= {
                "source_kind": "donation",
                "source_reference": f"gift {n}",
                "topped_up_at": T0 + timedelta(minutes=n),
            }
        draft = cls(
            stream_id=fund, sequence=sequence + 1, prev_hash=prev, event_hash=GENESIS_HASH, **fields
        )
        event = draft.model_copy(update={"event_hash": draft.computed_hash()})
        heads[fund] = (sequence + 1, event.event_hash)
        events.append(event)
        if n % 7 == 0:
            application = str(uuid.UUID(int=1000 + n))
            events.append(
                c.ApplicationSubmitted(
                    application_id=application,
                    round_id="r",
                    household_id=f"h{n}",
                    members=2,
                    minors=0,
                    submitted_at=T0,
                )
            )
    messages = []
    offsets = [0, 0, 0]
    for n, event in enumerate(events, 1):
        subject = event.stream_id if isinstance(event, LedgerEvent) else event.application_id  # type: ignore[attr-defined]
        envelope = EventEnvelope(
            id=f"event-{n}",
            source="/benecomune/biella/vouchers",
            type=event.type_name,
            time=T0,
            subject=subject,
            notification_id=n,
            sequence=event.sequence if isinstance(event, LedgerEvent) else 1,
        )
        partition = int(uuid.UUID(subject)) % 3
        messages.append(
            TopicMessage(
                partition,
                offsets[partition],
                envelope.kafka_key(),
                event.to_json_bytes(),
                tuple(envelope.to_headers()),
            )
        )
        offsets[partition] += 1
    return messages


def spoiled(messages: list[TopicMessage]) -> list[TopicMessage]:
    """The same topic with unreadable messages and an edited one."""
    out = list(messages)

    def replace(index: int, **changes: Any) -> None:
        m = out[index]
        fields = {"key": m.key, "value": m.value, "headers": m.headers} | changes
        out[index] = TopicMessage(m.partition, m.offset, **fields)

    replace(3, headers=())  # no envelope
    replace(5, key=b"someone-else")  # key is not the subject
    replace(8, value=b"{not json")
    replace(11, value=None)
    replace(14, value=(out[14].value or b"").replace(b'"amount_cents":1', b'"amount_cents":9'))
    headers = tuple(
        (n, b"benecomune.vouchers.Nothing.v1" if n == "ce_type" else v) for n, v in out[17].headers
    )
    replace(17, headers=headers)
    # A ledger event edited against its contract, its hash recomputed over the edit: sound to
    # a worker's hash check, so only the parent's validation can name it.
    body = json.loads(out[32].value or b"")
    assert body["sequence"] >= 1  # a ledger event
    body["amount_cents"] = -500
    body["event_hash"] = ledger_hash(
        dict(out[32].headers)["ce_type"].decode(),
        {k: v for k, v in body.items() if k != "event_hash"},
    )
    replace(32, value=json.dumps(body).encode())
    return out


def via_workers(messages: list[TopicMessage]) -> list[AuditItem]:
    items = []
    for m in messages:
        nid, item = record_item(Record(m.offset, m.key, m.value, m.headers))
        items.append((nid or 0, m.partition, m.offset, *item))
    return list(from_worker_items(items, TOPIC))


def test_what_workers_send_becomes_what_one_process_reads() -> None:
    for messages in (chained_messages(), spoiled(chained_messages())):
        here = list(records_from_messages(messages, TOPIC))
        there = via_workers(messages)
        assert len(here) == len(there) == len(messages)
        for mine, theirs in zip(here, there, strict=True):
            if isinstance(mine, ReadProblem):
                assert mine == theirs
                continue
            assert isinstance(mine, AuditRecord) and isinstance(theirs, AuditRecord)
            assert (theirs.event, theirs.origin, theirs.position, theirs.event_id) == (
                mine.event,
                mine.origin,
                mine.position,
                mine.event_id,
            )
            if isinstance(theirs.event, LedgerEvent):
                assert theirs.content_hash == theirs.event.computed_hash()
            else:
                assert theirs.content_hash is None
    kinds = [p.kind for p in here if isinstance(p, ReadProblem)]
    assert kinds == [
        "malformed_envelope",
        "envelope_mismatch",
        "invalid_payload",
        "invalid_payload",
        "unknown_type",
        "invalid_payload",
    ]


class Counted:
    def __init__(self) -> None:
        self.added: list[str] = []
        self.broken_at: list[str] = []

    def add(self, record: AuditRecord) -> None:
        self.added.append(record.origin)

    def broken(self, record: AuditRecord) -> None:
        self.broken_at.append(record.origin)


def test_a_replay_from_worker_items_reports_what_a_replay_in_one_process_does() -> None:
    messages = spoiled(chained_messages())
    messages += messages[20:30]  # a relay re-publishing a batch
    results = []
    for items in (records_from_messages(messages, TOPIC), via_workers(messages)):
        tally = Counted()
        report = replay(items, tally, source="copy")
        report.seconds = 0.0
        results.append((report, tally.added, tally.broken_at))
    assert results[0] == results[1]
    report = results[0][0]
    assert report.duplicates == 10
    # The unreadable messages leave gaps in their streams; the edited amount is named.
    assert [b.kind for b in report.breaks] == ["missing", "missing", "edited", "missing", "missing"]
    assert len(report.problems) == 6


# --- Claimed hashes ----------------------------------------------------------------------------


def test_the_claimed_hashes_answer_as_a_dict_of_every_head_would() -> None:
    rng = random.Random(658)
    digests = [f"{n:064x}" for n in range(8)]
    for _ in range(300):
        verifier = ChainVerifier()
        claims = _Claims(verifier.heads)
        heads: dict[str, int] = {}
        claimed: dict[tuple[str, int], str] = {}
        for _ in range(rng.randrange(1, 80)):
            stream = rng.choice("abc")
            head = heads.get(stream, 0)
            sequence = max(1, head + rng.choice([-2, -1, 0, 1, 1, 1, 2, 3]))
            digest = rng.choice(digests)
            if rng.random() < 0.4 and (stream, sequence) in claimed:
                digest = claimed[(stream, sequence)]  # an exact repeat
            event = c.RoundClosed(
                stream_id=stream,
                sequence=sequence,
                prev_hash=GENESIS_HASH,
                event_hash=digest,
                round_id=stream,
                closed_at=T0,
            )
            expected = claimed.get((stream, sequence)) == digest
            if not expected and sequence > heads.get(stream, 0):
                heads[stream] = sequence
                claimed[(stream, sequence)] = digest
            assert claims.repeated(event) == expected
            if not expected:
                verifier.feed(event, event.event_hash)  # as a replay does next
        assert {stream: head[0] for stream, head in verifier.heads.items()} == heads


def test_the_auditor_names_a_hostile_message_unreadable_instead_of_crashing() -> None:
    from benecomune_auditor.topic_reader import notification_id, parse_message, transaction_reach

    fund_id = str(uuid.uuid4())
    envelope = EventEnvelope(
        id="e-1",
        source="/benecomune/biella/vouchers",
        type="benecomune.vouchers.FundAllocated.v1",
        time=datetime.now(UTC),
        subject=fund_id,
        notification_id=7,
        sequence=1,
    )
    good = envelope.to_headers()

    def spoiled(name: str, value: bytes) -> list[tuple[str, bytes]]:
        return [(n, value if n == name else v) for n, v in good]

    hostile = {
        "notification id 10^23": spoiled("ce_notificationid", b"1" + b"0" * 23),
        "notification id of 5000 digits": spoiled("ce_notificationid", b"9" * 5000),
        "time in year 1 with an offset": spoiled("ce_time", b"0001-01-01T00:30:00+01:00"),
        "sequence 2^64": spoiled("ce_sequence", str(2**64).encode()),
    }
    for name, headers in hostile.items():
        parsed = parse_message(fund_id.encode(), b"{}", headers)
        assert parsed.problem is not None, name
        assert parsed.problem[0] == "malformed_envelope", name
        assert notification_id(headers) in (None, 7), name
        assert transaction_reach(headers) in (None, 7), name
