"""A bad message delivered again (a rebalance sought back before its position was recorded)
is not dead-lettered a second time: the stored position tells it was already sent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiokafka.structs import ConsumerRecord
from servicekit.consumer import IdempotentConsumer
from servicekit.settings import ServiceSettings
from servicekit.store import ServiceApplication


class RecordingProducer:
    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes | None]] = []

    async def send_and_wait(self, topic: str, *, value: bytes | None, **_: Any) -> None:
        self.sent.append((topic, value))


def bad_record(offset: int) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord(
        topic="benecomune.vouchers",
        partition=3,
        offset=offset,
        timestamp=0,
        timestamp_type=0,
        key=b"fund-1",
        value=b"{not json",
        checksum=None,
        serialized_key_size=6,
        serialized_value_size=9,
        headers=[],
    )


async def test_a_bad_message_delivered_twice_is_dead_lettered_once(tmp_path: Path) -> None:
    app = ServiceApplication(ServiceSettings(data_dir=tmp_path, keys_dir=tmp_path / "keys"))
    consumer = IdempotentConsumer(
        app,
        topics=["benecomune.vouchers"],
        group_id="g",
        bootstrap="127.0.0.1:1",
        dead_letter_topic="benecomune.test.dlq",
    )
    producer = RecordingProducer()
    consumer.producer = producer  # type: ignore[assignment]

    assert await consumer.handle(bad_record(0)) == "dead_letter"
    assert await consumer.handle(bad_record(1)) == "dead_letter"
    # The partition is sought back to its beginning and both come again.
    assert await consumer.handle(bad_record(0)) == "duplicate"
    assert await consumer.handle(bad_record(1)) == "duplicate"
    assert [topic for topic, _ in producer.sent] == ["benecomune.test.dlq"] * 2
    # A later bad message is still dead-lettered.
    assert await consumer.handle(bad_record(2)) == "dead_letter"
    assert len(producer.sent) == 3
