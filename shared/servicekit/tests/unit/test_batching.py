"""Group commit keeps every command's own answer and every invariant, while saving many
commands in one transaction."""

from __future__ import annotations

import threading
from pathlib import Path
from uuid import UUID

import pytest
from eventsourcing.domain import event
from servicekit.batching import UnitOfWork
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
