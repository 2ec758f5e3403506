import asyncio

from servicekit.service import supervise


async def test_a_failing_startup_step_is_retried_until_it_succeeds() -> None:
    attempts = 0

    async def flaky() -> None:
        nonlocal attempts
        attempts += 1
        if attempts < 3:
            raise ConnectionError("Kafka not there yet")

    assert await asyncio.wait_for(supervise("flaky", flaky, asyncio.Event(), once=True), 10)
    assert attempts == 3


async def test_stopping_ends_the_retries_without_success() -> None:
    stop = asyncio.Event()

    async def broken() -> None:
        stop.set()
        raise ConnectionError("never")

    assert not await asyncio.wait_for(supervise("broken", broken, stop, once=True), 10)


async def test_a_worker_that_crashes_is_started_again() -> None:
    stop = asyncio.Event()
    runs = 0

    async def worker() -> None:
        nonlocal runs
        runs += 1
        if runs == 2:
            stop.set()
            return
        raise RuntimeError("crash")

    await asyncio.wait_for(supervise("worker", worker, stop), 10)
    assert runs == 2
