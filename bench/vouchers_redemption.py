"""Redemptions per second through the vouchers command path, next to the raw eventsourcing
save() of a trivial aggregate in the same run (the baseline), on SQLite or PostgreSQL.

    .venv/bin/python bench/vouchers_redemption.py [--store sqlite|postgres] [--redemptions N]
                                                  [--tills T] [--rounds R]

The command path loads the voucher and the merchant account, checks every rule, and saves both
(two events); concurrent tills are group-committed (servicekit.batching). The tills run as
tasks awaiting ``redeem_async`` on one event loop, as the HTTP endpoint does, and again as one
thread each calling ``redeem``. Prints throughput and p50/p99 latency, and the ratio to the
baseline. The baseline and the concurrent tills take turns
(``--rounds``, default 3), each round's ratio comparing neighbours, because these machines'
speed drifts within minutes; the table shows the medians.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from eventsourcing.application import Application
from eventsourcing.domain import event
from servicekit.domain import Aggregate
from servicekit.italian_ids import fiscal_code_check_character
from servicekit.store import ServiceApplication, ensure_postgres_schema, store_environment
from vouchers.application import commands as cmd
from vouchers.application.app import VouchersApplication
from vouchers.settings import VouchersSettings


class Trivial(Aggregate):
    @event("Made")
    def __init__(self, n: int) -> None:
        self.n = n


class TrivialApp(ServiceApplication):
    pass


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def trivial_app(settings_kwargs: dict[str, Any], plain: bool) -> Any:
    """Where trivial aggregates are saved: eventsourcing's own Application (``plain``, the
    baseline) or the kit's application, on the same store."""
    settings = VouchersSettings(**{**settings_kwargs, "service_name": "trivial"})
    if not plain:
        return TrivialApp(settings)
    env = store_environment(settings)
    env.pop("PROCESS_RECORDER_TOPIC")
    env["SQLITE_DBNAME"] = str(settings.data_dir / "plain.sqlite")
    env["POSTGRES_SCHEMA"] = "plain"
    if settings.store == "postgres":
        ensure_postgres_schema(settings.model_copy(update={"postgres_schema": "plain"}))
    return Application(env=env)


def raw_saves(app: Any, count: int) -> tuple[float, list[float]]:
    """One trivial aggregate per save()."""
    latencies = []
    started = time.perf_counter()
    for n in range(count):
        t = time.perf_counter()
        app.save(Trivial(n))
        latencies.append(time.perf_counter() - t)
    return count / (time.perf_counter() - started), latencies


def fiscal_code(n: int) -> str:
    body = f"BNC{chr(65 + n % 26)}{chr(65 + (n // 26) % 26)}{chr(65 + (n // 676) % 26)}85T10A562"
    return body + fiscal_code_check_character(body)


def prepare(app: VouchersApplication, households: int) -> tuple[Any, list[str]]:
    now = datetime.now(UTC)
    fund = app.allocate_fund(
        cmd.AllocateFund(
            municipality_istat="096004",
            source_kind="state_transfer",
            source_reference="OCDPC 658/2020",
            amount_cents=1_000_000_000,
        )
    )
    round_id = app.open_round(
        cmd.OpenRound(
            fund_id=str(fund),
            title="Bench",
            opens_at=now - timedelta(days=1),
            closes_at=now + timedelta(days=30),
            budget_cents=500_000_000,
            rules=cmd.EntitlementRulesInput(
                base_cents=50_000, per_extra_member_cents=0, per_minor_cents=0, cap_cents=50_000
            ),
            denominations_cents=[50_000],
        )
    )
    for n in range(households):
        application = app.submit_application(
            cmd.SubmitApplication(
                round_id=str(round_id),
                applicant=cmd.Person(fiscal_code=fiscal_code(n), first_name="A", last_name="B"),
                address="Via Italia 1",
                isee_cents=100_000 + n,
                other_public_support=False,
                self_declaration=True,
            ),
            applicant=f"beneficiary:b-{n}",
        )
        app.approve_application(application, "social_worker")
    app.issue_vouchers(round_id)
    for m in range(8):
        app.affiliate_merchant(
            round_id,
            cmd.AffiliateMerchant(
                merchant_id=f"m-{m}", vat_number="06363391001", goods_categories=["food"]
            ),
        )
    codes = [c for a in app.applications_in_round(round_id) for c in app.codes_of(a)]
    return round_id, codes


def redemptions(
    app: VouchersApplication, codes: list[str], count: int, tills: int, phase: str
) -> tuple[float, list[float]]:
    latencies: list[float] = []
    lock = threading.Lock()

    def till(t: int) -> None:
        own: list[float] = []
        for i in range(t, count, tills):
            code = codes[i % len(codes)]
            started = time.perf_counter()
            app.redeem(
                f"m-{t % 8}",
                cmd.Redeem(
                    code=code, amount_cents=10, goods_category="food", request_id=f"{phase}-{i}"
                ),
            )
            own.append(time.perf_counter() - started)
        with lock:
            latencies.extend(own)

    threads = [threading.Thread(target=till, args=(t,)) for t in range(tills)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return count / (time.perf_counter() - started), latencies


def async_redemptions(
    app: VouchersApplication, codes: list[str], count: int, tills: int, phase: str
) -> tuple[float, list[float]]:
    """The HTTP API's way: each till is a task awaiting its batch (``redeem_async``), all on
    one event loop, as concurrent requests are in the service's async endpoint."""
    latencies: list[float] = []

    async def till(t: int) -> None:
        for i in range(t, count, tills):
            code = codes[i % len(codes)]
            started = time.perf_counter()
            await app.redeem_async(
                f"m-{t % 8}",
                cmd.Redeem(
                    code=code, amount_cents=10, goods_category="food", request_id=f"{phase}-{i}"
                ),
            )
            latencies.append(time.perf_counter() - started)

    async def all_tills() -> None:
        await asyncio.gather(*(till(t) for t in range(tills)))

    started = time.perf_counter()
    asyncio.run(all_tills())
    return count / (time.perf_counter() - started), latencies


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--store", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--redemptions", type=int, default=4000)
    parser.add_argument("--tills", type=int, default=16)
    parser.add_argument("--households", type=int, default=200)
    parser.add_argument(
        "--rounds", type=int, default=3, help="baseline and grouped phases, taking turns"
    )
    args = parser.parse_args()
    with ExitStack() as stack:
        root = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        kwargs: dict[str, Any] = {"data_dir": root, "store": args.store}
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
        plain = trivial_app(kwargs, plain=True)
        kit_save, kit_lat = raw_saves(trivial_app(kwargs, plain=False), min(args.redemptions, 3000))
        app = VouchersApplication(VouchersSettings(**kwargs))
        _, codes = prepare(app, args.households)
        single, single_lat = redemptions(
            app, codes, min(args.redemptions, 1000), tills=1, phase="single"
        )
        # The machine's speed drifts within minutes: the baseline and the grouped redemptions
        # take turns, and each round's ratio compares neighbours.
        rounds: list[tuple[float, float, float]] = []
        base_lat: list[float] = []
        grouped_lat: list[float] = []
        threads_lat: list[float] = []
        for r in range(args.rounds):
            rate, lat = raw_saves(plain, min(args.redemptions, 3000))
            base_lat += lat
            grouped_rate, lat = async_redemptions(
                app, codes, args.redemptions, tills=args.tills, phase=f"grouped-{r}"
            )
            grouped_lat += lat
            threads_rate, lat = redemptions(
                app, codes, args.redemptions, tills=args.tills, phase=f"threads-{r}"
            )
            threads_lat += lat
            rounds.append((rate, grouped_rate, threads_rate))
        baseline = statistics.median(rate for rate, _, _ in rounds)
        grouped = statistics.median(g for _, g, _ in rounds)
        threaded = statistics.median(t for _, _, t in rounds)
        batcher = app.__dict__["_batcher"]
        print(
            f"# vouchers redemption bench — store={args.store}, cores={os.cpu_count()}, "
            f"python {sys.version.split()[0]}"
        )
        print(f"{'path':<44} {'ops/s':>9} {'ratio':>7} {'p50 ms':>8} {'p99 ms':>8}")
        rows = [
            ("eventsourcing save(), trivial (baseline)", baseline, base_lat),
            ("kit save(), trivial aggregate", kit_save, kit_lat),
            ("redeem, 1 till (group of 1)", single, single_lat),
            (f"redeem, {args.tills} tills awaiting (the HTTP path)", grouped, grouped_lat),
            (f"redeem, {args.tills} tills, a thread each", threaded, threads_lat),
        ]
        for name, rate, lat in rows:
            print(
                f"{name:<44} {rate:>9.0f} {rate / baseline:>6.2f}x "
                f"{statistics.median(lat) * 1000:>8.2f} {percentile(lat, 0.99) * 1000:>8.2f}"
            )
        print(
            f"rounds (baseline; {args.tills} tills awaiting; a thread each): "
            + ", ".join(
                f"{rate:.0f}/s; {g:.0f}/s = {g / rate:.2f}x; {t:.0f}/s = {t / rate:.2f}x"
                for rate, g, t in rounds
            )
        )
        awaiting = statistics.median(g / rate for rate, g, _ in rounds)
        threads = statistics.median(t / rate for rate, _, t in rounds)
        print(
            f"median ratio of the rounds: {awaiting:.2f}x awaiting (the HTTP path), "
            f"{threads:.2f}x with a thread each"
        )
        print(
            f"group commit: {batcher.commands} commands in {batcher.batches} transactions "
            "(all till phases)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
