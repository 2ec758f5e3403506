"""The outbox relay: publishes a service's domain events from its notification log to Kafka.

The notification log *is* the outbox: events are stored once, in order, in the same transaction
as the state change. The relay reads it from its last recorded position, maps each domain event
to its public contract (events with no contract stay private), publishes with an idempotent
producer (acks=all) keyed by aggregate id so each aggregate's events stay in order in one
partition, waits until Kafka has acknowledged the whole batch, and only then records the new
position in the service's own store. A crash before that record means the batch is published
again: duplicates are possible (consumers recognise them by notification id), gaps are not.

Each message carries the notification id that ends the store transaction its event was saved in
(``ce_transactionend``, from :mod:`servicekit.recorders`), and a batch is never ended inside a
transaction: a reader that stops at a batch's edge, or that reads on to a transaction's end,
never holds half a transaction (a redemption without the shop's credit).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import structlog
from aiokafka import AIOKafkaProducer
from benecomune_contracts import ContractEvent, EventEnvelope
from eventsourcing.persistence import Notification, Tracking

from servicekit.health import clear_worker_problem, report_worker_problem
from servicekit.metrics import EVENTS_PUBLISHED, RELAY_BACKLOG, RELAY_POSITION
from servicekit.recorders import Transaction
from servicekit.store import ServiceApplication

log = structlog.get_logger(__name__)

ContractMapper = Callable[[Any], ContractEvent | None]

# Event ids are derived from (aggregate id, version), so a re-published event keeps its ce_id.
EVENT_ID_NAMESPACE = uuid.UUID("6b1f4e2c-0c55-4d9b-9a57-3c3f1f0b7e11")


def event_id(originator_id: uuid.UUID, originator_version: int) -> str:
    return str(uuid.uuid5(EVENT_ID_NAMESPACE, f"{originator_id}/{originator_version}"))


def published_transaction_ends(
    public_ids: Sequence[int], transactions: Sequence[Transaction]
) -> dict[int, int]:
    """Each published notification's ``ce_transactionend``: the last notification of its store
    transaction that is published (private events never reach the topic, so a reader waiting
    for the transaction's end must be told one that comes). Both in ascending order; a
    notification in no recorded transaction gets none."""
    members: dict[int, list[int]] = {}  # transaction index -> its published notifications
    index = 0
    for nid in public_ids:
        while index < len(transactions) and transactions[index][1] < nid:
            index += 1
        if index < len(transactions) and transactions[index][0] <= nid:
            members.setdefault(index, []).append(nid)
    return {nid: published[-1] for published in members.values() for nid in published}


class RelayBlocked(Exception):
    """A stored event cannot be mapped to its contract: the relay cannot publish it, and must
    not skip it (consumers would miss it, and every later event of its aggregate would come
    out of order), so it stops there until an operator acts."""


class OutboxRelay:
    def __init__(
        self,
        app: ServiceApplication,
        to_contract: ContractMapper,
        *,
        topic: str,
        source: str,
        bootstrap: str,
        batch_size: int = 500,
        idle_poll_seconds: float = 0.2,
    ) -> None:
        self.app = app
        self.to_contract = to_contract
        self.topic = topic
        self.source = source
        self.bootstrap = bootstrap
        self.batch_size = batch_size
        self.idle_poll_seconds = idle_poll_seconds
        self.position_name = f"outbox->{topic}"
        self.service = app.settings.service_name

    def new_producer(self) -> AIOKafkaProducer:
        return AIOKafkaProducer(
            bootstrap_servers=self.bootstrap,
            enable_idempotence=True,  # implies acks=all; no duplicates from producer retries
            acks="all",
            linger_ms=5,
            request_timeout_ms=30_000,
        )

    async def run(self, stop: asyncio.Event) -> None:
        """Publish until ``stop`` is set; errors propagate (a supervisor restarts the relay)."""
        producer = self.new_producer()
        await producer.start()
        log.info("relay_started", topic=self.topic, position=self.app.position(self.position_name))
        try:
            while not stop.is_set():
                if await self.publish_batch(producer) == 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), timeout=self.idle_poll_seconds)
        finally:
            await producer.stop()
            log.info("relay_stopped", topic=self.topic)

    async def publish_batch(self, producer: AIOKafkaProducer) -> int:
        """Publish the next batch; returns how many notifications it covered."""
        start = (self.app.position(self.position_name) or 0) + 1
        notifications: Sequence[Notification] = await asyncio.to_thread(
            self.app.recorder.select_notifications, start=start, limit=self.batch_size
        )
        if not notifications:
            RELAY_BACKLOG.labels(self.service).set(0)
            clear_worker_problem("relay")
            return 0
        # The backlog is known before anything can fail: a blocked relay shows a growing one.
        backlog = await asyncio.to_thread(self._max_notification_id)
        RELAY_BACKLOG.labels(self.service).set(max(0, backlog - start + 1))
        notifications, transactions = await asyncio.to_thread(
            self._whole_transactions, notifications
        )
        public = [
            (notification, domain_event, contract)
            for notification in notifications
            if (
                contract := self._map(
                    notification, domain_event := self._domain_event(notification)
                )
            )
            is not None  # a private event never leaves the service
        ]
        ends = published_transaction_ends([n.id for n, _, _ in public], transactions)
        deliveries = [
            await self._send(
                producer, notification, domain_event, contract, ends.get(notification.id)
            )
            for notification, domain_event, contract in public
        ]
        # Everything acknowledged by the broker before the position moves.
        await asyncio.gather(*deliveries)
        for _, _, contract in public:
            EVENTS_PUBLISHED.labels(self.service, self.topic, contract.type_name).inc()
        last = notifications[-1].id
        self.app.record_positions([Tracking(self.position_name, last)])
        RELAY_POSITION.labels(self.service).set(last)
        RELAY_BACKLOG.labels(self.service).set(max(0, self._max_notification_id() - last))
        clear_worker_problem("relay")
        log.debug("relay_published", upto=last, count=len(deliveries))
        return len(notifications)

    def _map(self, notification: Notification, domain_event: Any) -> ContractEvent | None:
        try:
            return self.to_contract(domain_event)
        except Exception as error:
            reason = f"{type(domain_event).__qualname__} (notification {notification.id}) "
            reason += f"cannot be mapped to its contract: {type(error).__name__}: {error}"
            report_worker_problem("relay", reason[:500])
            log.error(
                "relay_blocked",
                topic=self.topic,
                notification_id=notification.id,
                originator_id=str(notification.originator_id),
                event_type=notification.topic,
                reason=str(error)[:2000],
                action="no later event is published until this one maps: fix the mapping or "
                "the contract and deploy; the stored event must not be skipped",
            )
            raise RelayBlocked(reason) from error

    def _whole_transactions(
        self, notifications: Sequence[Notification]
    ) -> tuple[Sequence[Notification], list[Transaction]]:
        """The batch, extended to the end of the transaction its last notification belongs to,
        with the transactions it holds (where the store recorded them)."""
        select_transactions = getattr(self.app.recorder, "select_transactions", None)
        if select_transactions is None:
            return notifications, []
        last = notifications[-1].id
        transactions: list[Transaction] = select_transactions(notifications[0].id, last)
        if transactions and transactions[-1][0] <= last < transactions[-1][1]:
            end = transactions[-1][1]
            rest = self.app.recorder.select_notifications(
                start=last + 1, limit=end - last, stop=end
            )
            notifications = [*notifications, *rest]
        return notifications, transactions

    def _domain_event(self, notification: Notification) -> Any:
        return self.app.mapper.to_domain_event(notification)

    async def _send(
        self,
        producer: AIOKafkaProducer,
        notification: Notification,
        domain_event: Any,
        contract: ContractEvent,
        transaction_end: int | None,
    ) -> asyncio.Future[Any]:
        envelope = EventEnvelope(
            id=event_id(domain_event.originator_id, domain_event.originator_version),
            source=self.source,
            type=contract.type_name,
            time=domain_event.timestamp,
            subject=str(domain_event.originator_id),
            notification_id=notification.id,
            correlation_id=getattr(domain_event, "correlation_id", None),
            sequence=domain_event.originator_version,
            transaction_end=transaction_end,
        )
        future: asyncio.Future[Any] = await producer.send(
            self.topic,
            value=contract.to_json_bytes(),
            key=str(domain_event.originator_id).encode(),
            headers=envelope.to_headers(),
        )
        return future

    def _max_notification_id(self) -> int:
        return self.app.recorder.max_notification_id() or 0
