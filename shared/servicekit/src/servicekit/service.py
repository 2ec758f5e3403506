"""One service, assembled from the kit: its store, outbox relay, consumer and HTTP API.

Every service declares a :class:`ServiceDefinition` and gets the same processes and the same
outside: ``python -m <service> serve`` (API with relay and consumer in one process, as ``make
run`` starts it), or ``api``, ``relay`` and ``consume`` alone (so each can be scaled, or killed
in a fault test, on its own).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any

import structlog
from benecomune_contracts import ALL_TOPICS, dead_letter_topic
from fastapi import APIRouter

from servicekit.consumer import IdempotentConsumer
from servicekit.health import clear_worker_problem, report_worker_problem
from servicekit.metrics import WORKER_FAILURES
from servicekit.relay import ContractMapper, OutboxRelay
from servicekit.settings import ServiceSettings
from servicekit.store import ServiceApplication
from servicekit.topics import ensure_topics

log = structlog.get_logger(__name__)

RESTART_BACKOFF_MAX_SECONDS = 30.0


@dataclass(frozen=True)
class PeriodicJob:
    """Work a service does on its own clock (releasing expired holds, sending expiry reminders):
    a function of the application and the current UTC time. It must be idempotent — two
    instances, or a restart, doing it twice change nothing — because it runs in every worker
    process and again after a crash."""

    name: str
    run: Callable[[Any, datetime], object]
    every_seconds: float = 60.0


@dataclass(frozen=True)
class ServiceDefinition:
    name: str
    title: str
    settings_class: type[ServiceSettings]
    application_class: type[ServiceApplication]
    routers: Callable[[], Sequence[APIRouter]]
    publishes_to: str | None = None
    # Only for an application class that declares no ``contract_mapper`` of its own (a
    # service declares it on its application, where the store and the hash chain use it too).
    to_contract: ContractMapper | None = None
    consumes: Sequence[str] = field(default_factory=tuple)
    description: str = ""
    periodic: Sequence[PeriodicJob] = field(default_factory=tuple)


class ServiceRuntime:
    def __init__(self, definition: ServiceDefinition, settings: ServiceSettings) -> None:
        self.definition = definition
        self.settings = settings
        self._application: ServiceApplication | None = None

    @property
    def application(self) -> ServiceApplication:
        if self._application is None:
            app = self.definition.application_class(self.settings)
            if app.contract_mapper is None:  # the definition's, for a bare application
                app.contract_mapper = self.definition.to_contract
            self._application = app
        return self._application

    @property
    def source(self) -> str:
        return f"/benecomune/{self.settings.territory}/{self.definition.name}"

    def relay(self) -> OutboxRelay | None:
        d = self.definition
        mapper = self.application.contract_mapper
        if d.publishes_to is None or mapper is None:
            return None
        return OutboxRelay(
            self.application,
            mapper,
            topic=self.settings.topic(d.publishes_to),
            source=self.source,
            bootstrap=self.settings.kafka_bootstrap,
            batch_size=self.settings.relay_batch_size,
            idle_poll_seconds=self.settings.relay_idle_poll_seconds,
        )

    def consumer(self) -> IdempotentConsumer | None:
        if not self.definition.consumes:
            return None
        return IdempotentConsumer(
            self.application,
            topics=[self.settings.topic(name) for name in self.definition.consumes],
            group_id=self.settings.topic(f"benecomune.{self.definition.name}"),
            bootstrap=self.settings.kafka_bootstrap,
            dead_letter_topic=self.settings.topic(dead_letter_topic(self.definition.name).name),
            max_notification_jump=self.settings.consumer_max_notification_jump,
        )

    async def prepare_topics(self) -> None:
        wanted = {self.definition.publishes_to, *self.definition.consumes}
        specs = [spec for spec in ALL_TOPICS if spec.name in wanted]
        if self.definition.consumes:
            specs.append(dead_letter_topic(self.definition.name))
        await ensure_topics(
            self.settings.kafka_bootstrap,
            specs,
            self.settings.kafka_topic_prefix,
            self.settings.kafka_replication_factor,
        )

    async def run_workers(
        self, stop: asyncio.Event, *, relay: bool, consume: bool, periodic: bool = False
    ) -> None:
        """Run the relay, the consumer and/or the periodic jobs, restarting a crashed one with
        back-off."""
        jobs: list[Awaitable[bool]] = []
        if periodic and self.settings.periodic_jobs_enabled:
            jobs.extend(
                supervise(f"periodic:{job.name}", partial(self.run_periodic, job, stop), stop)
                for job in self.definition.periodic
            )
        relay_worker = self.relay() if relay else None
        consumer_worker = self.consumer() if consume else None
        if relay_worker is not None or consumer_worker is not None:
            jobs.append(self._run_kafka_workers(stop, relay_worker, consumer_worker))
        await asyncio.gather(*jobs)

    async def _run_kafka_workers(
        self,
        stop: asyncio.Event,
        relay_worker: OutboxRelay | None,
        consumer_worker: IdempotentConsumer | None,
    ) -> bool:
        if not await supervise("topics", self.prepare_topics, stop, once=True):
            return False
        jobs: list[Awaitable[bool]] = []
        if relay_worker is not None:
            jobs.append(supervise("relay", partial(relay_worker.run, stop), stop))
        if consumer_worker is not None:
            jobs.append(supervise("consumer", partial(consumer_worker.run, stop), stop))
        await asyncio.gather(*jobs)
        return True

    async def run_periodic(self, job: PeriodicJob, stop: asyncio.Event) -> None:
        """Run ``job`` now and then every ``every_seconds`` until ``stop`` (in a thread: the
        application's calls block)."""
        every = job.every_seconds * self.settings.periodic_interval_factor
        while not stop.is_set():
            result = await asyncio.to_thread(job.run, self.application, datetime.now(UTC))
            clear_worker_problem(f"periodic:{job.name}")
            if result:
                log.info("periodic_job_done", job=job.name, result=result)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=every)


async def supervise(
    name: str, step: Callable[[], Awaitable[None]], stop: asyncio.Event, *, once: bool = False
) -> bool:
    """Run ``step`` again whenever it fails (with back-off) until ``stop`` is set; with ``once``,
    until it first succeeds. True when it completed. A service started before Kafka thus waits
    for it, and a crashed relay or consumer comes back, instead of the API running without them.
    """
    backoff = 0.5
    while not stop.is_set():
        try:
            await step()
            if once:
                return True
            backoff = 0.5
        except asyncio.CancelledError:
            raise
        except Exception as error:
            # Not ready until the worker gets on again (it clears this when it does).
            report_worker_problem(name, f"{type(error).__name__}: {error}"[:500])
            WORKER_FAILURES.labels(name).inc()
            log.exception("worker_failed", worker=name, retry_in=backoff)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=backoff)
            backoff = min(backoff * 2, RESTART_BACKOFF_MAX_SECONDS)
    return False
