"""Proof: a malformed message on a consumed topic lands in the dead-letter topic with the
reason, and the next valid message is still processed."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from benecomune_contracts import VOUCHERS_TOPIC, EventEnvelope, dead_letter_topic
from benecomune_contracts.chain import GENESIS_HASH
from benecomune_contracts.vouchers import FundAllocated
from notifications.application.app import NotificationsApplication
from notifications.service import DEFINITION
from notifications.settings import NotificationsSettings
from servicekit.service import ServiceRuntime

from .support import StackConfig

pytestmark = pytest.mark.kafka


def valid_message(notification_id: int) -> tuple[bytes, list[tuple[str, bytes]]]:
    fund_id = str(uuid.uuid4())
    event = FundAllocated(
        stream_id=fund_id,
        sequence=1,
        prev_hash=GENESIS_HASH,
        event_hash="a" * 64,
        fund_id=fund_id,
        municipality_istat="096004",
        source_kind="donation",
        source_reference="Banco alimentare",
        amount_cents=50_000,
        allocated_at=datetime.now(UTC),
    )
    envelope = EventEnvelope(
        id=str(uuid.uuid4()),
        source="/benecomune/biella/vouchers",
        type=FundAllocated.type_name,
        time=datetime.now(UTC),
        subject=event.fund_id,
        notification_id=notification_id,
        correlation_id="corr-dlq-test",
        sequence=1,
    )
    return event.to_json_bytes(), envelope.to_headers()


async def read_all(bootstrap: str, topic: str, expected: int) -> list[object]:
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    records: list[object] = []
    try:
        # Generous bounds: a loaded machine can take a while to elect the group coordinator.
        async with asyncio.timeout(90):
            while len(records) < expected:
                batch = await consumer.getmany(timeout_ms=500)
                for messages in batch.values():
                    records.extend(messages)
    finally:
        await consumer.stop()
    return records


async def test_a_malformed_message_is_dead_lettered_and_the_next_one_processed(
    stack_config: StackConfig,
) -> None:
    settings = NotificationsSettings(**stack_config.settings_kwargs("notifications"))
    runtime = ServiceRuntime(DEFINITION, settings)
    await runtime.prepare_topics()
    topic = settings.topic(VOUCHERS_TOPIC.name)
    good_value, good_headers = valid_message(notification_id=2)
    _, headers_of_a_bad_one = valid_message(notification_id=1)
    later_value, later_headers = valid_message(notification_id=3)
    forged_value, forged_headers = valid_message(notification_id=10**15)

    def spoiled(name: str, value: bytes) -> list[tuple[str, bytes]]:
        return [(n, value if n == name else v) for n, v in good_headers]

    # Idempotent, as every producer of the platform: a retried send (the topic was created a
    # moment ago, leadership may still move) must not put a second copy on the topic.
    producer = AIOKafkaProducer(bootstrap_servers=stack_config.bootstrap, enable_idempotence=True)
    await producer.start()
    try:
        key = b"fund-1"  # same partition for all: order matters here
        await producer.send_and_wait(topic, b"{not json", key=key, headers=headers_of_a_bad_one)
        await producer.send_and_wait(topic, b'{"fund_id": "x"}', key=key, headers=[])
        await producer.send_and_wait(topic, good_value, key=key, headers=good_headers)
        # Poison pills that once made the consumer crash and restart forever...
        huge_id = spoiled("ce_notificationid", b"1" + b"0" * 23)
        await producer.send_and_wait(topic, good_value, key=key, headers=huge_id)
        year_one = spoiled("ce_time", b"0001-01-01T00:30:00+01:00")
        await producer.send_and_wait(topic, good_value, key=key, headers=year_one)
        # ...and a forged id that once silenced the partition (later events "duplicates").
        await producer.send_and_wait(topic, forged_value, key=key, headers=forged_headers)
        await producer.send_and_wait(topic, later_value, key=key, headers=later_headers)
    finally:
        await producer.stop()

    app = runtime.application
    assert isinstance(app, NotificationsApplication)
    consumer = runtime.consumer()
    assert consumer is not None
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    try:
        async with asyncio.timeout(120):
            while len(app.notices_for("operator")) < 2:
                assert not task.done(), task.exception()
                await asyncio.sleep(0.2)
    finally:
        stop.set()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, timeout=15)

    notice, later = app.notices_for("operator")
    assert (notice.template, later.template) == ("fund_allocated", "fund_allocated")
    assert notice.params["amount_cents"] == "50000"
    assert notice.correlation_id == "corr-dlq-test"

    dead = await read_all(
        stack_config.bootstrap, settings.topic(dead_letter_topic("notifications").name), 5
    )
    reasons = [dict(record.headers)["dlq_reason"].decode() for record in dead]  # type: ignore[attr-defined]
    assert "JSON" in reasons[0] or "json" in reasons[0]
    assert "ce_" in reasons[1] or "header" in reasons[1].lower()
    assert [record.value for record in dead[:2]] == [b"{not json", b'{"fund_id": "x"}']  # type: ignore[attr-defined]
    assert dict(dead[0].headers)["dlq_offset"] == b"0"  # type: ignore[attr-defined]
    assert "ce_notificationid" in reasons[2]
    assert "ce_time" in reasons[3]
    assert "not believed" in reasons[4]
    assert [dict(r.headers)["dlq_offset"] for r in dead[2:]] == [b"3", b"4", b"5"]  # type: ignore[attr-defined]
