"""The idempotent consumer: each upstream event produces its effect exactly once.

At-least-once delivery from Kafka plus idempotent processing:
- every message's effects are stored in one transaction with two tracking positions for its
  partition: the upstream notification id (``<topic>#<partition>``; a relay that restarts
  re-publishes at *new* offsets, and the notification id is how those duplicates are known) and
  the next Kafka offset (``kafka:<topic>#<partition>``);
- on partition assignment the consumer seeks to the offset its own store records, so the store,
  not Kafka's committed offset, decides where to resume;
- Kafka offsets are committed only after the effects are stored (for lag monitoring and tools);
- a message that is not a valid contract event goes to the dead-letter topic with the reason,
  its offset is recorded, and the consumer keeps going. An unexpected error in a policy stops the
  consumer instead: skipping it would lose an effect, so the supervisor restarts and retries.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from typing import Any, TypeAlias

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.structs import ConsumerRecord
from benecomune_contracts import (
    ContractEvent,
    EventEnvelope,
    MalformedEnvelope,
    UnknownEventType,
    parse_event,
)
from eventsourcing.persistence import Tracking
from pydantic import ValidationError

from servicekit.correlation import correlation_scope
from servicekit.metrics import CONSUMER_LAG, DEAD_LETTERS, EVENTS_CONSUMED
from servicekit.store import ServiceApplication

log = structlog.get_logger(__name__)

Record: TypeAlias = ConsumerRecord[bytes, bytes]


def upstream_position_name(topic: str, partition: int) -> str:
    return f"{topic}#{partition}"


def offset_position_name(topic: str, partition: int) -> str:
    return f"kafka:{topic}#{partition}"


class _SeekToStoredPositions(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, consumer: IdempotentConsumer) -> None:
        self.owner = consumer

    async def on_partitions_revoked(self, revoked: Iterable[TopicPartition]) -> None:
        # Effects and positions are stored message by message; nothing is pending here. A batch
        # fetched before the rebalance must not go on: its positions are no longer ours.
        self.owner.assignment_generation += 1

    async def on_partitions_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        self.owner.assignment_generation += 1
        await self.owner.seek_to_stored_positions(assigned)


class IdempotentConsumer:
    def __init__(
        self,
        app: ServiceApplication,
        *,
        topics: Sequence[str],
        group_id: str,
        bootstrap: str,
        dead_letter_topic: str,
        max_batch: int = 500,
    ) -> None:
        self.app = app
        self.topics = list(topics)
        self.group_id = group_id
        self.bootstrap = bootstrap
        self.dead_letter_topic = dead_letter_topic
        self.max_batch = max_batch
        self.service = app.settings.service_name
        self.consumer: AIOKafkaConsumer | None = None
        # Bumped on every rebalance: the rest of a batch fetched before it is dropped (it will
        # be fetched again from the stored positions) instead of being handled twice.
        self.assignment_generation = 0
        self.producer: AIOKafkaProducer | None = None

    async def run(self, stop: asyncio.Event) -> None:
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            group_id=self.group_id,
            enable_auto_commit=False,  # commit only after the effect is stored
            auto_offset_reset="earliest",
            isolation_level="read_committed",
            max_poll_records=self.max_batch,
            group_instance_id=self.app.settings.consumer_instance_id,
            session_timeout_ms=self.app.settings.consumer_session_timeout_ms,
            # A subscribed topic missing from the metadata when the group formed (created later,
            # or a moment before the broker's metadata showed it) is noticed at the next
            # refresh: every 10 s, not aiokafka's 5 minutes of missed events.
            metadata_max_age_ms=10_000,
        )
        self.producer = AIOKafkaProducer(
            bootstrap_servers=self.bootstrap, enable_idempotence=True, acks="all"
        )
        await self.producer.start()
        await self.consumer.start()
        self.consumer.subscribe(self.topics, listener=_SeekToStoredPositions(self))
        log.info("consumer_started", topics=self.topics, group=self.group_id)
        try:
            while not stop.is_set():
                batches = await self.consumer.getmany(timeout_ms=500, max_records=self.max_batch)
                generation = self.assignment_generation
                for tp, records in batches.items():
                    handled = None
                    for record in records:
                        if self.assignment_generation != generation:
                            break
                        await self.handle(record)
                        handled = record
                    if handled is None or self.assignment_generation != generation:
                        break
                    await self.consumer.commit({tp: handled.offset + 1})
                    self._report_lag(tp, handled.offset + 1)
        finally:
            await self.consumer.stop()
            await self.producer.stop()
            log.info("consumer_stopped", group=self.group_id)

    async def seek_to_stored_positions(self, assigned: Iterable[TopicPartition]) -> None:
        assert self.consumer is not None
        for tp in assigned:
            offset = self.app.position(offset_position_name(tp.topic, tp.partition))
            if offset is None:
                await self.consumer.seek_to_beginning(tp)
            else:
                self.consumer.seek(tp, offset)
            log.info("partition_assigned", topic=tp.topic, partition=tp.partition, offset=offset)

    async def handle(self, record: Record) -> str:
        """Process one message; returns the outcome (for metrics and tests)."""
        offset_position = Tracking(
            offset_position_name(record.topic, record.partition), record.offset + 1
        )
        try:
            envelope = EventEnvelope.from_headers(list(record.headers or ()))
            event = parse_event(envelope.type, record.value or b"")
        except (MalformedEnvelope, UnknownEventType, ValidationError, ValueError) as error:
            # A rebalance while this partition's bad message was being dead-lettered can seek
            # back before the position was recorded and deliver it again; the position, read
            # now (records are handled one after the other), tells it was already sent.
            done = await asyncio.to_thread(self.app.position, offset_position.application_name)
            if done is not None and done > record.offset:
                log.info("dead_letter_already_sent", topic=record.topic, offset=record.offset)
                return self._count(record, "duplicate")
            await self.dead_letter(record, error)
            await asyncio.to_thread(self.app.record_positions, [offset_position])
            return self._count(record, "dead_letter")

        with correlation_scope(envelope.correlation_id):
            outcome = await asyncio.to_thread(self._apply, event, envelope, record, offset_position)
        return self._count(record, outcome)

    def _apply(
        self,
        event: ContractEvent,
        envelope: EventEnvelope,
        record: Record,
        offset_position: Tracking,
    ) -> str:
        upstream = Tracking(
            upstream_position_name(record.topic, record.partition), envelope.notification_id
        )
        if self.app.process_message(event, [upstream, offset_position], envelope):
            return "processed"
        # A duplicate (re-published by the relay, or redelivered): no effect, move the offset on.
        self.app.record_positions([offset_position])
        log.info(
            "duplicate_skipped", event_id=envelope.id, notification_id=upstream.notification_id
        )
        return "duplicate"

    async def dead_letter(self, record: Record, error: Exception) -> None:
        assert self.producer is not None
        reason = f"{type(error).__name__}: {error}"[:2000]
        headers: list[tuple[str, bytes]] = list(record.headers or ())
        headers += [
            ("dlq_reason", reason.encode()),
            ("dlq_topic", record.topic.encode()),
            ("dlq_partition", str(record.partition).encode()),
            ("dlq_offset", str(record.offset).encode()),
            ("dlq_consumer", self.group_id.encode()),
        ]
        await self.producer.send_and_wait(
            self.dead_letter_topic, value=record.value, key=record.key, headers=headers
        )
        DEAD_LETTERS.labels(self.service, record.topic, type(error).__name__).inc()
        log.warning(
            "dead_lettered",
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            reason=reason,
        )

    def _count(self, record: Record, outcome: str) -> str:
        EVENTS_CONSUMED.labels(self.service, record.topic, outcome).inc()
        return outcome

    def _report_lag(self, tp: TopicPartition, position: int) -> None:
        assert self.consumer is not None
        highwater: Any = self.consumer.highwater(tp)
        if highwater is not None:
            CONSUMER_LAG.labels(self.service, tp.topic, str(tp.partition)).set(
                max(0, highwater - position)
            )
