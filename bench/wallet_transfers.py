"""Wallet transfers per second through the command path, next to the raw eventsourcing save()
of a trivial aggregate in the same run (the baseline), on SQLite or PostgreSQL.

    .venv/bin/python bench/wallet_transfers.py [--store sqlite|postgres] [--holds N]
                                               [--callers C] [--employees E]

Each hold is one balanced transfer (wallet account → hold account) and each capture one more
(hold → provider payable): the command loads the wallet, checks every rule and saves one
hash-chained event. Concurrent callers are group-committed (servicekit.batching). Prints
throughput and p50/p99 latency, and the ratio to the baseline.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import event
from servicekit.domain import Aggregate
from servicekit.italian_ids import fiscal_code_check_character
from servicekit.store import ServiceApplication, ensure_postgres_schema, store_environment
from wallet.application import commands as cmd
from wallet.application.app import WalletApplication
from wallet.domain.wallet import Wallet
from wallet.settings import WalletSettings


class Trivial(Aggregate):
    @event("Made")
    def __init__(self, n: int) -> None:
        self.n = n


class TrivialApp(ServiceApplication):
    pass


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def raw_saves(
    settings_kwargs: dict[str, Any], count: int, plain: bool
) -> tuple[float, list[float]]:
    """One trivial aggregate per save(): eventsourcing's own Application (``plain``, the
    baseline) or the kit's application, on the same store."""
    settings = WalletSettings(**{**settings_kwargs, "service_name": "trivial"})
    app: Any
    if plain:
        env = store_environment(settings)
        env.pop("PROCESS_RECORDER_TOPIC")
        env["SQLITE_DBNAME"] = str(settings.data_dir / "plain.sqlite")
        env["POSTGRES_SCHEMA"] = "plain"
        if settings.store == "postgres":
            ensure_postgres_schema(settings.model_copy(update={"postgres_schema": "plain"}))
        app = Application(env=env)
    else:
        app = TrivialApp(settings)
    latencies = []
    started = time.perf_counter()
    for n in range(count):
        t = time.perf_counter()
        app.save(Trivial(n))
        latencies.append(time.perf_counter() - t)
    return count / (time.perf_counter() - started), latencies


def prepare(app: WalletApplication, employees: int) -> list[UUID]:
    year = datetime.now(UTC).year
    plan_id = app.create_plan(
        "bench-employer",
        cmd.CreatePlan(
            vat_number="06363391001",
            year=year,
            starts_on=date(year, 1, 1),
            ends_on=date(year, 12, 31),
            budget_cents=employees * 10_000_000,
            credit_per_employee_cents=10_000_000,
            categories=["services_no_cap"],
        ),
    )
    rows = "\n".join(f"emp-{n},{fiscal_code(n)},no" for n in range(employees))
    report = app.load_csv(plan_id, f"employee_id,fiscal_code,dependent_children\n{rows}\n")
    assert not report.rejected, report.rejected[:3]
    return [Wallet.id_for(plan_id, f"emp-{n}") for n in range(employees)]


def fiscal_code(n: int) -> str:
    """A distinct valid fiscal code per employee (a plan refuses one code under two ids)."""
    body = f"RSSMRA{(n // 28_000) % 100:02d}T{1 + (n // 1000) % 28:02d}A{n % 1000:03d}"
    return body + fiscal_code_check_character(body)


def timed(count: int, callers: int, one: Callable[[int], None]) -> tuple[float, list[float]]:
    latencies: list[float] = []
    lock = threading.Lock()

    def caller(c: int) -> None:
        own: list[float] = []
        for i in range(c, count, callers):
            started = time.perf_counter()
            one(i)
            own.append(time.perf_counter() - started)
        with lock:
            latencies.extend(own)

    threads = [threading.Thread(target=caller, args=(c,)) for c in range(callers)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return count / (time.perf_counter() - started), latencies


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--store", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--holds", type=int, default=4000)
    parser.add_argument("--callers", type=int, default=16)
    parser.add_argument("--employees", type=int, default=200)
    args = parser.parse_args()
    with ExitStack() as stack:
        root = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        kwargs: dict[str, Any] = {"data_dir": root, "store": args.store, "keys_dir": root}
        if args.store == "postgres":
            from devstack.postgres import PostgresCluster

            cluster = stack.enter_context(PostgresCluster(root / "pg", fsync=True))
            cluster.create_database("bench")
            kwargs.update(
                postgres_host=cluster.host,
                postgres_port=cluster.port,
                postgres_user=cluster.user,
                postgres_dbname="bench",
            )
        baseline, base_lat = raw_saves(kwargs, min(args.holds, 3000), plain=True)
        kit_save, kit_lat = raw_saves(kwargs, min(args.holds, 3000), plain=False)
        app = WalletApplication(WalletSettings(**kwargs))
        wallets = prepare(app, args.employees)
        expires = datetime.now(UTC) + timedelta(days=1)
        holds: dict[int, tuple[UUID, UUID]] = {}

        def hold(i: int) -> None:
            wallet_id = wallets[i % len(wallets)]
            holds[i] = (
                wallet_id,
                app.hold(
                    wallet_id,
                    cmd.HoldFunds(
                        request_id=f"h{i}",
                        provider_id=f"coop-{i % 8}",
                        category="services_no_cap",
                        amount_cents=100,
                        expires_at=expires,
                    ),
                ),
            )

        def capture(i: int) -> None:
            wallet_id, hold_id = holds[i]
            app.capture(wallet_id, hold_id, cmd.Capture(request_id=f"c{i}"))

        single_n = min(args.holds, 1000)
        single, single_lat = timed(single_n, 1, hold)
        offset = single_n
        grouped, grouped_lat = timed(args.holds, args.callers, lambda i: hold(offset + i))
        captured, captured_lat = timed(args.holds, args.callers, lambda i: capture(offset + i))
        batcher = app.__dict__["_batcher"]
        print(
            f"# wallet transfers bench — store={args.store}, cores={os.cpu_count()}, "
            f"python {sys.version.split()[0]}; one transfer per command"
        )
        print(f"{'path':<48} {'ops/s':>9} {'ratio':>7} {'p50 ms':>8} {'p99 ms':>8}")
        rows = [
            ("eventsourcing save(), trivial (baseline)", baseline, base_lat),
            ("kit save(), trivial aggregate", kit_save, kit_lat),
            ("hold, 1 caller (group of 1)", single, single_lat),
            (f"hold, {args.callers} concurrent callers (group commit)", grouped, grouped_lat),
            (f"capture, {args.callers} concurrent callers", captured, captured_lat),
        ]
        for name, rate, lat in rows:
            print(
                f"{name:<48} {rate:>9.0f} {rate / baseline:>6.2f}x "
                f"{statistics.median(lat) * 1000:>8.2f} {percentile(lat, 0.99) * 1000:>8.2f}"
            )
        print(
            f"group commit: {batcher.commands} commands in {batcher.batches} transactions "
            "(all phases)"
        )
        batcher.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
