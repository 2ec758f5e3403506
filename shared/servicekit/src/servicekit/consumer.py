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
  its offset is recorded, and the consumer keeps going — whatever the exception (bad JSON, a
  number no store can hold, a time before year 1 in UTC...);
- a policy that refuses a message the same way every time (a domain rule, a value error) sends
  it to the dead-letter topic too. Any other error (the store is down) stops the consumer: the
  supervisor restarts it and the message is tried again, since skipping it would lose an
  effect — but a message that keeps failing while the store answers is dead-lettered after
  ``MAX_ATTEMPTS``, so no single message can stop a partition for good;
- trust: in production only a service's own relay may write its topic (Kafka ACLs per
  service, see README "Trust model"). Even so a notification id far ahead of the partition's
  position (``max_notification_jump``) is not believed — recorded, it would make every later
  genuine event look like a duplicate — and goes to the dead-letter topic; skipped duplicates
  are counted (``benecomune_duplicates_skipped_total``) for an alert.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from typing import Any, TypeAlias

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.structs import ConsumerRecord
from benecomune_contracts import ContractEvent, EventEnvelope, parse_event
from eventsourcing.persistence import Tracking

from servicekit.correlation import correlation_scope
from servicekit.domain import DomainError
from servicekit.health import clear_worker_problem
from servicekit.metrics import CONSUMER_LAG, DEAD_LETTERS, DUPLICATES_SKIPPED, EVENTS_CONSUMED
from servicekit.store import ServiceApplication

log = structlog.get_logger(__name__)

Record: TypeAlias = ConsumerRecord[bytes, bytes]

# A policy failing with one of these fails the same way on every retry: the message is poison.
DETERMINISTIC_FAILURES: tuple[type[Exception], ...] = (
    DomainError,
    ValueError,
    TypeError,
    OverflowError,
    ArithmeticError,
    LookupError,
    AttributeError,
    RecursionError,
    UnicodeError,
)
# Failures of one message, with the store answering, before it is dead-lettered anyway.
MAX_ATTEMPTS = 5


class ImplausiblePosition(ValueError):
    """A notification id too far ahead of the partition's position to come from its relay."""


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
        max_notification_jump: int = 10_000_000,
    ) -> None:
        self.app = app
        self.topics = list(topics)
        self.group_id = group_id
        self.bootstrap = bootstrap
        self.dead_letter_topic = dead_letter_topic
        self.max_batch = max_batch
        self.max_notification_jump = max_notification_jump
        self.service = app.settings.service_name
        # (topic, partition, offset) -> failed attempts of a message whose policy failed
        self.failures: dict[tuple[str, int, int], int] = {}
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
                clear_worker_problem("consumer")  # polling again: not stuck (any more)
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
            await asyncio.to_thread(self._check_plausible, envelope, record)
        except Exception as error:  # whatever it is, this message cannot be applied
            return await self._dead_letter_once(record, error, offset_position)

        key = (record.topic, record.partition, record.offset)
        try:
            with correlation_scope(envelope.correlation_id):
                outcome = await asyncio.to_thread(
                    self._apply, event, envelope, record, offset_position
                )
        except DETERMINISTIC_FAILURES as error:
            self.failures.pop(key, None)
            return await self._dead_letter_once(record, error, offset_position)
        except Exception as error:
            attempts = self.failures[key] = self.failures.get(key, 0) + 1
            if attempts < MAX_ATTEMPTS or not await asyncio.to_thread(self._store_answers):
                raise  # perhaps transient: the supervisor restarts us and it is tried again
            self.failures.pop(key, None)
            log.error("poison_message", topic=record.topic, offset=record.offset, tries=attempts)
            return await self._dead_letter_once(record, error, offset_position)
        self.failures.pop(key, None)
        return self._count(record, outcome)

    async def _dead_letter_once(
        self, record: Record, error: Exception, offset_position: Tracking
    ) -> str:
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

    def _check_plausible(self, envelope: EventEnvelope, record: Record) -> None:
        """Refuse a notification id far ahead of what this partition has seen: only the
        upstream relay numbers them, without gaps across its topic."""
        last = self.app.position(upstream_position_name(record.topic, record.partition))
        if last is not None and envelope.notification_id > last + self.max_notification_jump:
            raise ImplausiblePosition(
                f"ce_notificationid {envelope.notification_id} jumps more than "
                f"{self.max_notification_jump} past this partition's position {last}: not "
                "believed (recorded, it would make every later genuine event a duplicate)"
            )

    def _store_answers(self) -> bool:
        try:
            self.app.recorder.max_notification_id()
        except Exception:
            return False
        return True

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
        DUPLICATES_SKIPPED.labels(self.service, record.topic).inc()
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
