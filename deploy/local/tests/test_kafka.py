"""The local Kafka broker: starts from the Maven jars, answers clients, keeps data on restart."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from devstack.kafka import KafkaBroker, kafka_version
from devstack.ports import free_port

TOPIC = "devstack.selftest"


def started(broker: KafkaBroker) -> None:
    broker.start()
    try:
        broker.wait_ready(timeout=90)
    except BaseException:
        broker.stop()
        raise


async def create_topic_and_produce(bootstrap: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=20_000)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(TOPIC, num_partitions=1, replication_factor=1)])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", request_timeout_ms=20_000)
    await producer.start()
    try:
        await asyncio.wait_for(producer.send_and_wait(TOPIC, b"kept", key=b"k"), 30)
    finally:
        await producer.stop()


async def read_from_beginning(bootstrap: str) -> list[bytes]:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, request_timeout_ms=20_000
    )
    await consumer.start()
    try:
        partition = TopicPartition(TOPIC, 0)
        consumer.assign([partition])
        await consumer.seek_to_beginning(partition)
        batches = await consumer.getmany(partition, timeout_ms=15_000)
        return [message.value for message in batches.get(partition, []) if message.value]
    finally:
        await consumer.stop()


@pytest.mark.kafka
async def test_broker_starts_answers_and_keeps_data_across_restart(tmp_path: Path) -> None:
    broker = KafkaBroker(tmp_path / "kafka", port=free_port(), heap="384m")
    try:
        await asyncio.to_thread(started, broker)
        assert broker.is_running()
        assert (tmp_path / "kafka" / "logs" / "server.log").stat().st_size > 0
        await create_topic_and_produce(broker.bootstrap)
        await asyncio.to_thread(broker.stop)
        assert not broker.is_running()

        # A new object on the same folder: the cluster id and the data are reused.
        broker = KafkaBroker(tmp_path / "kafka", port=free_port(), heap="384m")
        await asyncio.to_thread(started, broker)
        assert await read_from_beginning(broker.bootstrap) == [b"kept"]
    finally:
        await asyncio.to_thread(broker.stop)
    assert not broker.pid_file.exists()


def test_kafka_version_is_pinned_4x() -> None:
    assert kafka_version().startswith("4.")


@pytest.mark.kafka
def test_wait_ready_reports_a_broker_that_died(tmp_path: Path) -> None:
    port = free_port()
    broker = KafkaBroker(tmp_path / "kafka", port=port, heap="256m")
    broker.ensure_formatted()
    # Starting with the client port taken makes the broker exit at start-up.
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", port))
        blocker.listen()
        try:
            broker.start()
            with pytest.raises(RuntimeError, match="exited during start-up"):
                broker.wait_ready(timeout=60)
        finally:
            broker.stop()
