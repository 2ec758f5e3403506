"""A consumer hears of a topic that did not exist when it subscribed within seconds, not at its
next metadata refresh minutes later: a service that started before the topic's producer (or
whose group was formed a moment before the broker's metadata showed the topic, as on a fresh
``make run``) would otherwise miss every event meanwhile."""

from __future__ import annotations

import asyncio
import contextlib
import time

import pytest
from aiokafka import AIOKafkaProducer
from benecomune_contracts import VOUCHERS_TOPIC
from notifications.application.app import NotificationsApplication
from notifications.service import DEFINITION
from notifications.settings import NotificationsSettings
from servicekit.service import ServiceRuntime
from servicekit.topics import ensure_topics

from .support import StackConfig
from .test_dead_letters import valid_message

pytestmark = pytest.mark.kafka

HEARD_WITHIN_SECONDS = 45  # the consumer's metadata refresh is 10 s; the default is 300 s


async def test_a_topic_created_after_the_consumer_started_is_consumed_within_seconds(
    stack_config: StackConfig,
) -> None:
    settings = NotificationsSettings(**stack_config.settings_kwargs("notifications"))
    runtime = ServiceRuntime(DEFINITION, settings)
    app = runtime.application
    assert isinstance(app, NotificationsApplication)
    consumer = runtime.consumer()
    assert consumer is not None
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))  # its topics do not exist yet
    try:
        await asyncio.sleep(5)  # the group forms with no partition to assign
        await ensure_topics(stack_config.bootstrap, [VOUCHERS_TOPIC], settings.kafka_topic_prefix)
        producer = AIOKafkaProducer(
            bootstrap_servers=stack_config.bootstrap, enable_idempotence=True
        )
        await producer.start()
        try:
            value, headers = valid_message(notification_id=1)
            topic = settings.topic(VOUCHERS_TOPIC.name)
            await producer.send_and_wait(topic, value, key=b"fund-1", headers=headers)
        finally:
            await producer.stop()
        sent = time.monotonic()
        async with asyncio.timeout(HEARD_WITHIN_SECONDS):
            while not app.notices_for("operator"):
                assert not task.done(), task.exception()
                await asyncio.sleep(0.2)
        print(f"heard {time.monotonic() - sent:.1f} s after the topic was created")
    finally:
        stop.set()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, timeout=15)
    assert len(app.notices_for("operator")) == 1
