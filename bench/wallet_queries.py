"""Wallet query latency with 1,000 and with 100,000 wallets in the same run: how a query's time
grows with the store (issue 16: a list or lookup query must not read the whole event log).

    .venv/bin/python bench/wallet_queries.py [--small 1000] [--large 100000] [--repeat 20]

For each size it fills a fresh SQLite store quickly (aggregates built in memory and saved a plan
at a time: the plan, its wallets and families in one ``save()``), then times each query the HTTP
routes and the periodic jobs run. Every employee has one wallet; every plan has its own employer
and ``--per-plan`` employees (each with a distinct valid fiscal code); one wallet in ten has an
open hold (expiring in a year), one in twenty a captured one, one employee in fifty a delegate;
providers and delegates serve a bounded number of wallets. So each answer has the same size at
both store sizes, and the ratio large/small shows only how the query scales with the log.

The queries are timed at the application's query methods (what the routes and the jobs run:
the read model's views, then a ``get`` of each aggregate listed; a version without a read model
scans the log there). The read models' catch-up of the whole log (once, before the queries;
what a service start or ``rebuild-read-models`` does) is timed apart. Then the two stores take
turns, query by query, for ``--rounds`` rounds, so that the load of the 2 shared cores drifting
does not show as a ratio: each turn repeats the query until 0.3 s have passed (at least once,
at most 15 times) and keeps the median; the table shows the median of the rounds, at each size,
and the ratio large / small (the small store is the baseline). No timed assertions.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

from servicekit.italian_ids import fiscal_code_check_character
from wallet.application.app import WalletApplication
from wallet.domain.family import Family
from wallet.domain.plan import Plan
from wallet.domain.wallet import Wallet
from wallet.settings import WalletSettings

CATEGORY = "services_no_cap"


def fiscal_code(n: int) -> str:
    """A distinct valid fiscal code per employee (as in wallet_transfers.py)."""
    body = f"RSSMRA{(n // 28_000) % 100:02d}T{1 + (n // 1000) % 28:02d}A{n % 1000:03d}"
    return body + fiscal_code_check_character(body)


def fill(app: WalletApplication, wallets: int, per_plan: int) -> int:
    """Plans of ``per_plan`` employees until ``wallets`` wallets exist; returns the events."""
    today = datetime.now(UTC).date()
    year = today.year
    expires_at = datetime.now(UTC) + timedelta(days=300)
    events = 0
    for p in range(0, wallets, per_plan):
        size = min(per_plan, wallets - p)
        plan = Plan.create(
            employer_id=f"employer-{p // per_plan}",
            vat_number="06363391001",
            year=year,
            starts_on=date(year, 1, 1),
            ends_on=date(year, 12, 31),
            budget_cents=size * 10_000,
            credit_per_employee_cents=10_000,
            categories=[CATEGORY],
            end_policy="reset",
            today=today,
        )
        employees = [f"emp-{n}" for n in range(p, p + size)]
        plan.enrol(
            dict.fromkeys(employees, False),
            {e: fiscal_code(n) for n, e in zip(range(p, p + size), employees, strict=True)},
        )
        changed: list[Any] = [plan]
        for n, employee_id in zip(range(p, p + size), employees, strict=True):
            wallet = Wallet.open(
                plan_id=plan.id,
                employer_id=plan.employer_id,
                employee_id=employee_id,
                year=year,
                categories=plan.categories,
                expires_on=plan.ends_on,
            )
            t = wallet.grant_transfer(CATEGORY, 10_000)
            plan.allocate(employee_id, wallet.id, t)
            wallet.record_grant(CATEGORY, t)
            if n % 10 == 0:
                provider = f"coop-{n // 200}"  # ~10 holds, ~5 captures per provider
                wallet.hold(f"h{n}", provider, CATEGORY, 1_000, expires_at, today)
                if n % 20 == 0:
                    hold_id = wallet.hold(f"c{n}", provider, CATEGORY, 500, expires_at, today)
                    wallet.capture(hold_id, f"c{n}", None)
            if n % 50 == 0:
                family = Family.open(employee_id)
                family.name_delegate(f"carer-{n}")
                changed.append(family)
            changed.append(wallet)
        events += sum(len(a.pending_events) for a in changed)
        app.save(*changed)
    return events


def timed(query: Callable[[], object]) -> float:
    """Median seconds of ``query``, repeated until 0.3 s have passed (1 to 15 times)."""
    times: list[float] = []
    while len(times) < 15 and sum(times) < 0.3:
        started = time.perf_counter()
        query()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def answer_size(answer: object) -> int:
    return len(answer) if isinstance(answer, list) else int(answer)  # type: ignore[call-overload]


class Store:
    """One filled store and the queries on it."""

    def __init__(self, stack: ExitStack, root: Path, wallets: int, per_plan: int) -> None:
        settings = WalletSettings(data_dir=root / f"w{wallets}", keys_dir=root / "keys")
        self.app = app = WalletApplication(settings)
        stack.callback(self.close)
        started = time.perf_counter()
        events = fill(app, wallets, per_plan)
        print(
            f"# {wallets} wallets: {events} events stored in {time.perf_counter() - started:.1f} s",
            flush=True,
        )
        getattr(app, "read_model", None)  # its tables created (a version without: nothing)
        started = time.perf_counter()
        self.projected = app.catch_up_read_models()
        self.catch_up_s = time.perf_counter() - started
        print(
            f"#   read-model catch-up: {self.projected} events in {self.catch_up_s:.1f} s",
            flush=True,
        )
        year = datetime.now(UTC).year
        middle = (wallets // 2) // 50 * 50  # has a delegate, a hold and a capture
        employee = f"emp-{middle}"
        employer = f"employer-{middle // per_plan}"
        wallet_id = Wallet.id_for(_plan_of(app, employer), employee)
        not_due = datetime(year, 6, 1, tzinfo=UTC)  # no hold expires, no reminder is due
        self.queries: dict[str, Callable[[], object]] = {
            "wallets of an employee": lambda: app.wallets_of_employee(employee),
            "plans of an employer": lambda: app.plans_of(employer),
            "wallets delegated to": lambda: app.wallets_delegated_to(f"carer-{middle}"),
            "captures for a provider": lambda: app.captures_for(f"coop-{middle // 200}"),
            "history of a wallet": lambda: app.history(wallet_id),
            "payroll of an employer": lambda: app.payroll(employer, year, check_year=False),
            "job: expire holds (none due)": lambda: app.expire_holds(not_due),
            "job: expiry reminders (none due)": lambda: app.remind_expiring_credit(not_due),
        }
        self.sizes = {name: answer_size(query()) for name, query in self.queries.items()}

    def close(self) -> None:
        batcher = self.app.__dict__.get("_batcher")
        if batcher is not None:
            batcher.close()
        self.app.close()


def _plan_of(app: WalletApplication, employer_id: str) -> UUID:
    (plan,) = app.plans_of(employer_id)
    return plan.id


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--per-plan", type=int, default=1_000)
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds (medians)")
    args = parser.parse_args()
    with ExitStack() as stack:
        root = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        small = Store(stack, root, args.small, args.per_plan)
        large = Store(stack, root, args.large, args.per_plan)
        rounds: dict[str, tuple[list[float], list[float]]] = {n: ([], []) for n in small.queries}
        for _ in range(args.rounds):
            for name, (at_small, at_large) in rounds.items():
                at_small.append(timed(small.queries[name]))
                at_large.append(timed(large.queries[name]))
        print(
            f"# wallet queries bench — sqlite, cores={os.cpu_count()}, "
            f"load={os.getloadavg()[0]:.1f}, python {sys.version.split()[0]}, "
            f"{args.rounds} interleaved rounds"
        )
        header = f"{'query':<36} {'n':>4} {f'{args.small} ms':>11} {f'{args.large} ms':>12}"
        print(f"{header} {'ratio':>7}")
        for store in (small, large):
            rate = store.projected / store.catch_up_s if store.catch_up_s else 0
            print(
                f"read-model catch-up at {args.small if store is small else args.large}: "
                f"{store.projected} events in {store.catch_up_s:.1f} s ({rate:.0f} events/s)"
            )
        for name, (at_small, at_large) in rounds.items():
            s_ms = statistics.median(at_small) * 1000
            l_ms = statistics.median(at_large) * 1000
            print(
                f"{name:<36} {small.sizes[name]:>4} {s_ms:>11.2f} {l_ms:>12.2f} "
                f"{l_ms / s_ms:>6.2f}x"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
