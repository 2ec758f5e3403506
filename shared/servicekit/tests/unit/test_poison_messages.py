"""No message can stop a consumer: each hostile message is dead-lettered with its reason and
the next valid event of the same partition is applied. Driven through the consumer's
``handle`` with a recording producer (the real broker's version is in
tests/integration/test_dead_letters.py)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiokafka.structs import ConsumerRecord
from benecomune_contracts import EventEnvelope
from benecomune_contracts.chain import GENESIS_HASH
from benecomune_contracts.vouchers import FundAllocated
from eventsourcing.dispatch import singledispatchmethod
from servicekit.consumer import IdempotentConsumer
from servicekit.domain import Aggregate, DomainError
from servicekit.messages import Processing
from servicekit.metrics import DUPLICATES_SKIPPED
from servicekit.settings import ServiceSettings
from servicekit.store import ServiceApplication

TOPIC = "benecomune.vouchers"
PARTITION = 2


class FundSeen(Aggregate):
    def __init__(self, reference: str) -> None:
        self.reference = reference


class SeeingApplication(ServiceApplication):
    """Records one aggregate per fund it hears of; a fund referenced "refuse" breaks a rule,
    one referenced "overflow" fails as a value too large for a column would."""

    @singledispatchmethod
    def policy(self, event: Any, processing: Any) -> None:
        pass

    @policy.register
    def _(self, event: FundAllocated, processing: Processing) -> None:
        if event.source_reference == "refuse":
            raise DomainError("this fund breaks a rule of the consumer")
        if event.source_reference == "overflow":  # as SQLite says of a read model's column
            raise OverflowError("Python int too large to convert to SQLite INTEGER")
        processing.collect_events(FundSeen(event.source_reference))

    def seen(self) -> list[str]:
        return [e.reference for e in self.events_of(FundSeen.Created)]


class RecordingProducer:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    async def send_and_wait(self, topic: str, *, value: bytes | None, **kw: Any) -> None:
        self.sent.append({"topic": topic, "value": value, "headers": dict(kw["headers"])})


def fund_allocated(reference: str = "Caritas") -> FundAllocated:
    fund_id = str(uuid.uuid4())
    return FundAllocated(
        stream_id=fund_id,
        sequence=1,
        prev_hash=GENESIS_HASH,
        event_hash="a" * 64,
        fund_id=fund_id,
        municipality_istat="096004",
        source_kind="donation",
        source_reference=reference,
        amount_cents=50_000,
        allocated_at=datetime.now(UTC),
    )


def headers_for(event: FundAllocated, notification_id: int) -> list[tuple[str, bytes]]:
    return EventEnvelope(
        id=str(uuid.uuid4()),
        source="/benecomune/biella/vouchers",
        type=FundAllocated.type_name,
        time=datetime.now(UTC),
        subject=event.fund_id,
        notification_id=notification_id,
        sequence=1,
    ).to_headers()


def replaced(headers: list[tuple[str, bytes]], name: str, value: bytes) -> list[tuple[str, bytes]]:
    return [(n, value if n == name else v) for n, v in headers]


def record(offset: int, value: bytes, headers: list[tuple[str, bytes]]) -> Any:
    return ConsumerRecord(
        topic=TOPIC,
        partition=PARTITION,
        offset=offset,
        timestamp=0,
        timestamp_type=0,
        key=b"k",
        value=value,
        checksum=None,
        serialized_key_size=1,
        serialized_value_size=len(value),
        headers=headers,
    )


def valid(notification_id: int, reference: str = "Caritas") -> tuple[bytes, Any]:
    event = fund_allocated(reference)
    return event.to_json_bytes(), headers_for(event, notification_id)


def hostile_messages() -> dict[str, tuple[bytes, list[tuple[str, bytes]]]]:
    body, headers = valid(5)
    payload = json.loads(body)
    return {
        "bad JSON": (b"{not json", headers),
        "wrong schema": (json.dumps({**payload, "amount_cents": "lots"}).encode(), headers),
        "missing headers": (body, [h for h in headers if h[0] != "ce_type"]),
        "no headers at all": (body, []),
        "huge value": (b'{"a":"' + b"x" * 2_000_000 + b'"}', headers),
        "notification id 10^23": (body, replaced(headers, "ce_notificationid", b"1" + b"0" * 23)),
        "notification id of 5000 digits": (
            body,
            replaced(headers, "ce_notificationid", b"9" * 5000),
        ),
        "sequence 2^63": (body, replaced(headers, "ce_sequence", str(2**63).encode())),
        "time in year 1 with an offset": (
            body,
            replaced(headers, "ce_time", b"0001-01-01T00:30:00+01:00"),
        ),
        "time in year 10000": (body, replaced(headers, "ce_time", b"10000-01-01T00:00:00Z")),
        "unknown type": (body, replaced(headers, "ce_type", b"benecomune.vouchers.Nope.v1")),
        "header not UTF-8": (body, replaced(headers, "ce_source", b"\xff\xfe")),
        "forged notification id 10^15": (
            body,
            replaced(headers, "ce_notificationid", b"1" + b"0" * 15),
        ),
        "refused by the policy": valid(6, reference="refuse"),
        "too large for the policy's store": valid(6, reference="overflow"),
    }


@pytest.fixture
def consumer(tmp_path: Path) -> Any:
    app = SeeingApplication(ServiceSettings(data_dir=tmp_path, keys_dir=tmp_path / "keys"))
    consumer = IdempotentConsumer(
        app,
        topics=[TOPIC],
        group_id="g",
        bootstrap="127.0.0.1:1",
        dead_letter_topic="benecomune.test.dlq",
    )
    consumer.producer = RecordingProducer()  # type: ignore[assignment]
    yield consumer
    app.close()


@pytest.mark.parametrize("name", list(hostile_messages()))
async def test_a_hostile_message_is_dead_lettered_and_the_next_event_applied(
    consumer: Any, name: str
) -> None:
    first_body, first_headers = valid(1, reference="first")
    assert await consumer.handle(record(0, first_body, first_headers)) == "processed"

    body, headers = hostile_messages()[name]
    assert await consumer.handle(record(1, body, headers)) == "dead_letter"
    (sent,) = consumer.producer.sent
    assert sent["topic"] == "benecomune.test.dlq"
    assert sent["headers"]["dlq_reason"]  # it says why
    assert sent["headers"]["dlq_offset"] == b"1"

    next_body, next_headers = valid(7, reference="next")
    assert await consumer.handle(record(2, next_body, next_headers)) == "processed"
    assert consumer.app.seen() == ["first", "next"]


async def test_a_forged_notification_id_does_not_silence_the_partition(consumer: Any) -> None:
    for offset, nid in enumerate((1, 2)):
        body, headers = valid(nid)
        assert await consumer.handle(record(offset, body, headers)) == "processed"
    forged_body, forged_headers = valid(10**15, reference="forged")
    assert await consumer.handle(record(2, forged_body, forged_headers)) == "dead_letter"
    reason = consumer.producer.sent[0]["headers"]["dlq_reason"].decode()
    assert "not believed" in reason
    # The genuine events after it are applied, not skipped as duplicates.
    for offset, nid in enumerate((3, 4), start=3):
        body, headers = valid(nid, reference=f"genuine {nid}")
        assert await consumer.handle(record(offset, body, headers)) == "processed"
    assert consumer.app.seen()[-2:] == ["genuine 3", "genuine 4"]


async def test_skipped_duplicates_are_counted_for_an_alert(consumer: Any) -> None:
    counter = DUPLICATES_SKIPPED.labels("service", TOPIC)
    before = counter._value.get()
    body, headers = valid(1)
    assert await consumer.handle(record(0, body, headers)) == "processed"
    # The relay re-published it at a new offset after a crash.
    assert await consumer.handle(record(1, body, headers)) == "duplicate"
    assert counter._value.get() == before + 1


async def test_a_message_whose_policy_keeps_failing_is_dead_lettered_while_the_store_answers(
    consumer: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: Any) -> None:
        raise RuntimeError("something unforeseen")

    body, headers = valid(1)
    monkeypatch.setattr(consumer.app, "process_message", broken)
    for _ in range(4):  # perhaps transient: the supervisor restarts and retries
        with pytest.raises(RuntimeError):
            await consumer.handle(record(0, body, headers))
    assert await consumer.handle(record(0, body, headers)) == "dead_letter"
    assert b"something unforeseen" in consumer.producer.sent[0]["headers"]["dlq_reason"]
