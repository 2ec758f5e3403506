"""The compiled reader of fetched record sets gives what aiokafka's record classes and the Python
reader give (``benecomune_auditor.topic_reader.record_sets.python_records`` then
``benecomune_auditor.topic_reader.sound_check.item_of``), record for record and to the offset
fetched next, or declines (None) and leaves the bytes to them: compressed batches, a bad checksum, a
malformed record. Record sets are built as a broker returns them, with aiokafka's own batch
builder."""

from __future__ import annotations

import struct
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiokafka.record.default_records import DefaultRecordBatchBuilder
from aiokafka.record.util import calc_crc32c
from benecomune_auditor.topic_reader.consumer import KafkaReadError
from benecomune_auditor.topic_reader.merge import Merge
from benecomune_auditor.topic_reader.record_sets import python_records
from benecomune_auditor.topic_reader.sound_check import COMPILED, item_of
from benecomune_auditor.topic_reader.worker import take_record_set
from benecomune_contracts import EventEnvelope
from benecomune_contracts import vouchers as c
from benecomune_contracts.chain import GENESIS_HASH
from hypothesis import given, settings
from hypothesis import strategies as st

T0 = datetime(2020, 3, 30, 9, 0, tzinfo=UTC)
PARTITION = 3
GZIP = 1
CONTROL = 0x20

Record = tuple[bytes | None, bytes | None, tuple[tuple[str, bytes | None], ...]]


def relay_record(n: int) -> Record:
    """A fund's top-up as the relay publishes it: key, JSON value, CloudEvents headers."""
    fund = str(uuid.UUID(int=n + 1))
    draft = c.FundToppedUp(
        stream_id=fund,
        sequence=1 + n % 5,
        prev_hash=GENESIS_HASH,
        event_hash=GENESIS_HASH,
        fund_id=fund,
        source_kind="donation",
        source_reference=f"gift {n}",
        amount_cents=100 + n,
        topped_up_at=T0 + timedelta(seconds=n),
    )
    event = draft.model_copy(update={"event_hash": draft.computed_hash()})
    envelope = EventEnvelope(
        id=f"event-{n}",
        source="/benecomune/biella/vouchers",
        type=event.type_name,
        time=T0 + timedelta(seconds=n),
        subject=fund,
        notification_id=10 + n,
        sequence=event.sequence,
    )
    return envelope.kafka_key(), event.to_json_bytes(), tuple(envelope.to_headers())


def spoiled(record: Record, how: str) -> Record:
    key, value, headers = record
    if how == "edited":
        return key, (value or b"").replace(b'"amount_cents":1', b'"amount_cents":9'), headers
    if how == "no value":
        return key, None, headers
    if how == "header without value":
        return key, value, (*headers[:-1], (headers[-1][0], None))
    if how == "other header":
        return key, value, (*headers, ("x-trace", b"1"))
    if how == "no key":
        return None, value, headers
    if how == "no headers":
        return key, value, ()
    return record


def batch(
    base_offset: int,
    records: list[Record],
    *,
    compression: int = 0,
    control: bool = False,
    gaps: int = 0,
) -> bytes:
    """A v2 batch at ``base_offset`` (records ``gaps`` offsets apart, as compaction leaves
    them), as a broker stores and returns it."""
    builder = DefaultRecordBatchBuilder(2, compression, 0, -1, -1, -1, 10_000_000)
    for n, (key, value, headers) in enumerate(records):
        builder.append(n * (1 + gaps), 1_585_558_800_000 + n, key, value, list(headers))
    data = bytearray(builder.build())
    data[0:8] = struct.pack(">q", base_offset)
    if control:  # the broker's transaction markers: attributes bit 5, checksum recomputed
        attributes = struct.unpack(">h", data[21:23])[0] | CONTROL
        data[21:23] = struct.pack(">h", attributes)
        data[17:21] = struct.pack(">I", calc_crc32c(bytes(data[21:])))
    return bytes(data)


def read_both(blob: bytes, start: int, end: int) -> tuple[Any, Any]:
    """(queued items, next offset) as the compiled reader and as the Python reader give them."""
    compiled = Merge([PARTITION])
    compiled_next = take_record_set(compiled, PARTITION, blob, start, {PARTITION: end})
    python = Merge([PARTITION])
    raws, python_next = python_records(blob, PARTITION, start, end)
    for at, key, value, headers in raws:
        nid, item = item_of(key, value, headers)
        python.add(PARTITION, at, nid, item)
    return (
        (list(compiled.queues[PARTITION]), compiled_next),
        (list(python.queues[PARTITION]), python_next),
    )


def test_the_relays_record_sets_are_read_in_compiled_code_as_aiokafka_reads_them() -> None:
    assert COMPILED is not None
    records = [relay_record(n) for n in range(30)]
    blob = batch(100, records[:10]) + batch(110, records[10:25]) + batch(125, records[25:])
    parsed = COMPILED.records(blob, 100, 1_000)
    assert parsed is not None and len(parsed) == 30
    run, stopped = parsed.run(PARTITION, 0)
    assert len(run) == 30 and stopped is None  # every record sound: one run, no Python
    compiled, python = read_both(blob, 100, 1_000)
    assert compiled == python
    assert compiled[1] == 130
    assert [item[2] for item in compiled[0]] == list(range(100, 130))


def test_a_fetch_from_inside_a_batch_up_to_the_audits_end_reads_alike() -> None:
    records = [relay_record(n) for n in range(20)]
    blob = batch(0, records[:12]) + batch(12, records[12:])
    compiled, python = read_both(blob, 5, 15)
    assert compiled == python
    assert [item[2] for item in compiled[0]] == list(range(5, 15))
    assert compiled[1] == 20  # past the last batch read, as aiokafka moves on


def test_control_batches_and_compaction_gaps_are_skipped_alike() -> None:
    records = [relay_record(n) for n in range(9)]
    blob = batch(0, records[:3], gaps=2) + batch(7, records[3:4], control=True)
    blob += batch(8, records[4:])
    compiled, python = read_both(blob, 0, 100)
    assert compiled == python
    assert [item[2] for item in compiled[0]] == [0, 3, 6, 8, 9, 10, 11, 12]


def test_what_is_not_a_sound_ledger_event_is_read_by_the_python_reader_in_place() -> None:
    hows = ["edited", "no value", "header without value", "other header", "no key", "no headers"]
    records = [spoiled(relay_record(n), hows[n % len(hows)]) for n in range(18)]
    records.insert(4, relay_record(99))
    blob = batch(40, records)
    compiled, python = read_both(blob, 40, 1_000)
    assert compiled == python
    assert len(compiled[0]) == 19
    problems = [item for item in compiled[0] if len(item) == 4]
    assert problems  # the edited and the headerless ones are named, as the reference names them


def test_a_partial_last_batch_is_left_for_the_next_fetch() -> None:
    records = [relay_record(n) for n in range(8)]
    whole = batch(0, records[:4])
    blob = whole + batch(4, records[4:])[:-7]
    compiled, python = read_both(blob, 0, 100)
    assert compiled == python
    assert compiled[1] == 4 and len(compiled[0]) == 4


def test_compressed_or_corrupt_record_sets_are_left_to_aiokafka() -> None:
    assert COMPILED is not None
    records = [relay_record(n) for n in range(6)]
    compressed = batch(0, records[:3]) + batch(3, records[3:], compression=GZIP)
    assert COMPILED.records(compressed, 0, 100) is None
    compiled, python = read_both(compressed, 0, 100)
    assert compiled == python and len(compiled[0]) == 6

    corrupt = bytearray(batch(0, records))
    corrupt[-5] ^= 0x01
    assert COMPILED.records(bytes(corrupt), 0, 100) is None
    with pytest.raises(KafkaReadError, match="checksum"):
        read_both(bytes(corrupt), 0, 100)


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_random_record_sets_read_alike(data: st.DataObject) -> None:
    hows = ["sound", "sound", "edited", "no value", "header without value", "other header"]
    batches = data.draw(st.lists(st.integers(1, 6), min_size=1, max_size=5))
    blob, offset, n = b"", 0, 0
    for size in batches:
        records = [
            spoiled(relay_record(n + k), data.draw(st.sampled_from(hows))) for k in range(size)
        ]
        n += size
        gaps = data.draw(st.integers(0, 2))
        control = data.draw(st.booleans()) and size == 1
        blob += batch(offset, records, gaps=gaps, control=control)
        offset += (size - 1) * (1 + gaps) + 1
    cut = data.draw(st.integers(0, 30))
    blob = blob[: len(blob) - cut] if cut else blob
    start = data.draw(st.integers(0, offset))
    end = data.draw(st.integers(start, offset + 2))
    compiled, python = read_both(blob, start, end)
    assert compiled == python
