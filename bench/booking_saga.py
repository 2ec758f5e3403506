"""The booking saga end to end on the real broker, next to raw Kafka and the participants'
commands alone, all in one run (issue 17, "Benchmark").

    .venv/bin/python bench/booking_saga.py [--bookings N] [--concurrency C] [--quick]

Starts a single-node Kafka broker (KRaft, from the jars in ``.cache/kafka``) on free ports of
127.0.0.1 and the catalog, wallet and booking services as real processes (``python -m <service>
serve``: API, relay and consumer each) on SQLite stores in a temporary directory, seeds through
their HTTP APIs a catalogue of instant offerings (one slot each, large capacity) and an employer
plan with employees, then measures:

(a) the raw aiokafka produce→consume round trip on the same broker: one idempotent producer
    (acks=all, linger 0) → one consumer (read_committed, assigned, no group), one message in
    flight at a time; p50/p99 over N messages. A booking from request to ``confirmed`` needs
    **2 Kafka hops**: booking → catalog and wallet (the slot hold and the funds hold are
    requested in parallel, one hop), catalog and wallet → booking (their answers, one hop); the
    booking then confirms an instant offering in the same step (the slot's confirmation that
    follows is after ``confirmed`` and not timed);
(b) the participants' single commands alone over HTTP: wallet hold (``POST
    /wallets/{id}/holds``) and slot hold (``POST /slots/{id}/holds``), ops/s at concurrency C;
(c) the saga: bookings/s sustained over N bookings at concurrency C (closed loop: each caller
    posts ``POST /bookings`` and polls ``GET /bookings/{id}`` every 20 ms until ``confirmed``),
    p50/p99 from the POST to the poll that reads ``confirmed``, and the booking's own timeline
    (``requested`` → ``slot_held`` / ``funds_held`` → ``confirmed``, stamped by the booking).

Prints the ratios of issue 17: saga p99 / (raw round trip p99 x hops), goal ≤ 3; saga
bookings/s ÷ the slowest single command's ops/s, goal ≥ 1/3. No timed assertions: the figures
go to docs/performance.md. Every process is stopped at the end (also on failure or Ctrl-C),
every wait is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from devstack.kafka import KafkaBroker, kafka_version
from devstack.ports import free_port
from devstack.processes import serving
from servicekit.auth import DevIssuer
from servicekit.italian_ids import fiscal_code_check_character, vat_number_check_digit

SERVICES = ("catalog", "wallet", "booking")
TERRITORY = "biella"
CATEGORY = "elderly_care"
MUNICIPALITY = "096004"  # Biella, in the default territory
HOPS = 2  # booking → catalog ‖ wallet → booking (see the module's docstring)
PRICE = 1_000  # cents per booking
CAPACITY = 1_000  # places per slot (the catalog's maximum)
POLL = 0.02  # seconds between two reads of a booking
SETTLE = 120.0  # seconds any single wait may take on a loaded machine
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.2f} / {five:.2f}"


def group_cpu_seconds(pgid: int) -> float:
    """utime + stime of every live process of a process group, from /proc."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid:  # fields[0] is the state: pgrp is the 5th field
                total += int(fields[11]) + int(fields[12])
    return total / CLOCK_TICKS


# -- the stack: broker and service processes ----------------------------------------------------


@contextlib.contextmanager
def kafka_broker(root: Path) -> Iterator[KafkaBroker]:
    broker = KafkaBroker(root / "kafka", port=free_port(), controller_port=free_port())
    broker.fetch_jars()
    broker.ensure_formatted()
    started = time.perf_counter()
    broker.start()
    try:
        broker.wait_ready(timeout=SETTLE)
        print(f"Kafka {kafka_version()} ready on {broker.bootstrap} in "
              f"{time.perf_counter() - started:.1f} s")  # fmt: skip
        yield broker
    finally:
        broker.stop()


def services(root: Path, bootstrap: str, idle_poll: float) -> Any:
    return serving(SERVICES, root, bootstrap, idle_poll=idle_poll, ready_timeout=SETTLE)


# -- (a) raw Kafka round trip -------------------------------------------------------------------


async def raw_round_trip(bootstrap: str, count: int) -> list[float]:
    """One message in flight at a time: produce (acks=all) → the consumer returns it."""
    topic = "bench.raw-round-trip"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=15_000)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, enable_idempotence=True, acks="all", linger_ms=0
    )
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, isolation_level="read_committed",
        fetch_max_wait_ms=500, auto_offset_reset="latest",
    )  # fmt: skip
    await producer.start()
    await consumer.start()
    try:
        partition = TopicPartition(topic, 0)
        consumer.assign([partition])
        await consumer.seek_to_end(partition)
        latencies: list[float] = []
        value = b"x" * 600  # about a booking request's envelope
        for n in range(count + 50):  # 50 warm-up messages, not timed
            key = str(n).encode()
            started = time.perf_counter()
            await producer.send_and_wait(topic, value, key=key)
            got = False
            deadline = time.monotonic() + 30
            while not got:  # bounded by the deadline
                if time.monotonic() > deadline:
                    raise TimeoutError(f"message {n} not consumed in 30 s")
                batch = await consumer.getmany(partition, timeout_ms=1000)
                got = any(m.key == key for ms_ in batch.values() for m in ms_)
            if n >= 50:
                latencies.append(time.perf_counter() - started)
        return latencies
    finally:
        await consumer.stop()
        await producer.stop()


# -- seeding through the HTTP APIs --------------------------------------------------------------


@dataclass
class Seed:
    saga_slots: list[tuple[str, str]]  # (offering id, slot id)
    command_slots: list[str]  # slot ids for the slot-hold measurement
    wallets: dict[str, str]  # employee id → wallet id
    employees: list[str]


class Api:
    def __init__(self, urls: dict[str, str], issuer: DevIssuer, client: httpx.AsyncClient) -> None:
        self.urls = urls
        self.issuer = issuer
        self.client = client
        self._tokens: dict[tuple[str, str | None], str] = {}

    def token(self, role: str, subject: str | None = None) -> str:
        key = (role, subject)
        if key not in self._tokens:
            self._tokens[key] = self.issuer.mint(role, subject, ttl=timedelta(hours=2))
        return self._tokens[key]

    async def call(
        self, service: str, method: str, path: str, role: str, subject: str | None = None,
        **kw: Any,
    ) -> httpx.Response:  # fmt: skip
        headers = {"Authorization": f"Bearer {self.token(role, subject)}"}
        headers.update(kw.pop("headers", {}))
        return await self.client.request(method, self.urls[service] + path, headers=headers, **kw)

    async def ok(
        self, service: str, method: str, path: str, role: str, subject: str | None = None,
        **kw: Any,
    ) -> Any:  # fmt: skip
        r = await self.call(service, method, path, role, subject, **kw)
        if not r.is_success:
            raise RuntimeError(f"{method} {path}: {r.status_code} {r.text[:500]}")
        return r.json()


def fiscal_code(n: int) -> str:
    body = f"RSSMRA{(n // 28_000) % 100:02d}T{1 + (n // 1000) % 28:02d}A{n % 1000:03d}"
    return body + fiscal_code_check_character(body)


async def seed(api: Api, offerings: int, employees: int, bookings: int) -> Seed:
    starts = datetime.now(UTC).replace(microsecond=0) + timedelta(days=10)
    saga_slots: list[tuple[str, str]] = []
    command_slots: list[str] = []
    for n in range(offerings + 2):  # the last two: the slot-hold measurement's own
        provider = f"coop-{n}"
        vat_base = f"0261848{n + 1:03d}"  # office code 001-100
        await api.ok("catalog", "POST", "/providers", "operator", json={
            "provider_id": provider, "legal_name": f"Cooperativa {provider}", "kind": "coop_a",
            "vat_number": vat_base + vat_number_check_digit(vat_base),
            "municipalities": [MUNICIPALITY],
        })  # fmt: skip
        await api.ok("catalog", "POST", f"/providers/{provider}/accreditation", "operator")
        offering = await api.ok("catalog", "POST", f"/providers/{provider}/offerings",
            "provider", provider, json={
                "title_it": f"Assistenza {n}", "description_it": "A domicilio",
                "category": CATEGORY, "delivery_mode": "at_home", "price_cents": PRICE,
                "unit": "session", "terms": {"instant": True},
            })  # fmt: skip
        offering_id = str(offering["offering_id"])
        await api.ok("catalog", "POST", f"/offerings/{offering_id}/publication", "provider",
                     provider)  # fmt: skip
        slot_start = starts + timedelta(hours=n)
        slot = await api.ok("catalog", "POST", f"/offerings/{offering_id}/slots", "provider",
            provider, json={
                "starts_at": slot_start.isoformat(),
                "ends_at": (slot_start + timedelta(hours=1)).isoformat(), "capacity": CAPACITY,
            })  # fmt: skip
        if n < offerings:
            saga_slots.append((offering_id, str(slot["id"])))
        else:
            command_slots.append(str(slot["id"]))
    year = datetime.now(UTC).year
    credit = max(100_000, (bookings // employees + 50) * PRICE * 4)
    plan = await api.ok("wallet", "POST", "/plans", "employer", "acme", json={
        "vat_number": "06363391001", "year": year, "starts_on": f"{year}-01-01",
        "ends_on": f"{year}-12-31", "budget_cents": credit * employees,
        "credit_per_employee_cents": credit, "categories": [CATEGORY], "end_policy": "reset",
    })  # fmt: skip
    names = [f"emp-{n}" for n in range(employees)]
    rows = "".join(f"{e},{fiscal_code(n)},no\n" for n, e in enumerate(names))
    report = await api.ok("wallet", "POST", f"/plans/{plan['plan_id']}/employees.csv",
        "employer", "acme", content=f"employee_id,fiscal_code,dependent_children\n{rows}".encode(),
        headers={"Content-Type": "text/csv"})  # fmt: skip
    wallets = {str(r["employee_id"]): str(r["wallet_id"]) for r in report["loaded"]}
    if len(wallets) != employees:
        raise RuntimeError(f"{employees - len(wallets)} employees not loaded: {report}")
    # the booking service learns the offerings from the catalog's events: wait for each
    for offering_id, slot_id in saga_slots:
        parts = [{"offering_id": offering_id, "slot_id": slot_id}]
        body = {"request_id": "probe", "components": parts,
                "funding": {"split": [{"source": "co_payment", "amount_cents": 1}]}}  # fmt: skip
        deadline = time.monotonic() + SETTLE
        while True:  # bounded by the deadline
            r = await api.call("booking", "POST", "/bookings", "beneficiary", names[0], json=body)
            if r.status_code == 422 and r.json().get("code") == "invalid_split":
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"offering {offering_id} not known to the booking: {r.text}")
            await asyncio.sleep(0.2)
    return Seed(saga_slots, command_slots, wallets, names)


# -- closed-loop load ---------------------------------------------------------------------------


async def closed_loop(
    count: int, concurrency: int, one: Callable[[int], Awaitable[float | None]]
) -> tuple[float, list[float], int]:
    """``count`` calls of ``one`` by ``concurrency`` callers: (wall seconds, latencies of the
    calls that succeeded, failures). ``one`` returns its latency or None for a failure."""
    latencies: list[float] = []
    failures = 0
    next_index = iter(range(count))

    async def caller() -> None:
        nonlocal failures
        for i in next_index:  # shared: bounded by count
            latency = await one(i)
            if latency is None:
                failures += 1
            else:
                latencies.append(latency)

    started = time.perf_counter()
    await asyncio.gather(*(caller() for _ in range(concurrency)))
    return time.perf_counter() - started, latencies, failures


@dataclass
class Measured:
    name: str
    count: int
    seconds: float
    latencies: list[float]
    failures: int
    cpu: dict[str, float]  # CPU seconds per process group during the measurement

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds


async def measured(
    name: str, groups: dict[str, int], count: int, concurrency: int,
    one: Callable[[int], Awaitable[float | None]],
) -> Measured:  # fmt: skip
    before = {k: group_cpu_seconds(pgid) for k, pgid in groups.items()}
    own = time.process_time()
    seconds, latencies, failures = await closed_loop(count, concurrency, one)
    cpu = {k: group_cpu_seconds(pgid) - before[k] for k, pgid in groups.items()}
    cpu["bench"] = time.process_time() - own
    return Measured(name, count, seconds, latencies, failures, cpu)


def parse_at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


async def run(args: argparse.Namespace) -> int:
    print(f"# booking saga bench — cores={os.cpu_count()}, python {sys.version.split()[0]}, "
          f"{load()} at start")  # fmt: skip
    root = Path(tempfile.mkdtemp(prefix="bench-booking-"))
    with contextlib.ExitStack() as stack:
        stack.callback(shutil.rmtree, root, ignore_errors=True)
        broker = stack.enter_context(kafka_broker(root))
        running = stack.enter_context(services(root, broker.bootstrap, args.relay_idle_poll))
        groups = {n: s.process.pid for n, s in running.items()}
        if broker.pid is not None:
            groups["kafka"] = broker.pid
        issuer = DevIssuer(TERRITORY, root / "keys")
        limits = httpx.Limits(max_connections=4 * args.concurrency)
        client = httpx.AsyncClient(timeout=60, limits=limits)
        try:
            api = Api({n: s.url for n, s in running.items()}, issuer, client)

            # (a) raw Kafka round trip, before anything else loads the broker
            raw = await raw_round_trip(broker.bootstrap, args.messages)
            raw_p50, raw_p99 = percentile(raw, 0.5), percentile(raw, 0.99)
            print(f"relays' idle poll {args.relay_idle_poll} s; {args.concurrency} callers")
            print(f"(a) raw round trip over {len(raw)} messages: p50 {ms(raw_p50)} ms, "
                  f"p99 {ms(raw_p99)} ms; {load()}")  # fmt: skip

            started = time.perf_counter()
            data = await seed(api, args.offerings, args.employees, args.bookings)
            print(f"seeded {args.offerings + 2} offerings, {args.employees} employees in "
                  f"{time.perf_counter() - started:.1f} s")  # fmt: skip

            # (b) single commands alone
            expires = (datetime.now(UTC) + timedelta(days=1)).isoformat()
            run_id = uuid.uuid4().hex[:6]

            def wallet_hold(prefix: str) -> Callable[[int], Awaitable[float | None]]:
                async def one(i: int) -> float | None:
                    employee = data.employees[i % len(data.employees)]
                    t = time.perf_counter()
                    r = await api.call("wallet", "POST",
                        f"/wallets/{data.wallets[employee]}/holds", "beneficiary", employee,
                        json={"request_id": f"{prefix}-{run_id}-{i}", "amount_cents": 1,
                              "provider_id": "coop-x", "category": CATEGORY,
                              "expires_at": expires})  # fmt: skip
                    return time.perf_counter() - t if r.status_code == 201 else None

                return one

            def slot_hold(prefix: str) -> Callable[[int], Awaitable[float | None]]:
                async def one(i: int) -> float | None:
                    slot_id = data.command_slots[i % len(data.command_slots)]
                    employee = data.employees[i % len(data.employees)]
                    t = time.perf_counter()
                    r = await api.call("catalog", "POST", f"/slots/{slot_id}/holds",
                                       "beneficiary", employee,
                                       json={"request_id": f"{prefix}-{run_id}-{i}"})  # fmt: skip
                    return time.perf_counter() - t if r.is_success else None

                return one

            await closed_loop(32, args.concurrency, wallet_hold("warm"))
            await closed_loop(32, args.concurrency, slot_hold("warm"))
            wallet_m = await measured("wallet hold (HTTP)", groups, args.commands,
                                      args.concurrency, wallet_hold("wh"))  # fmt: skip
            slot_m = await measured("slot hold (HTTP)", groups, args.commands,
                                    args.concurrency, slot_hold("sh"))  # fmt: skip
            for m in (wallet_m, slot_m):
                print(f"(b) {m.name}: {m.rate:.1f} ops/s, p50 {ms(percentile(m.latencies, .5))}"
                      f" ms, p99 {ms(percentile(m.latencies, .99))} ms, "
                      f"{m.failures} failed; {load()}")  # fmt: skip
            await asyncio.sleep(3)  # the relays publish those holds; the booking skips them

            # (c) the saga
            timelines: dict[int, dict[str, Any]] = {}
            gets: list[float] = []  # each poll's GET /bookings/{id}, answered
            outcome: dict[str, int] = {}

            def book(prefix: str) -> Callable[[int], Awaitable[float | None]]:
                async def one(i: int) -> float | None:
                    employee = data.employees[i % len(data.employees)]
                    offering_id, slot_id = data.saga_slots[i % len(data.saga_slots)]
                    body = {
                        "request_id": f"{prefix}-{run_id}-{i}",
                        "components": [{"offering_id": offering_id, "slot_id": slot_id}],
                        "funding": {"wallet": {"wallet_id": data.wallets[employee],
                                               "available_cents": PRICE}},
                    }  # fmt: skip
                    sent, t = time.time(), time.perf_counter()
                    r = await api.call("booking", "POST", "/bookings", "beneficiary", employee,
                                       json=body)  # fmt: skip
                    answered, polls = time.time(), 0
                    if r.status_code != 202:
                        outcome[f"post {r.status_code}"] = (
                            outcome.get(f"post {r.status_code}", 0) + 1
                        )
                        return None
                    booking_id = r.json()["booking_id"]
                    deadline = time.monotonic() + SETTLE
                    while time.monotonic() < deadline:  # bounded by the deadline
                        asked = time.perf_counter()
                        view = (await api.call("booking", "GET", f"/bookings/{booking_id}",
                                               "beneficiary", employee)).json()  # fmt: skip
                        gets.append(time.perf_counter() - asked)
                        status, polls = view.get("status"), polls + 1
                        if status in ("confirmed", "compensated"):
                            latency = time.perf_counter() - t
                            view["bench"] = {"sent": sent, "answered": answered,
                                             "seen": time.time(), "polls": polls}  # fmt: skip
                            outcome[status] = outcome.get(status, 0) + 1
                            if prefix == "saga":
                                timelines[i] = view
                            return latency if status == "confirmed" else None
                        await asyncio.sleep(POLL)
                    outcome["timed out"] = outcome.get("timed out", 0) + 1
                    return None

                return one

            await closed_loop(args.concurrency, args.concurrency, book("warm"))
            outcome.clear()
            gets.clear()
            saga = await measured("saga", groups, args.bookings, args.concurrency, book("saga"))
            print(
                f"(c) saga: {saga.rate:.1f} bookings/s over {saga.count} "
                f"({saga.seconds:.1f} s), p50 {ms(percentile(saga.latencies, 0.5))} ms, "
                f"p99 {ms(percentile(saga.latencies, 0.99))} ms; outcomes {outcome}; {load()}"
            )

            # the booking's own timeline: requested → held → confirmed
            steps: dict[str, list[float]] = {"slot_held": [], "funds_held": [], "confirmed": []}
            for view in timelines.values():
                at = {line["step"]: parse_at(line["at"]) for line in view["timeline"]}
                if "requested" not in at:
                    continue
                for step, values in steps.items():
                    if step in at:
                        values.append((at[step] - at["requested"]).total_seconds())
            # the same on one wall clock (client and services share the machine's)
            marks: dict[str, list[float]] = {
                "POST sent → requested (server)": [], "POST answered (client)": [],
                "confirmed (server) → read by a poll": [], "polls per booking": [],
            }  # fmt: skip
            for view in timelines.values():
                at = {line["step"]: parse_at(line["at"]) for line in view["timeline"]}
                b = view["bench"]
                if "requested" in at and "confirmed" in at:
                    marks["POST sent → requested (server)"].append(
                        at["requested"].timestamp() - b["sent"]
                    )
                    marks["confirmed (server) → read by a poll"].append(
                        b["seen"] - at["confirmed"].timestamp()
                    )
                marks["POST answered (client)"].append(b["answered"] - b["sent"])
                marks["polls per booking"].append(b["polls"] / 1000)  # printed as-is by ms()
            marks["GET /bookings/{id} answered (client)"] = gets
            steps.update(marks)
            for step, values in steps.items():
                if values:
                    name = step if " " in step else f"timeline requested → {step}"
                    unit = "" if step.startswith("polls") else " ms"
                    p50, p99 = ms(percentile(values, 0.5)), ms(percentile(values, 0.99))
                    print(f"    {name}: p50 {p50}{unit}, p99 {p99}{unit} (n={len(values)})")

            # CPU per process during each measurement, in % of one core
            print("CPU during the measurement, % of one core: "
                  + ", ".join(f"{k}" for k in [*groups, "bench"]))  # fmt: skip
            for m in (wallet_m, slot_m, saga):
                shares = ", ".join(f"{k} {100 * v / m.seconds:.0f}" for k, v in m.cpu.items())
                print(f"    {m.name}: {shares}")

            slowest = min(wallet_m, slot_m, key=lambda m: m.rate)
            saga_p99 = percentile(saga.latencies, 0.99)
            latency_ratio = saga_p99 / (raw_p99 * HOPS)
            rate_ratio = saga.rate / slowest.rate
            print(f"ratio saga p99 / (raw p99 x {HOPS} hops) = {ms(saga_p99)} / "
                  f"({ms(raw_p99)} x {HOPS}) = {latency_ratio:.1f}  (goal ≤ 3: "
                  f"{'met' if latency_ratio <= 3 else 'not met'})")  # fmt: skip
            print(f"ratio saga bookings/s ÷ slowest command ({slowest.name}) = {saga.rate:.1f} ÷ "
                  f"{slowest.rate:.1f} = {rate_ratio:.2f}  (goal ≥ 0.33: "
                  f"{'met' if rate_ratio >= 1 / 3 else 'not met'})")  # fmt: skip
            print(f"# {load()} at the end")
        finally:
            await client.aclose()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bookings", type=int, default=200, help="timed bookings (c)")
    parser.add_argument("--concurrency", type=int, default=16, help="callers for (b) and (c)")
    parser.add_argument("--commands", type=int, default=400, help="timed holds per command (b)")
    parser.add_argument("--messages", type=int, default=500, help="raw round trips (a)")
    parser.add_argument("--offerings", type=int, default=8, help="instant offerings booked")
    parser.add_argument("--employees", type=int, default=32, help="employees in the plan")
    parser.add_argument(
        "--relay-idle-poll", type=float, default=0.05,
        help="the relays' wait when the outbox is empty (BENECOMUNE_RELAY_IDLE_POLL_SECONDS; "
        "0.05 as in the integration tests, the services' default is 0.2)",
    )  # fmt: skip
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    args = parser.parse_args()
    if args.quick:
        args.bookings, args.commands, args.messages = 40, 64, 100
        args.concurrency, args.offerings, args.employees = 8, 2, 8
    if min(args.bookings, args.concurrency, args.commands, args.messages) < 1:
        parser.error("sizes must be positive")
    logging.basicConfig(level=logging.ERROR)
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)  # a new topic's first metadata
    return asyncio.run(run(args))


if __name__ == "__main__":
    raise SystemExit(main())
