"""Group commit keeps every command's own answer and every invariant, while saving many
commands in one transaction."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.domain import event
from servicekit.batching import UnitOfWork
from servicekit.correlation import correlation_scope
from servicekit.domain import Aggregate, DomainError
from servicekit.settings import REPO_ROOT, ServiceSettings
from servicekit.store import ServiceApplication


class Overdrawn(DomainError):
    pass


class Purse(Aggregate):
    @event("Filled")
    def __init__(self, cents: int) -> None:
        self.cents = cents

    def spend(self, cents: int) -> None:
        if cents > self.cents:
            raise Overdrawn(f"only {self.cents} cents left")
        self._spend(cents)

    @event("Spent")
    def _spend(self, cents: int) -> None:
        self.cents -= cents

    def spend_then_fail(self) -> None:
        self._spend(1)
        raise Overdrawn("changed state, then refused")


class PurseApp(ServiceApplication):
    pass


@pytest.fixture
def app(tmp_path: Path) -> PurseApp:
    return PurseApp(
        ServiceSettings(
            service_name="purses", data_dir=tmp_path, territories_dir=REPO_ROOT / "territories"
        )
    )


def spend(purse_id: UUID, cents: int):  # type: ignore[no-untyped-def]
    def command(uow: UnitOfWork) -> int:
        purse = uow.get(purse_id, Purse, "purse")
        purse.spend(cents)
        return purse.cents

    return command


def test_concurrent_spending_never_overdraws_and_shares_transactions(app: PurseApp) -> None:
    purse = Purse(10_000)
    app.save(purse)
    results: list[int | str] = []
    lock = threading.Lock()

    def till() -> None:
        for _ in range(40):
            try:
                left: int | str = app.group_commit(spend(purse.id, 70))
            except Overdrawn:
                left = "refused"
            with lock:
                results.append(left)

    threads = [threading.Thread(target=till) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    accepted = [r for r in results if r != "refused"]
    assert len(results) == 320
    assert len(accepted) == 10_000 // 70  # 142 fit, the other 178 are refused
    assert app.repository.get(purse.id).cents == 10_000 - 70 * len(accepted)
    batcher = app.__dict__["_batcher"]
    assert batcher.batches < batcher.commands  # several commands shared a transaction


def test_a_refused_command_does_not_spoil_its_batch(app: PurseApp) -> None:
    purse = Purse(100)
    app.save(purse)
    with pytest.raises(Overdrawn, match="only 100 cents left"):
        app.group_commit(spend(purse.id, 500))
    assert app.group_commit(spend(purse.id, 30)) == 70
    assert app.repository.get(purse.id).cents == 70


def test_a_command_that_changes_state_and_then_fails_changes_nothing(app: PurseApp) -> None:
    purse = Purse(100)
    app.save(purse)

    def bad(uow: UnitOfWork) -> None:
        uow.get(purse.id, Purse, "purse").spend_then_fail()

    with pytest.raises(Overdrawn, match="changed state"):
        app.group_commit(bad)
    assert app.repository.get(purse.id).cents == 100
    assert app.repository.get(purse.id).version == 1


def test_async_callers_share_transactions_and_each_hears_its_own_answer(app: PurseApp) -> None:
    purse = Purse(1_000)
    app.save(purse)

    async def till(cents: int) -> int | str:
        try:
            left: int = await app.group_commit_async(spend(purse.id, cents))
        except Overdrawn as refusal:
            return str(refusal)
        return left

    async def rush() -> list[int | str]:
        return await asyncio.gather(*(till(100) for _ in range(30)))

    answers = asyncio.run(rush())

    accepted = [a for a in answers if isinstance(a, int)]
    assert sorted(accepted) == list(range(0, 1_000, 100))  # ten fit, each saw its own balance
    assert answers.count("only 0 cents left") == 20
    assert app.repository.get(purse.id).cents == 0
    batcher = app.__dict__["_batcher"]
    assert batcher.batches < batcher.commands


def test_a_group_committed_event_carries_its_callers_correlation_id(app: PurseApp) -> None:
    purse = Purse(500)
    app.save(purse)

    async def spend_as(correlation_id: str) -> None:
        with correlation_scope(correlation_id):
            await app.group_commit_async(spend(purse.id, 10))

    with correlation_scope("till-7"):
        app.group_commit(spend(purse.id, 10))
    asyncio.run(spend_as("till-8"))

    events = list(app.events.get(purse.id))
    assert [e.correlation_id for e in events[1:]] == ["till-7", "till-8"]


def blocked_writer(purse_id: UUID) -> tuple[Any, threading.Event, threading.Event]:
    """A command that holds the writer until ``go_on`` is set (``started`` once it runs): what
    is submitted meanwhile waits, and is applied in one batch afterwards."""
    started, go_on = threading.Event(), threading.Event()

    def slow_spend(uow: UnitOfWork) -> int:
        started.set()
        go_on.wait(timeout=10)
        return spend(purse_id, 30)(uow)

    return slow_spend, started, go_on


async def when(event: threading.Event) -> None:
    assert await asyncio.get_running_loop().run_in_executor(None, event.wait, 10)


def test_a_caller_that_gives_up_does_not_stop_the_writer(app: PurseApp) -> None:
    """A closed connection cancels its request: its command, already queued, is still applied
    (a till's retry with the same request id is answered from the stored state), and the
    writer goes on answering the others, on the same loop and on a loop since closed."""
    purse = Purse(100)
    app.save(purse)
    slow_spend, started, go_on = blocked_writer(purse.id)

    async def give_up_then_go_on() -> int:
        first = asyncio.ensure_future(app.group_commit_async(slow_spend))
        await when(started)
        # Queued while the writer is held, so applied in one batch with the next caller.
        leaving = asyncio.ensure_future(app.group_commit_async(spend(purse.id, 20)))
        staying = asyncio.ensure_future(app.group_commit_async(spend(purse.id, 10)))
        await asyncio.sleep(0.1)
        leaving.cancel()
        with pytest.raises(asyncio.CancelledError):
            await leaving
        go_on.set()
        assert await first == 70
        return await asyncio.wait_for(staying, 10)

    assert asyncio.run(give_up_then_go_on()) == 40  # 100 - 30 - 20 (given up, still spent) - 10

    slow_spend, started, go_on = blocked_writer(purse.id)

    async def give_up() -> None:
        waiting = asyncio.ensure_future(app.group_commit_async(slow_spend))
        await when(started)
        waiting.cancel()

    asyncio.run(give_up())  # the loop is closed before its caller's answer is ready
    go_on.set()
    later = asyncio.run(asyncio.wait_for(app.group_commit_async(spend(purse.id, 10)), 10))
    assert later == 0 == app.repository.get(purse.id).cents


def test_a_command_raising_stop_iteration_leaves_no_caller_unanswered(app: PurseApp) -> None:
    purse = Purse(100)
    app.save(purse)
    slow_spend, started, go_on = blocked_writer(purse.id)

    def broken(uow: UnitOfWork) -> int:
        return next(iter([]))  # a bug in a command, raising StopIteration

    async def batch_mates() -> list[Any]:
        first = asyncio.ensure_future(app.group_commit_async(slow_spend))
        await when(started)
        mates = [
            asyncio.ensure_future(app.group_commit_async(broken)),
            asyncio.ensure_future(app.group_commit_async(spend(purse.id, 10))),
        ]
        await asyncio.sleep(0.1)  # both queued while the writer is held: one batch
        go_on.set()
        await first
        return await asyncio.wait_for(asyncio.gather(*mates, return_exceptions=True), 10)

    bad, good = asyncio.run(batch_mates())
    assert isinstance(bad, RuntimeError) and isinstance(bad.__cause__, StopIteration)
    assert good == 60
