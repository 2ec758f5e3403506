"""Jobs on a service's own clock: run at once, then every interval, through failures, until
the service stops; switched off by a setting."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from servicekit.service import PeriodicJob, ServiceDefinition, ServiceRuntime
from servicekit.settings import ServiceSettings
from servicekit.store import ServiceApplication


def runtime_with(job: PeriodicJob, tmp_path: Path, **settings: Any) -> ServiceRuntime:
    definition = ServiceDefinition(
        name="clockwork",
        title="a service with a job",
        settings_class=ServiceSettings,
        application_class=ServiceApplication,
        routers=lambda: [],
        periodic=[job],
    )
    return ServiceRuntime(
        definition, ServiceSettings(data_dir=tmp_path, keys_dir=tmp_path / "keys", **settings)
    )


async def test_a_periodic_job_runs_again_after_it_fails_and_stops_with_the_service(
    tmp_path: Path,
) -> None:
    stop = asyncio.Event()
    seen: list[datetime] = []

    def job(application: ServiceApplication, now: datetime) -> int:
        assert isinstance(application, ServiceApplication)
        seen.append(now)
        if len(seen) == 2:
            raise RuntimeError("the store was busy")
        if len(seen) == 4:
            stop.set()
        return 1

    runtime = runtime_with(PeriodicJob("tick", job, every_seconds=0.01), tmp_path)
    await asyncio.wait_for(
        runtime.run_workers(stop, relay=False, consume=False, periodic=True), timeout=20
    )
    assert len(seen) == 4  # one failure did not end the job, the stop did
    assert all(now.tzinfo is UTC for now in seen) and seen == sorted(seen)


async def test_periodic_jobs_can_be_switched_off(tmp_path: Path) -> None:
    calls = 0

    def job(application: ServiceApplication, now: datetime) -> None:
        nonlocal calls
        calls += 1

    runtime = runtime_with(PeriodicJob("tick", job, 0.01), tmp_path, periodic_jobs_enabled=False)
    await asyncio.wait_for(
        runtime.run_workers(asyncio.Event(), relay=False, consume=False, periodic=True), 5
    )
    assert calls == 0
