"""Benecomune's first benchmark: the real pieces, measured against in-run baselines.

Starts its own Kafka broker (KRaft, from the Maven jars) in a temporary directory on free ports,
then measures, once each after a short warm-up:

1. raw aiokafka produce (idempotent, acks=all, ~1 KB and ~300 B) and consume, 6 partitions;
2. raw eventsourcing ``save()`` on the service store: one event per save, 50 aggregates per save;
3. the vouchers command path (``top_up_fund``: get → change → save), against 2(a);
4. the outbox relay (``OutboxRelay.publish_batch`` until drained), against raw produce;
5. the idempotent consumer's effects (notices recorded), against 2(a);

plus a breakdown of the same work without Kafka (B1-B3) that shows where the time goes. Every
row also shows the CPU used meanwhile by this Python process and by the broker's JVM, in percent
of one core (the machine's total is 100 times nproc).

Run: ``.venv/bin/python bench/run.py [--events N] [--store sqlite|postgres]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import logging
import os
import platform
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from benecomune_contracts import CE_SUBJECT, EventEnvelope, parse_event
from devstack.kafka import KafkaBroker, kafka_version
from devstack.ports import free_port
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import Tracking
from eventsourcing.system import ProcessApplication
from notifications.application.app import NotificationsApplication
from notifications.service import DEFINITION as NOTIFICATIONS
from notifications.settings import NotificationsSettings
from prometheus_client import REGISTRY
from servicekit.logging import configure_logging
from servicekit.relay import event_id
from servicekit.service import ServiceRuntime
from servicekit.settings import ServiceSettings
from servicekit.store import ServiceApplication
from vouchers.application.app import VouchersApplication
from vouchers.application.commands import AllocateFund, TopUpFund
from vouchers.service import DEFINITION as VOUCHERS
from vouchers.settings import VouchersSettings

TOPIC_PREFIX = "bench."
RAW_PARTITIONS = 6
RAW_SIZES = (1024, 300)
CHUNK = 500  # futures awaited per chunk in the raw produce loop (= the relay's batch size)
SAVE_BATCH = 50
WARMUP_SAVES = 200
WARMUP_MESSAGES = 500
MUNICIPALITY = "096004"  # Biella, in the default territory
WAIT_SECONDS = 300.0
CONSUME_SECONDS = 1.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# -- clocks: wall time, and CPU of this process and of the broker --------------------------------


def process_cpu_seconds(pid: int | None) -> float:
    """utime + stime of a process (all its threads), from /proc; 0 if it is not there."""
    if pid is None:
        return 0.0
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()  # the command name may contain spaces
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


@dataclass(frozen=True)
class Span:
    seconds: float
    py_cpu: float  # CPU seconds of this Python process (every thread)
    kafka_cpu: float  # CPU seconds of the broker's JVM


class Clock:
    broker_pid: int | None = None

    def __init__(self) -> None:
        self.wall = time.perf_counter()
        self.py = time.process_time()
        self.kafka = process_cpu_seconds(self.broker_pid)

    def stop(self) -> Span:
        return Span(
            time.perf_counter() - self.wall,
            time.process_time() - self.py,
            process_cpu_seconds(self.broker_pid) - self.kafka,
        )


# -- the table ----------------------------------------------------------------------------------


@dataclass
class Row:
    key: str
    label: str
    count: int
    span: Span
    unit: str
    baseline: str | None = None  # key of the row this one is compared with
    note: str = ""

    @property
    def rate(self) -> float:
        return self.count / self.span.seconds if self.span.seconds > 0 else float("inf")

    def cpu(self) -> str:
        s = self.span
        return f"{100 * s.py_cpu / s.seconds:>4.0f}%  {100 * s.kafka_cpu / s.seconds:>4.0f}%"


class Report:
    LABEL = 60

    def __init__(self) -> None:
        self.rows: dict[str, Row] = {}

    def add(self, row: Row) -> Row:
        self.rows[row.key] = row
        ratio = self.ratio(row)
        shown = f"  ({ratio})" if ratio else ""
        print(f"  .. {row.key:<4} {row.label}: {row.rate:,.0f} {row.unit}{shown}", flush=True)
        return row

    def ratio(self, row: Row) -> str:
        base = self.rows.get(row.baseline) if row.baseline else None
        if base is None:
            return ""
        return f"{row.rate / base.rate:.2f} x {base.key}"

    def lines(self) -> list[str]:
        header = (
            f"{'#':<4} {'measurement':<{self.LABEL}} {'count':>6} {'s':>6} {'rate':>8} "
            f"{'unit':<9} {'ratio':<11} {'py cpu':>6} {'kafka':>5}"
        )
        lines = [header, "-" * len(header)]
        for row in self.rows.values():
            lines.append(
                f"{row.key:<4} {row.label:<{self.LABEL}} {row.count:>6} {row.span.seconds:>6.2f} "
                f"{row.rate:>8,.0f} {row.unit:<9} {self.ratio(row) or 'baseline':<11} {row.cpu()}"
            )
            if row.note:
                lines.append(f"{'':<5}{row.note}")
        return lines


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def latency_note(seconds: list[float]) -> str:
    ms = [s * 1000 for s in seconds]
    return (
        f"latency per call: p50 {percentile(ms, 0.50):.2f} ms, p99 {percentile(ms, 0.99):.2f} ms, "
        f"max {max(ms):.2f} ms"
    )


# -- machine and set-up -------------------------------------------------------------------------


def machine_info(store: str) -> list[str]:
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return [
        f"date        {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}",
        f"machine     nproc {usable} ({cpu}), {platform.system()} {platform.release()}",
        f"python      {platform.python_version()} ({platform.python_implementation()})",
        f"kafka       {kafka_version()} (single KRaft node, this machine, 127.0.0.1)",
        f"libraries   aiokafka {version('aiokafka')}, eventsourcing {version('eventsourcing')}, "
        f"sqlite {sqlite3.sqlite_version}",
        f"store       {store}",
        f"code        {code_revision()}",
        f"load        {load_average()} (1, 5, 15 min) at the start",
    ]


def code_revision() -> str:
    """The commit measured; "-dirty" when the work tree differs from it."""
    try:
        result = subprocess.run(
            ["git", "describe", "--always", "--dirty", "--abbrev=10"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except OSError:
        return "unknown (no git)"
    return result.stdout.strip() or "unknown"


def read_path(app: ServiceApplication) -> str:
    """How the application's repository gets an aggregate: cache, snapshots or full replay."""
    repository = app.repository
    cache = repository.cache
    snapshots = "snapshots on" if repository.snapshot_store is not None else "no snapshots"
    if cache is None:
        return f"get = replay of the stream ({snapshots})"
    ff = "fast-forward" if repository.fastforward else "no fast-forward"
    return f"get = aggregate cache ({ff}, deep copy), {snapshots}"


def load_average() -> str:
    return ", ".join(f"{value:.2f}" for value in os.getloadavg())


@dataclass
class Stack:
    bootstrap: str
    root: Path
    store: str
    postgres: dict[str, str] | None = None

    def settings_kwargs(self, service: str) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "kafka_bootstrap": self.bootstrap,
            "kafka_topic_prefix": TOPIC_PREFIX,
            "keys_dir": self.root / "keys",
            "store": self.store,
            "data_dir": self.root / "data" / service,
            "log_level": "WARNING",
        }
        if self.postgres is not None:
            kwargs.update({f"postgres_{k}": v for k, v in self.postgres.items()})
            kwargs["postgres_schema"] = service.replace("-", "_")
        return kwargs


@contextlib.contextmanager
def kafka_broker(root: Path) -> Iterator[KafkaBroker]:
    broker = KafkaBroker(root / "kafka", port=free_port(), controller_port=free_port())
    broker.fetch_jars()
    broker.ensure_formatted()
    started = time.perf_counter()
    broker.start()
    try:
        broker.wait_ready(timeout=120)
        print(f"Kafka ready on {broker.bootstrap} in {time.perf_counter() - started:.1f} s")
        Clock.broker_pid = broker.pid
        yield broker
    finally:
        broker.stop()


@contextlib.contextmanager
def postgres_cluster(root: Path) -> Iterator[dict[str, str]]:
    try:
        from devstack.postgres import PostgresCluster
    except ImportError:
        raise SystemExit("--store postgres needs devstack.postgres, which is not there") from None
    # fsync on: a commit is as durable as SQLite's (the test clusters run with fsync off).
    cluster = PostgresCluster(data_dir=root / "postgres", fsync=True)
    cluster.start()
    try:
        cluster.create_database("bench")
        print(f"PostgreSQL ready on {cluster.host}:{cluster.port} (fsync on)")
        yield {
            "host": cluster.host,
            "port": str(cluster.port),
            "dbname": "bench",
            "user": cluster.user,
            "password": "unused-trust-auth",
        }
    finally:
        cluster.stop()


async def wait_for(probe: Callable[[], Awaitable[bool]], what: str) -> None:
    deadline = time.perf_counter() + WAIT_SECONDS
    while not await probe():
        if time.perf_counter() > deadline:
            raise TimeoutError(f"timed out after {WAIT_SECONDS} s waiting for {what}")
        await asyncio.sleep(0.02)


# -- 1. raw Kafka -------------------------------------------------------------------------------


async def create_topics(bootstrap: str, names: list[str]) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=15_000)
    await admin.start()
    try:
        await admin.create_topics(
            [NewTopic(n, num_partitions=RAW_PARTITIONS, replication_factor=1) for n in names]
        )
    finally:
        await admin.close()


def raw_producer(bootstrap: str) -> AIOKafkaProducer:
    # The relay's producer settings: idempotent (forces acks=all), linger 5 ms.
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap, enable_idempotence=True, acks="all", linger_ms=5
    )


async def produce(producer: AIOKafkaProducer, topic: str, count: int, size: int) -> None:
    value = b"x" * size
    keys = [str(uuid.uuid4()).encode() for _ in range(256)]  # like aggregate ids
    sent = 0
    while sent < count:
        n = min(CHUNK, count - sent)
        futures = [
            await producer.send(topic, value=value, key=keys[(sent + i) % len(keys)])
            for i in range(n)
        ]
        await asyncio.gather(*futures)
        sent += n


async def consume(bootstrap: str, topic: str, per_pass: int) -> tuple[int, Span]:
    """Read the whole topic from the beginning (no group: nothing to join), again and again
    until at least a second has passed: one pass alone is too short to time."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        isolation_level="read_committed",
        max_poll_records=CHUNK,
    )
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in range(RAW_PARTITIONS)]
        consumer.assign(partitions)
        seen = 0
        clock = Clock()
        while seen == 0 or time.perf_counter() - clock.wall < CONSUME_SECONDS:
            await consumer.seek_to_beginning(*partitions)
            target = seen + per_pass
            while seen < target:
                batches = await consumer.getmany(timeout_ms=1000, max_records=CHUNK)
                seen += sum(len(records) for records in batches.values())
        return seen, clock.stop()
    finally:
        await consumer.stop()


async def bench_raw_kafka(report: Report, bootstrap: str, messages: int) -> None:
    topics = {size: f"{TOPIC_PREFIX}raw-{size}b" for size in RAW_SIZES}
    await create_topics(bootstrap, list(topics.values()))
    producer = raw_producer(bootstrap)
    await producer.start()
    try:
        for size, topic in topics.items():
            await produce(producer, topic, WARMUP_MESSAGES, size)  # connections, metadata
            clock = Clock()
            await produce(producer, topic, messages, size)
            report.add(
                Row(
                    f"1p{'k' if size >= 1000 else 's'}",
                    f"raw produce {size} B, idempotent acks=all, {CHUNK}/chunk",
                    messages,
                    clock.stop(),
                    "msgs/s",
                )
            )
    finally:
        await producer.stop()
    for size, topic in topics.items():
        total, span = await consume(bootstrap, topic, WARMUP_MESSAGES + messages)
        report.add(
            Row(
                f"1c{'k' if size >= 1000 else 's'}",
                f"raw consume {size} B, 6 partitions, re-read for ≥ 1 s",
                total,
                span,
                "msgs/s",
            )
        )


# -- 2. raw saves -------------------------------------------------------------------------------


class Tick(Aggregate):
    """The smallest aggregate: one created event with one small attribute."""

    def __init__(self, n: int) -> None:
        self.n = n


class BenchApplication(ServiceApplication):
    """A service application (same recorder, same store settings) with no domain of its own,
    whose ``save`` is eventsourcing's own (the kit overrides it: row 2c measures the kit's)."""

    def save(self, *objs: Any, **kwargs: Any) -> Any:
        return ProcessApplication.save(self, *objs, **kwargs)

    def kit_save(self, *objs: Any, **kwargs: Any) -> Any:
        return ServiceApplication.save(self, *objs, **kwargs)


def bench_saves(report: Report, stack: Stack, events: int) -> None:
    app = BenchApplication(ServiceSettings(service_name="bench", **stack.settings_kwargs("bench")))
    for n in range(WARMUP_SAVES):
        app.save(Tick(n))
    latencies: list[float] = []
    clock = Clock()
    for n in range(events):
        tick = Tick(n)
        t0 = time.perf_counter()
        app.save(tick)
        latencies.append(time.perf_counter() - t0)
    label = "eventsourcing save(): 1 new aggregate (1 event) per save"
    row = report.add(Row("2a", label, events, clock.stop(), "events/s"))
    row.note = latency_note(latencies)

    for _ in range(5):
        app.save(*(Tick(n) for n in range(SAVE_BATCH)))
    batches = max(1, events // SAVE_BATCH)
    clock = Clock()
    for _ in range(batches):
        app.save(*(Tick(n) for n in range(SAVE_BATCH)))
    span = clock.stop()
    row = report.add(
        Row(
            "2b",
            f"eventsourcing save(): {SAVE_BATCH} new aggregates per save",
            batches * SAVE_BATCH,
            span,
            "events/s",
            baseline="2a",
        )
    )
    row.note = f"= {batches / span.seconds:,.0f} saves/s (transactions), {SAVE_BATCH} events each"

    for n in range(WARMUP_SAVES):
        app.kit_save(Tick(n))
    clock = Clock()
    for n in range(events):
        app.kit_save(Tick(n))
    label = "ServiceApplication.save (the kit's): 1 aggregate per save"
    report.add(Row("2c", label, events, clock.stop(), "events/s", baseline="2a"))
    app.close()


# -- 3. the command path ------------------------------------------------------------------------


def bench_commands(report: Report, stack: Stack, events: int) -> VouchersApplication:
    """Write exactly ``events`` events into a vouchers store; time the top-ups among them."""
    app = VouchersApplication(VouchersSettings(**stack.settings_kwargs("vouchers")))
    funds = max(2, events // 5)
    warmup_funds = min(WARMUP_SAVES, funds // 4)
    warmup = min(WARMUP_SAVES, (events - funds) // 4)
    timed = events - funds - warmup

    def allocate(n: int) -> Any:
        return app.allocate_fund(
            AllocateFund(
                municipality_istat=MUNICIPALITY,
                source_kind="state_transfer",
                source_reference=f"bench #{n}",
                amount_cents=100_000 + n,
            )
        )

    fund_ids = [allocate(n) for n in range(warmup_funds)]
    clock = Clock()
    fund_ids += [allocate(n) for n in range(warmup_funds, funds)]
    report.add(
        Row(
            "3a",
            "vouchers allocate_fund (new aggregate → save)",
            funds - warmup_funds,
            clock.stop(),
            "calls/s",
            "2a",
        )
    )

    def top_up(i: int) -> None:
        app.top_up_fund(
            fund_ids[i % funds],
            TopUpFund(source_kind="donation", source_reference=f"top-up {i}", amount_cents=100),
        )

    for i in range(warmup):
        top_up(i)
    latencies: list[float] = []
    clock = Clock()
    for i in range(warmup, warmup + timed):
        t0 = time.perf_counter()
        top_up(i)
        latencies.append(time.perf_counter() - t0)
    row = report.add(
        Row(
            "3b",
            f"vouchers top_up_fund (get → change → save), {funds} funds",
            timed,
            clock.stop(),
            "calls/s",
            baseline="2a",
        )
    )
    row.note = latency_note(latencies) + f"; funds end with ~{events // funds} events each"
    row.note += f"\n{'':<5}{read_path(app)}"
    return app


# -- 4. the relay -------------------------------------------------------------------------------


async def bench_relay(report: Report, vouchers: VouchersApplication) -> int:
    runtime = ServiceRuntime(VOUCHERS, vouchers.settings)
    runtime._application = vouchers  # the store written by the command benchmark
    relay = runtime.relay()
    assert relay is not None
    total = vouchers.recorder.max_notification_id() or 0
    producer = relay.new_producer()
    await producer.start()
    try:
        await producer.partitions_for(relay.topic)  # warm-up: connection and topic metadata
        published = batches = 0
        clock = Clock()
        while published < total:
            covered = await relay.publish_batch(producer)
            if covered == 0:
                raise RuntimeError(f"relay stopped at {published} of {total}")
            published += covered
            batches += 1
        span = clock.stop()
    finally:
        await producer.stop()
    row = report.add(
        Row(
            "4",
            f"relay publish_batch until drained (batch {relay.batch_size})",
            published,
            span,
            "events/s",
            baseline="1ps",
        )
    )
    row.note = f"{batches} batches, one position commit each"
    return published


# -- 5. the consumer ----------------------------------------------------------------------------


async def bench_consumer(report: Report, stack: Stack, expected: int) -> None:
    app = NotificationsApplication(NotificationsSettings(**stack.settings_kwargs("notifications")))
    runtime = ServiceRuntime(NOTIFICATIONS, app.settings)
    runtime._application = app
    consumer = runtime.consumer()
    assert consumer is not None
    (topic,) = consumer.topics

    async def notices() -> int:
        return await asyncio.to_thread(lambda: app.recorder.max_notification_id() or 0)

    async def at_least(n: int) -> bool:
        return await notices() >= n

    stop = asyncio.Event()
    launched = time.perf_counter()
    task = asyncio.create_task(consumer.run(stop))
    try:
        # Warm-up: joining the group, the assignment and the first message are not throughput.
        await wait_for(lambda: at_least(1), "the first notice")
        joined = time.perf_counter() - launched
        first = await notices()
        clock = Clock()
        await wait_for(lambda: at_least(expected), f"{expected} notices")
        span = clock.stop()
        recorded = await notices()
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=30)
    outcomes = {
        outcome: int(
            REGISTRY.get_sample_value(
                "benecomune_events_consumed_total",
                {"service": app.settings.service_name, "topic": topic, "outcome": outcome},
            )
            or 0
        )
        for outcome in ("processed", "duplicate")
    }
    row = report.add(
        Row(
            "5",
            "consumer: 1 notice per event (IdempotentConsumer.run)",
            recorded - first,
            span,
            "events/s",
            baseline="2a",
        )
    )
    row.note = (
        f"timed from the first notice, {joined:.2f} s after start (group join, assignment); "
        f"{recorded} notices in all; messages handled: {outcomes['processed']} processed, "
        f"{outcomes['duplicate']} duplicates"
    )
    app.close()


# -- breakdown: the same work without Kafka -----------------------------------------------------


def bench_breakdown(report: Report, stack: Stack, vouchers: VouchersApplication) -> None:
    runtime = ServiceRuntime(VOUCHERS, vouchers.settings)
    relay = runtime.relay()
    assert relay is not None
    total = vouchers.recorder.max_notification_id() or 0

    # B1: what the relay does per event besides producer.send: read, decode, map, envelope.
    messages: list[tuple[bytes, list[tuple[str, bytes]]]] = []
    clock = Clock()
    position = 1
    while position <= total:
        batch = vouchers.recorder.select_notifications(start=position, limit=relay.batch_size)
        for notification in batch:
            domain_event = vouchers.mapper.to_domain_event(notification)
            contract = relay.to_contract(domain_event)
            if contract is None:
                continue
            envelope = EventEnvelope(
                id=event_id(domain_event.originator_id, domain_event.originator_version),
                source=relay.source,
                type=contract.type_name,
                time=domain_event.timestamp,
                subject=str(domain_event.originator_id),
                notification_id=notification.id,
                correlation_id=getattr(domain_event, "correlation_id", None),
                sequence=domain_event.originator_version,
            )
            messages.append((contract.to_json_bytes(), envelope.to_headers()))
        position = batch[-1].id + 1
    row = report.add(
        Row(
            "B1",
            "relay without Kafka: read, decode, map, envelope",
            total,
            clock.stop(),
            "events/s",
            "4",
        )
    )
    values = sum(len(v) for v, _ in messages) / len(messages)
    headers = sum(len(k) + len(v) for _, h in messages for k, v in h) / len(messages)
    row.note = f"messages: value ~{values:.0f} B + headers ~{headers:.0f} B"

    # B2: the consumer's per-message work on a fresh notifications store, without Kafka.
    kwargs = stack.settings_kwargs("notifications-direct")
    kwargs["service_name"] = "notifications_direct"
    app = NotificationsApplication(NotificationsSettings(**kwargs))
    topic = f"{TOPIC_PREFIX}benecomune.vouchers"
    clock = Clock()
    for offset, (value, headers_) in enumerate(messages):
        envelope = EventEnvelope.from_headers(headers_)
        contract_event = parse_event(envelope.type, value)
        positions = [
            Tracking(f"{topic}#0", envelope.notification_id),
            Tracking(f"kafka:{topic}#0", offset + 1),
        ]
        app.process_message(contract_event, positions, envelope)
    report.add(
        Row(
            "B2",
            "consumer without Kafka: parse + process_message (1 tx each)",
            len(messages),
            clock.stop(),
            "events/s",
            "2a",
        )
    )
    app.close()

    # B3: the read half of the command path: rebuild a fund from its events.
    ids: list[uuid.UUID] = []
    seen: set[str] = set()
    for _, headers_ in messages:
        subject = dict(headers_)[CE_SUBJECT].decode()
        if subject not in seen:
            seen.add(subject)
            ids.append(uuid.UUID(subject))
    reads = min(len(ids) * 5, 5000)
    clock = Clock()
    for i in range(reads):
        vouchers.get_fund(ids[i % len(ids)])
    label = "vouchers get_fund (the read half of 3b)"
    row = report.add(Row("B3", label, reads, clock.stop(), "gets/s", "2a"))
    row.note = read_path(vouchers)


# -- main ---------------------------------------------------------------------------------------


async def run(args: argparse.Namespace, root: Path, bootstrap: str, report: Report) -> None:
    with contextlib.ExitStack() as resources:
        postgres = None
        if args.store == "postgres":
            postgres = resources.enter_context(postgres_cluster(root))
        stack = Stack(bootstrap=bootstrap, root=root, store=args.store, postgres=postgres)
        # The services' topics first: their partition leaders are elected long before the relay
        # sends, so no measurement pays for a topic being born.
        for definition, service in ((VOUCHERS, "vouchers"), (NOTIFICATIONS, "notifications")):
            settings = definition.settings_class(**stack.settings_kwargs(service))
            await ServiceRuntime(definition, settings).prepare_topics()
        print("1. raw Kafka ...", flush=True)
        await bench_raw_kafka(report, bootstrap, args.kafka_messages)
        print("2. raw saves ...", flush=True)
        bench_saves(report, stack, args.events)
        print("3. command path ...", flush=True)
        vouchers = bench_commands(report, stack, args.events)
        print("4. relay ...", flush=True)
        published = await bench_relay(report, vouchers)
        print("5. consumer ...", flush=True)
        await bench_consumer(report, stack, published)
        print("B. breakdown without Kafka ...", flush=True)
        bench_breakdown(report, stack, vouchers)
        vouchers.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/run.py", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--events", type=int, default=5000, help="events per store benchmark (default 5000)"
    )
    parser.add_argument(
        "--kafka-messages",
        type=int,
        default=20_000,
        help="messages per raw produce measurement (default 20000)",
    )
    parser.add_argument("--store", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument(
        "--verbose", action="store_true", help="show aiokafka's warnings (group join, retries)"
    )
    args = parser.parse_args(argv)
    if args.events < 100 or args.kafka_messages < 100:
        parser.error("--events and --kafka-messages must be at least 100")
    configure_logging("bench", "WARNING")
    if not args.verbose:  # the first group join logs "coordinator not available" while it waits
        logging.getLogger("aiokafka").setLevel(logging.CRITICAL)

    info = machine_info(args.store)
    print("\n".join(info), flush=True)
    report = Report()
    wall = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="benecomune-bench-") as tmp:
        root = Path(tmp)
        with kafka_broker(root) as broker:
            asyncio.run(run(args, root, broker.bootstrap, report))
    print()
    print("\n".join(info))
    print(f"events      {args.events} per store benchmark, {args.kafka_messages} raw messages")
    print("cpu         percent of one core during the measurement: this process, the broker JVM")
    print()
    print("\n".join(report.lines()))
    print(f"\nwall time {time.perf_counter() - wall:.0f} s (broker start included)")
    print(f"load at the end {load_average()} (1, 5, 15 min)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
