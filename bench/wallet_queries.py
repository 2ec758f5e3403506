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

Prints, per query, the median latency (ms) at each size and the ratio large / small (the small
store is the baseline). The read models' catch-up of the whole log (once, before the queries;
what a service start or ``rebuild-read-models`` does) is timed too. No timed assertions.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
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


def timed(repeat: int, query: Callable[[], object]) -> tuple[float, int]:
    """Median seconds of ``query`` (at most ``repeat`` runs, fewer when one takes over 2 s)."""
    times: list[float] = []
    size = 0
    while len(times) < repeat:
        started = time.perf_counter()
        answer = query()
        times.append(time.perf_counter() - started)
        size = len(answer) if isinstance(answer, list) else int(answer)  # type: ignore[arg-type]
        if sum(times) > 6 or times[-1] > 2:
            break
    return statistics.median(times), size


def measure(root: Path, wallets: int, per_plan: int, repeat: int) -> dict[str, tuple[float, int]]:
    settings = WalletSettings(data_dir=root / f"w{wallets}", keys_dir=root / "keys")
    app = WalletApplication(settings)
    try:
        started = time.perf_counter()
        events = fill(app, wallets, per_plan)
        filled = time.perf_counter() - started
        print(f"# {wallets} wallets: {events} events stored in {filled:.1f} s", flush=True)
        results: dict[str, tuple[float, int]] = {}
        started = time.perf_counter()
        applied = app.catch_up_read_models()
        results["read-model catch-up, whole log (once)"] = (time.perf_counter() - started, applied)
        year = datetime.now(UTC).year
        middle = (wallets // 2) // 50 * 50  # has a delegate, a hold and a capture
        employee = f"emp-{middle}"
        wallet_id = Wallet.id_for(_plan_of(app, f"employer-{middle // per_plan}"), employee)
        not_due = datetime(year, 6, 1, tzinfo=UTC)  # no hold expires, no reminder is due
        queries: dict[str, Callable[[], object]] = {
            "wallets of an employee": lambda: app.wallets_of_employee(employee),
            "plans of an employer": lambda: app.plans_of(f"employer-{middle // per_plan}"),
            "wallets delegated to": lambda: app.wallets_delegated_to(f"carer-{middle}"),
            "captures for a provider": lambda: app.captures_for(f"coop-{middle // 200}"),
            "history of a wallet": lambda: app.history(wallet_id),
            "payroll of an employer": lambda: app.payroll(
                f"employer-{middle // per_plan}", year, check_year=False
            ),
            "job: expire holds (none due)": lambda: app.expire_holds(not_due),
            "job: expiry reminders (none due)": lambda: app.remind_expiring_credit(not_due),
        }
        for name, query in queries.items():
            query()  # warm-up
            results[name] = timed(repeat, query)
            print(f"#   {name}: {results[name][0] * 1000:.2f} ms", flush=True)
        return results
    finally:
        batcher = app.__dict__.get("_batcher")
        if batcher is not None:
            batcher.close()
        app.close()


def _plan_of(app: WalletApplication, employer_id: str) -> UUID:
    (plan,) = app.plans_of(employer_id)
    return plan.id


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--per-plan", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        small = measure(root, args.small, args.per_plan, args.repeat)
        large = measure(root, args.large, args.per_plan, args.repeat)
    print(
        f"# wallet queries bench — sqlite, cores={os.cpu_count()}, "
        f"load={os.getloadavg()[0]:.1f}, python {sys.version.split()[0]}"
    )
    print(f"{'query':<40} {'n':>4} {f'{args.small} ms':>12} {f'{args.large} ms':>12} {'ratio':>8}")
    for name, (small_s, size) in small.items():
        large_s, large_size = large[name]
        if name.startswith("read-model"):
            print(
                f"{name:<40} {'':>4} {small_s * 1000:>12.1f} {large_s * 1000:>12.1f} "
                f"{large_s / small_s if small_s else 0:>7.1f}x  ({small_s and size / small_s:.0f}"
                f" / {large_s and large_size / large_s:.0f} events/s)"
            )
            continue
        print(
            f"{name:<40} {size:>4} {small_s * 1000:>12.2f} {large_s * 1000:>12.2f} "
            f"{large_s / small_s:>7.2f}x"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
