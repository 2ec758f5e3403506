"""Liveness and readiness: ``/healthz`` says the process answers, ``/readyz`` says it can do its
work — its store answers, Kafka answers a metadata request, and none of its workers (the outbox
relay, the consumer) is stuck failing. A worker reports its failure here and clears it when it
gets on again, so a relay that cannot publish an event makes the service not ready."""

from __future__ import annotations

import asyncio
import time

from aiokafka.admin import AIOKafkaAdminClient

from servicekit.store import ServiceApplication

KAFKA_CHECK_TTL_SECONDS = 5.0

# worker name -> why it is failing (only this process's workers: ``serve`` runs them all)
_WORKER_PROBLEMS: dict[str, str] = {}


def report_worker_problem(worker: str, reason: str) -> None:
    _WORKER_PROBLEMS[worker] = reason


def clear_worker_problem(worker: str) -> None:
    _WORKER_PROBLEMS.pop(worker, None)


def worker_problems() -> list[str]:
    return [f"{worker}: {reason}" for worker, reason in sorted(_WORKER_PROBLEMS.items())]


class ReadinessProbe:
    def __init__(self, app: ServiceApplication, bootstrap: str) -> None:
        self.app = app
        self.bootstrap = bootstrap
        self._kafka_ok_until = 0.0

    def check_store(self) -> str | None:
        try:
            self.app.recorder.max_notification_id()
        except Exception as error:  # any failure means "not ready", with the reason shown
            return f"store: {type(error).__name__}: {error}"
        return None

    async def check_kafka(self) -> str | None:
        # Cached briefly: a probe every second must not open a connection every second.
        if time.monotonic() < self._kafka_ok_until:
            return None
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap, request_timeout_ms=3000)
        try:
            await asyncio.wait_for(admin.start(), timeout=5)
            await asyncio.wait_for(admin.list_topics(), timeout=5)
        except Exception as error:
            return f"kafka: {type(error).__name__}: {error}"
        finally:
            await admin.close()
        self._kafka_ok_until = time.monotonic() + KAFKA_CHECK_TTL_SECONDS
        return None

    async def problems(self) -> list[str]:
        store = await asyncio.to_thread(self.check_store)
        kafka = await self.check_kafka()
        return [problem for problem in (store, kafka) if problem] + worker_problems()
