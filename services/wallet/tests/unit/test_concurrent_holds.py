"""Concurrent holds on the same wallet never overdraw it: many threads, through two
application instances on the same SQLite file (as two service processes would be), race to
hold more than the wallet has. Exactly as many succeed as the money allows."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from servicekit.domain import DomainError
from wallet.application import commands as cmd
from wallet.application.app import WalletApplication
from wallet.settings import WalletSettings

from .ledger_check import assert_ledger_sound

NOW = datetime(2025, 6, 1, tzinfo=UTC)


def test_concurrent_holds_on_one_wallet_never_overdraw_it(tmp_path: Path) -> None:
    settings = WalletSettings(data_dir=tmp_path / "data", keys_dir=tmp_path / "keys")
    first, second = WalletApplication(settings), WalletApplication(settings)
    try:
        plan_id = first.create_plan(
            "acme",
            cmd.CreatePlan(
                vat_number="06363391001",
                year=2025,
                starts_on=date(2025, 1, 1),
                ends_on=date(2025, 12, 31),
                budget_cents=50_000,
                credit_per_employee_cents=50_000,
                categories=["services_no_cap"],
            ),
        )
        first.enrol(plan_id, cmd.Enrol(employees=[cmd.Employee(employee_id="e1")]))
        wallet_id = first.grant(plan_id, cmd.Grant(employee_id="e1"))
        held: list[int] = []
        refused: list[str] = []
        errors: list[BaseException] = []
        lock = threading.Lock()
        start = threading.Barrier(16)

        def attempt(n: int) -> None:
            app = first if n % 2 else second
            start.wait(timeout=30)
            for k in range(3):
                try:
                    app.hold(
                        wallet_id,
                        cmd.HoldFunds(
                            request_id=f"t{n}-{k}",
                            provider_id="coop",
                            category="services_no_cap",
                            amount_cents=3_000,
                            expires_at=NOW + timedelta(days=1),
                        ),
                        NOW,
                    )
                    with lock:
                        held.append(3_000)
                except DomainError as refusal:
                    with lock:
                        refused.append(type(refusal).__name__)
                except BaseException as error:  # pragma: no cover - reported below
                    with lock:
                        errors.append(error)

        threads = [threading.Thread(target=attempt, args=(n,)) for n in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not errors, errors
        assert len(held) + len(refused) == 48
        # At most 16 x 3,000 = 48,000 of the 50,000 fit; a refusal is for lack of money, or a
        # "try again" when the other process kept winning the race (never an overdraft).
        assert set(refused) <= {"InsufficientFunds", "Conflict"}
        assert 0 < len(held) <= 16
        reader = WalletApplication(settings)
        wallet = reader.get_wallet(wallet_id)
        reader.close()
        assert wallet.held_cents == sum(held)
        assert wallet.total_cents == 50_000 - sum(held)
        balances = assert_ledger_sound(first)
        assert sum(b for a, b in balances.items() if a.startswith("hold:")) == sum(held)
    finally:
        for app in (first, second):
            batcher = app.__dict__.get("_batcher")
            if batcher is not None:
                batcher.close()
            app.close()
