"""The auditor's replay of the vouchers ledger from Kafka, next to a raw aiokafka consume of the
same topic in the same run (the baseline).

    .venv/bin/python bench/audit_replay.py [--events N] [--pairs K] [--seed S] [--workers W]
        [--profile]

Starts a throw-away Kafka broker (KRaft, from the Maven jars) in a temporary directory on free
ports, writes a realistic vouchers ledger of N valid contract events to a 6-partition topic
(funds, rounds, shops affiliated, households applying, approved or rejected, vouchers committed
and issued, spent at the till in several partial redemptions with their shop credits, a few
voids, expiries and revocations returning money to the rounds, reimbursement claims approved
and paid), every ledger event linked into its stream's hash chain with the contract classes and
:mod:`benecomune_contracts.chain`, published with the relay's key and CloudEvents headers. Then,
each in a fresh process (so its peak memory is its own):

* ``raw``   an aiokafka consumer with the audit's settings reads every message of the topic
  (no group, partitions assigned, up to the end offsets) and does nothing with them; once to
  warm up (page cache, broker), once timed, and once more with Python's cyclic garbage
  collector paused, as the audit's replay pauses it (a second, stricter baseline);
* ``audit`` what ``benecomune audit vouchers --from kafka --compare none`` does:
  ``benecomune_auditor.kafka_copy.read_kafka`` +
  ``benecomune_auditor.vouchers.audit_vouchers(..., figures=None)`` —
  every message parsed and validated against its contract, every hash recomputed and the chain
  checked, the independent tally and its money rules — with the reader processes the audit
  chooses (``--workers`` to fix them). The replay must come out intact and without violations.

``--pairs K`` runs K raw consumes and K replays, alternately, and prints each pair's ratio and
their median (this machine's speed drifts by a sixth within minutes). Printed: messages/s, the
ratios to the raw consumes, CPU of the measuring process (with its
reader processes) and of the broker, peak RSS of the measuring process and of its largest
reader, time in the garbage collector. Generating and writing the ledger is not part of any
figure. ``--profile`` runs the audit under cProfile (its main process) and prints the top.

``--bootstrap`` uses a running broker instead (the topic, ``--topic``, is created and filled
only when it does not exist yet: run twice to measure the same ledger again).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import gc
import json
import logging
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from pathlib import Path
from typing import Any

WARMUP = "warm-up"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
START = datetime(2020, 3, 30, 9, 0, tzinfo=UTC)  # "Cura Italia": OCDPC 658 of 29 March 2020
SOURCE = "/benecomune/napoli/vouchers"
MUNICIPALITY = "063049"  # Napoli
HOUSEHOLDS_PER_ROUND = 40_000
SHOPS_PER_ROUND = 400
WAVE = 500  # households applying together; their vouchers are spent, claimed, then expire
ENTITLEMENTS = (10_000, 15_000, 20_000, 25_000, 30_000, 40_000)
DENOMINATIONS = (5_000, 2_500, 1_000)
CATEGORIES = ("food", "hygiene", "pharmacy", "baby_care")
EVENTS_PER_HOUSEHOLD = 25  # about, with this mix: sizes the rounds for --events


# -- generating a valid ledger -------------------------------------------------------------------


@dataclass
class Voucher:
    voucher_id: str
    round_id: str
    remaining: int
    redemptions: int  # still to make


@dataclass
class Shop:
    account_id: str
    merchant_id: str
    unclaimed: dict[str, int] = field(default_factory=dict)  # redemption id -> cents
    claims: list[tuple[str, int]] = field(default_factory=list)  # approved, not yet paid


class LedgerWriter:
    """Contract events as the vouchers relay publishes them: hash-chained per stream, keyed by
    aggregate id, with CloudEvents headers and a notification id counting from 1."""

    def __init__(self, seed: int) -> None:
        from benecomune_contracts import EventEnvelope
        from benecomune_contracts.chain import GENESIS_HASH
        from servicekit.relay import event_id

        self.rng = random.Random(seed)
        self.heads: dict[str, tuple[int, str]] = {}
        self.versions: dict[str, int] = {}  # non-ledger aggregates (applications)
        self.notification_id = 0
        self.clock = START
        self.genesis = GENESIS_HASH
        self.envelope = EventEnvelope
        self.event_id = event_id

    def new_id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def at(self) -> datetime:
        self.clock += timedelta(microseconds=self.rng.randrange(200_000, 1_800_000))
        return self.clock

    def emit(
        self, out: list[tuple[bytes, bytes, list[tuple[str, bytes]]]], cls: Any, **fields: Any
    ) -> Any:
        """Append one message to ``out``; a ledger event's stream is its ``stream_id``, any
        other event's aggregate is given as ``subject``."""
        from benecomune_contracts.chain import LedgerEvent

        if issubclass(cls, LedgerEvent):
            subject = fields.pop("stream_id")
            sequence, prev_hash = self.heads.get(subject, (0, self.genesis))
            sequence += 1
            draft = cls(
                stream_id=subject,
                sequence=sequence,
                prev_hash=prev_hash,
                event_hash=self.genesis,
                **fields,
            )
            event = draft.model_copy(update={"event_hash": draft.computed_hash()})
            self.heads[subject] = (sequence, event.event_hash)
        else:
            subject = fields.pop("subject")
            sequence = self.versions.get(subject, 0) + 1
            self.versions[subject] = sequence
            event = cls(**fields)
        self.notification_id += 1
        envelope = self.envelope(
            id=self.event_id(uuid.UUID(subject), sequence),
            source=SOURCE,
            type=cls.type_name,
            time=self.clock,
            subject=subject,
            notification_id=self.notification_id,
            sequence=sequence,
        )
        out.append((envelope.kafka_key(), event.to_json_bytes(), envelope.to_headers()))
        return event


def ledger(events: int, seed: int) -> Iterator[list[tuple[bytes, bytes, list[tuple[str, bytes]]]]]:
    """Exactly ``events`` messages, in units that must not be split (a redemption and its shop
    credit, an expiry and the money it returns, ...): the ledger stays valid wherever it ends."""
    from benecomune_contracts import vouchers as c

    w = LedgerWriter(seed)
    left = events
    households = max(1, events // EVENTS_PER_HOUSEHOLD)
    rounds = -(-households // HOUSEHOLDS_PER_ROUND)
    per_round = -(-households // rounds)
    shops_per_round = max(2, min(SHOPS_PER_ROUND, per_round // 50))
    budget = per_round * max(ENTITLEMENTS)

    def unit() -> list[tuple[bytes, bytes, list[tuple[str, bytes]]]]:
        return []

    # Two funds: the State transfer, and donations that top it up.
    funds: list[str] = []
    first = unit()
    for n, kind in enumerate(("state_transfer", "donation")):
        fund_id = w.new_id()
        funds.append(fund_id)
        w.emit(
            first,
            c.FundAllocated,
            stream_id=fund_id,
            fund_id=fund_id,
            municipality_istat=MUNICIPALITY,
            source_kind=kind,
            source_reference="OCDPC 658/2020" if n == 0 else "Fondazione di Comunità",
            amount_cents=budget * ((rounds + 1) // 2),
            allocated_at=w.at(),
        )
    yield first
    left -= len(first)
    shop_serial = 0
    for round_number in range(rounds):
        fund_id = funds[round_number % 2]
        round_id = w.new_id()
        opening = unit()
        w.emit(
            opening,
            c.FundBudgetAssigned,
            stream_id=fund_id,
            fund_id=fund_id,
            round_id=round_id,
            amount_cents=budget,
            assigned_at=w.at(),
        )
        w.emit(
            opening,
            c.RoundOpened,
            stream_id=round_id,
            round_id=round_id,
            fund_id=fund_id,
            municipality_istat=MUNICIPALITY,
            title=f"Buoni spesa Napoli, avviso n. {round_number + 1}",
            opens_at=w.clock,
            closes_at=w.clock + timedelta(days=30),
            budget_cents=budget,
            rules={
                "base_cents": 10_000,
                "per_extra_member_cents": 5_000,
                "per_minor_cents": 5_000,
                "cap_cents": 40_000,
                "isee_threshold_cents": 900_000,
                "other_support": "lower_priority",
            },
            denominations_cents=list(DENOMINATIONS),
            validity_days=30,
            excluded_categories=["alcohol", "tobacco"],
            opened_at=w.at(),
        )
        shops: list[Shop] = []
        for _ in range(shops_per_round):
            shop_serial += 1
            shop = Shop(w.new_id(), f"m-{shop_serial:05d}")
            shops.append(shop)
            w.emit(
                opening,
                c.MerchantAffiliated,
                stream_id=shop.account_id,
                account_id=shop.account_id,
                round_id=round_id,
                merchant_id=shop.merchant_id,
                vat_number=f"{w.rng.randrange(10**10, 10**11):011d}",
                goods_categories=list(CATEGORIES),
                excluded_categories=["alcohol", "tobacco"],
                affiliated_at=w.at(),
            )
        if len(opening) > left:
            break
        yield opening
        left -= len(opening)
        served = 0
        full = False
        while served < per_round and not full:
            wave = min(WAVE, per_round - served)
            served += wave
            for item in _wave(w, c, round_id, shops, wave):
                if len(item) > left:
                    full = True
                    break
                yield item
                left -= len(item)
        if full:
            break
    while left > 0:  # whatever the units could not fill, as top-ups of the State fund
        pad = unit()
        _top_up(w, c, pad, funds[0])
        yield pad
        left -= 1


def _top_up(w: LedgerWriter, c: Any, out: list[Any], fund_id: str) -> None:
    w.emit(
        out,
        c.FundToppedUp,
        stream_id=fund_id,
        fund_id=fund_id,
        source_kind="donation",
        source_reference=f"Donazione n. {w.notification_id}",
        amount_cents=w.rng.randrange(1_000, 500_000),
        topped_up_at=w.at(),
    )


def _wave(
    w: LedgerWriter, c: Any, round_id: str, shops: list[Shop], households: int
) -> Iterator[list[Any]]:
    rng = w.rng
    vouchers: list[Voucher] = []
    for _ in range(households):
        application_id, household_id = w.new_id(), w.new_id()
        out: list[Any] = []
        w.emit(
            out,
            c.ApplicationSubmitted,
            subject=application_id,
            application_id=application_id,
            round_id=round_id,
            household_id=household_id,
            members=rng.randrange(1, 7),
            minors=rng.randrange(0, 3),
            submitted_at=w.at(),
        )
        if rng.random() < 0.04:
            w.emit(
                out,
                c.ApplicationRejected,
                subject=application_id,
                application_id=application_id,
                round_id=round_id,
                household_id=household_id,
                reason_code="isee_above_threshold",
                rejected_at=w.at(),
            )
            yield out
            continue
        entitlement = rng.choice(ENTITLEMENTS)
        w.emit(
            out,
            c.ApplicationApproved,
            subject=application_id,
            application_id=application_id,
            round_id=round_id,
            household_id=household_id,
            entitlement_cents=entitlement,
            priority=rng.randrange(1, 4),
            approved_at=w.at(),
        )
        yield out
        values = _split(entitlement)
        issued = [Voucher(w.new_id(), round_id, v, rng.randrange(1, 5)) for v in values]
        out = []
        w.emit(
            out,
            c.RoundVouchersCommitted,
            stream_id=round_id,
            round_id=round_id,
            application_id=application_id,
            household_id=household_id,
            voucher_ids=[v.voucher_id for v in issued],
            amount_cents=entitlement,
            committed_at=w.at(),
        )
        for voucher in issued:
            w.emit(
                out,
                c.VoucherIssued,
                stream_id=voucher.voucher_id,
                voucher_id=voucher.voucher_id,
                round_id=round_id,
                application_id=application_id,
                household_id=household_id,
                value_cents=voucher.remaining,
                expires_at=w.clock + timedelta(days=30),
                issued_at=w.at(),
            )
        yield out
        vouchers.extend(issued)

    # At the till: the wave's vouchers spent in random order, each in a few partial payments.
    spending = [v for v in vouchers if rng.random() < 0.92]  # a few are never used
    while spending:
        index = rng.randrange(len(spending))
        voucher = spending[index]
        shop = rng.choice(shops)
        last = voucher.redemptions == 1
        amount = voucher.remaining if last and rng.random() < 0.6 else _part(rng, voucher)
        redemption_id = w.new_id()
        out = []
        w.emit(
            out,
            c.VoucherRedeemed,
            stream_id=voucher.voucher_id,
            voucher_id=voucher.voucher_id,
            round_id=round_id,
            redemption_id=redemption_id,
            merchant_id=shop.merchant_id,
            amount_cents=amount,
            goods_category=rng.choice(CATEGORIES),
            remaining_cents=voucher.remaining - amount,
            redeemed_at=w.at(),
        )
        w.emit(
            out,
            c.MerchantCredited,
            stream_id=shop.account_id,
            account_id=shop.account_id,
            merchant_id=shop.merchant_id,
            redemption_id=redemption_id,
            voucher_id=voucher.voucher_id,
            amount_cents=amount,
            credited_at=w.at(),
        )
        if rng.random() < 0.02:  # the shop voids it at the till within 30 minutes
            w.emit(
                out,
                c.VoucherRedemptionVoided,
                stream_id=voucher.voucher_id,
                voucher_id=voucher.voucher_id,
                round_id=round_id,
                redemption_id=redemption_id,
                merchant_id=shop.merchant_id,
                amount_cents=amount,
                voided_at=w.at(),
            )
            w.emit(
                out,
                c.MerchantDebited,
                stream_id=shop.account_id,
                account_id=shop.account_id,
                merchant_id=shop.merchant_id,
                redemption_id=redemption_id,
                amount_cents=amount,
                debited_at=w.at(),
            )
        else:
            voucher.remaining -= amount
            shop.unclaimed[redemption_id] = amount
        yield out
        voucher.redemptions -= 1
        if voucher.redemptions == 0 or voucher.remaining == 0:
            spending[index] = spending[-1]
            spending.pop()

    # The shops claim what they are owed; last wave's approved claims are paid.
    for shop in shops:
        out = []
        for claim_id, amount in shop.claims:
            w.emit(
                out,
                c.ReimbursementPaid,
                stream_id=shop.account_id,
                account_id=shop.account_id,
                claim_id=claim_id,
                merchant_id=shop.merchant_id,
                amount_cents=amount,
                payment_reference=f"MANDATO {w.notification_id}",
                paid_at=w.at(),
            )
        shop.claims = []
        if shop.unclaimed:
            claim_id, amount = w.new_id(), sum(shop.unclaimed.values())
            today = w.clock.date()
            w.emit(
                out,
                c.ReimbursementClaimed,
                stream_id=shop.account_id,
                account_id=shop.account_id,
                claim_id=claim_id,
                merchant_id=shop.merchant_id,
                round_id=round_id,
                period_from=today - timedelta(days=7),
                period_to=today,
                amount_cents=amount,
                redemption_ids=list(shop.unclaimed),
                claimed_at=w.at(),
            )
            w.emit(
                out,
                c.ReimbursementApproved,
                stream_id=shop.account_id,
                account_id=shop.account_id,
                claim_id=claim_id,
                merchant_id=shop.merchant_id,
                amount_cents=amount,
                payment_due_on=today + timedelta(days=30),
                approved_at=w.at(),
            )
            shop.unclaimed = {}
            shop.claims.append((claim_id, amount))
        if out:
            yield out

    # What is left on the vouchers expires (a few are revoked) and returns to the round.
    for voucher in vouchers:
        if voucher.remaining == 0:
            continue
        out = []
        revoked = rng.random() < 0.01
        common = {
            "stream_id": voucher.voucher_id,
            "voucher_id": voucher.voucher_id,
            "round_id": round_id,
            "amount_cents": voucher.remaining,
        }
        if revoked:
            w.emit(out, c.VoucherRevoked, **common, reason_code="fraud", revoked_at=w.at())
        else:
            w.emit(out, c.VoucherExpired, **common, expired_at=w.at())
        w.emit(
            out,
            c.RoundValueReturned,
            stream_id=round_id,
            round_id=round_id,
            voucher_id=voucher.voucher_id,
            amount_cents=voucher.remaining,
            reason="revoked" if revoked else "expired",
            returned_at=w.at(),
        )
        voucher.remaining = 0
        yield out


def _split(cents: int) -> list[int]:
    values = []
    for denomination in DENOMINATIONS:
        while cents >= denomination and len(values) < 6:
            values.append(denomination)
            cents -= denomination
    if cents:
        values.append(cents)
    return values


def _part(rng: random.Random, voucher: Voucher) -> int:
    if voucher.remaining <= 100:
        return voucher.remaining
    return rng.randrange(100, voucher.remaining + 1)


# -- producing ----------------------------------------------------------------------------------


async def create_topic(bootstrap: str, topic: str) -> bool:
    """Create the ledger topic as the services do (6 partitions, kept forever); False if it
    exists already."""
    from aiokafka.admin import AIOKafkaAdminClient
    from benecomune_contracts import VOUCHERS_TOPIC
    from servicekit.topics import ensure_topics

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=15_000)
    await admin.start()
    try:
        if topic in set(await admin.list_topics()):
            return False
    finally:
        await admin.close()
    prefix = topic[: -len(VOUCHERS_TOPIC.name)]
    if prefix + VOUCHERS_TOPIC.name != topic:
        raise SystemExit(f"--topic must end with {VOUCHERS_TOPIC.name}")
    await ensure_topics(bootstrap, [VOUCHERS_TOPIC], prefix)
    return True


async def produce(bootstrap: str, topic: str, events: int, seed: int) -> int:
    """Write the ledger: one producer, keyed by aggregate, large batches, acks from the leader
    (the relay's idempotence buys nothing for a throw-away topic written once)."""
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks=1,
        linger_ms=50,
        max_batch_size=512 * 1024,
        request_timeout_ms=60_000,
    )
    await producer.start()
    sent = 0
    started = time.perf_counter()
    pending: list[asyncio.Future[Any]] = []
    try:
        for unit in ledger(events, seed):
            for key, value, headers in unit:
                pending.append(await producer.send(topic, value=value, key=key, headers=headers))
            sent += len(unit)
            if len(pending) >= 20_000:
                await asyncio.gather(*pending)
                pending = []
                if sent % 100_000 < 20_000 or sent == events:
                    rate = sent / (time.perf_counter() - started)
                    print(f"  .. {sent:>10,} events written ({rate:,.0f}/s)", flush=True)
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return sent


# -- measuring, in a fresh process --------------------------------------------------------------


def process_cpu_seconds(pid: int | None) -> float:
    if pid is None:
        return 0.0
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def peak_rss_mb() -> tuple[float, float]:
    """Peak resident memory of this process and of its largest child (MB)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, children


def cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def own_cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    return own.ru_utime + own.ru_stime


async def partitions_of(bootstrap: str, topic: str) -> list[int]:
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=15_000)
    await admin.start()
    try:
        (described,) = await admin.describe_topics([topic])
    finally:
        await admin.close()
    return sorted(int(p["partition"]) for p in described["partitions"])


async def raw_consume(bootstrap: str, topic: str) -> int:
    """Every message of the topic with the audit's consumer settings, doing nothing with it."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        client_id="benecomune-bench-raw",
        request_timeout_ms=30_000,
        max_partition_fetch_bytes=4 * 1024 * 1024,
    )
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in await partitions_of(bootstrap, topic)]
        consumer.assign(partitions)
        end = await consumer.end_offsets(partitions)
        await consumer.seek_to_beginning(*partitions)
        pending = {tp for tp in partitions if end[tp] > 0}
        seen = 0
        while pending:
            batch = await consumer.getmany(*pending, timeout_ms=500, max_records=10_000)
            for records in batch.values():
                seen += len(records)
            for tp in list(pending):
                if await consumer.position(tp) >= end[tp]:
                    pending.discard(tp)
        return seen
    finally:
        await consumer.stop()


def measure(
    kind: str,
    bootstrap: str,
    topic: str,
    broker_pid: int | None,
    profile: bool,
    workers: int | None = None,
) -> None:
    """Run in a child process: print one JSON line with the figures."""
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    from benecomune_auditor.kafka_copy import read_kafka
    from benecomune_auditor.topic_reader import worker_count
    from benecomune_auditor.vouchers import audit_vouchers

    result: dict[str, Any] = {"kind": kind}
    gc_seconds = [0.0, 0.0]  # in collections; when the current one started

    def gc_clock(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            gc_seconds[1] = time.perf_counter()
        else:
            gc_seconds[0] += time.perf_counter() - gc_seconds[1]

    gc.callbacks.append(gc_clock)
    kafka_cpu = process_cpu_seconds(broker_pid)
    cpu = cpu_seconds()
    own_cpu = own_cpu_seconds()
    started = time.perf_counter()
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    if kind == "audit":
        copy = read_kafka(bootstrap, topic, timeout_seconds=3600, workers=workers)
        result["workers"] = worker_count(copy.ranges, workers)
        audit = audit_vouchers(
            copy.records(), source=f"topic {topic}", problems=copy.problems, figures=None
        )
        count = audit.replay.records
        result.update(
            ok=audit.ok,
            ledger_events=audit.replay.ledger_events,
            other_events=audit.replay.other_events,
            streams=audit.replay.streams,
            summary=audit.summary_lines()[:12] if not audit.ok else audit.summary_lines()[:3],
            vouchers=len(audit.tally.vouchers),
        )
    else:
        if kind == "raw-gc-paused":
            gc.disable()
        count = asyncio.run(raw_consume(bootstrap, topic))
    seconds = time.perf_counter() - started
    if profiler is not None:
        import io
        import pstats

        profiler.disable()
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(35)
        result["profile"] = text.getvalue()
    own, child = peak_rss_mb()
    result.update(
        count=count,
        seconds=seconds,
        cpu=cpu_seconds() - cpu,
        own_cpu=own_cpu_seconds() - own_cpu,
        kafka_cpu=process_cpu_seconds(broker_pid) - kafka_cpu,
        rss_mb=own,
        child_rss_mb=child,
        gc_seconds=gc_seconds[0],
    )
    print(json.dumps(result))


def run_child(
    kind: str,
    bootstrap: str,
    topic: str,
    broker_pid: int | None,
    profile: bool,
    workers: int | None = None,
) -> dict[str, Any]:
    command = [
        sys.executable,
        __file__,
        "--measure",
        kind,
        "--bootstrap",
        bootstrap,
        "--topic",
        topic,
    ]
    if broker_pid is not None:
        command += ["--broker-pid", str(broker_pid)]
    if profile:
        command.append("--profile")
    if workers is not None:
        command += ["--workers", str(workers)]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        sys.stderr.write(completed.stdout + completed.stderr)
        raise SystemExit(f"the {kind} measurement failed (exit {completed.returncode})")
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


# -- the run ------------------------------------------------------------------------------------


def machine_info() -> list[str]:
    from devstack.kafka import kafka_version

    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    revision = subprocess.run(
        ["git", "describe", "--always", "--dirty", "--abbrev=10"],
        cwd=Path(__file__).resolve().parent,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    return [
        f"date        {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}",
        f"machine     nproc {len(os.sched_getaffinity(0))} ({cpu}), {platform.system()} "
        f"{platform.release()}",
        f"python      {platform.python_version()}; aiokafka {version('aiokafka')}, "
        f"pydantic {version('pydantic')}",
        f"kafka       {kafka_version()} (single KRaft node, this machine, 127.0.0.1)",
        f"code        {revision or 'unknown'}",
        f"load        {load} (1, 5, 15 min) at the start",
    ]


@contextlib.contextmanager
def broker_at(bootstrap: str | None) -> Iterator[tuple[str, int | None]]:
    if bootstrap is not None:
        yield bootstrap, None
        return
    from devstack.kafka import KafkaBroker
    from devstack.ports import free_port

    with tempfile.TemporaryDirectory(prefix="benecomune-bench-audit-") as tmp:
        broker = KafkaBroker(Path(tmp) / "kafka", port=free_port(), controller_port=free_port())
        broker.fetch_jars()
        broker.ensure_formatted()
        started = time.perf_counter()
        broker.start()
        try:
            broker.wait_ready(timeout=120)
            print(f"Kafka ready on {broker.bootstrap} in {time.perf_counter() - started:.1f} s")
            yield broker.bootstrap, broker.pid
        finally:
            broker.stop()


def row(label: str, r: dict[str, Any], baseline: dict[str, Any] | None) -> str:
    rate = r["count"] / r["seconds"]
    ratio = (
        f"{rate / (baseline['count'] / baseline['seconds']):.2f} x raw" if baseline else "baseline"
    )
    py = 100 * r["cpu"] / r["seconds"]
    kafka = 100 * r["kafka_cpu"] / r["seconds"]
    workers = f"{r['child_rss_mb']:,.0f}" if r.get("workers") else "-"
    rss = f"{r['rss_mb']:,.0f} / {workers}"
    return (
        f"{label:<46} {r['count']:>10,} {r['seconds']:>8.2f} {rate:>10,.0f} {ratio:<11} "
        f"{py:>5.0f}% {kafka:>5.0f}% {rss:>14}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="bench/audit_replay.py", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--events", type=int, default=200_000, help="ledger size (default 200000)")
    parser.add_argument("--seed", type=int, default=658, help="the ledger's random seed")
    parser.add_argument("--profile", action="store_true", help="cProfile the audit replay")
    parser.add_argument(
        "--pairs",
        type=int,
        default=1,
        help="raw consumes and audit replays to run, alternately (default 1): a ratio per pair",
    )
    parser.add_argument("--bootstrap", help="use this running broker instead of starting one")
    parser.add_argument(
        "--topic", help="topic to fill (if missing) and replay (default: a fresh bench topic)"
    )
    parser.add_argument(
        "--workers",
        type=int,
        help="reader processes for the audit (default: the audit's own choice; 0: none)",
    )
    parser.add_argument(
        "--measure", choices=["raw", "raw-gc-paused", "audit"], help=argparse.SUPPRESS
    )
    parser.add_argument("--broker-pid", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        measure(
            args.measure, args.bootstrap, args.topic, args.broker_pid, args.profile, args.workers
        )
        return 0
    if args.events < 1_000:
        parser.error("--events must be at least 1000")
    from servicekit.logging import configure_logging

    configure_logging("bench", "WARNING")
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    info = machine_info()
    print("\n".join(info), flush=True)
    wall = time.perf_counter()
    topic = args.topic or f"bench{uuid.uuid4().hex[:8]}.benecomune.vouchers"
    with broker_at(args.bootstrap) as (bootstrap, broker_pid):
        broker_pid = broker_pid or args.broker_pid
        if asyncio.run(create_topic(bootstrap, topic)):
            print(f"writing {args.events:,} ledger events to {topic} ...", flush=True)
            started = time.perf_counter()
            written = asyncio.run(produce(bootstrap, topic, args.events, args.seed))
            took = time.perf_counter() - started
            print(f"  {written:,} events generated and written in {took:.0f} s", flush=True)
        else:
            print(f"topic {topic} exists: replaying it as it is", flush=True)
        print("raw consume (warm-up) ...", flush=True)
        run_child("raw", bootstrap, topic, broker_pid, False)
        raws, audits = [], []
        for n in range(args.pairs):  # raw then audit, alternately: each pair's ratio is its own
            pair = f" (pair {n + 1} of {args.pairs})" if args.pairs > 1 else ""
            print(f"raw consume{pair} ...", flush=True)
            raws.append(run_child("raw", bootstrap, topic, broker_pid, False))
            if n == 0:
                print("raw consume, cyclic garbage collector paused ...", flush=True)
                raw_paused = run_child("raw-gc-paused", bootstrap, topic, broker_pid, False)
            print(f"audit replay{pair} ...", flush=True)
            audits.append(
                run_child("audit", bootstrap, topic, broker_pid, args.profile, args.workers)
            )
        raw, audit = raws[0], audits[0]
    if audit.get("profile"):
        print(audit["profile"])
    print()
    print("\n".join(info))
    print()
    header = (
        f"{'measurement':<46} {'messages':>10} {'s':>8} {'msgs/s':>10} {'ratio':<11} "
        f"{'py cpu':>6} {'kafka':>6} {'RSS MB':>14}"
    )
    print(header)
    print("-" * len(header))
    print(row("raw aiokafka consume of the topic", raw, None))
    print(row("raw consume, cyclic GC paused (as the replay)", raw_paused, raw))
    readers = f"{audit['workers']} reader processes" if audit["workers"] else "in one process"
    print(row(f"audit replay, {readers}", audit, raw))
    paused_rate = raw_paused["count"] / raw_paused["seconds"]
    print(
        f"{'':<46} {'':>10} {'':>8} {'':>10} "
        f"{audit['count'] / audit['seconds'] / paused_rate:.2f} x raw with GC paused"
    )
    print(
        "\npy cpu: this process and its reader processes, kafka: the broker's JVM, in % of one "
        "core\nRSS MB: peak resident memory of the measuring process / of its largest reader"
    )
    print(
        f"garbage collector in the measuring process: {raw['gc_seconds']:.1f} s (raw), "
        f"{audit['gc_seconds']:.1f} s (audit; paused while replaying)"
    )
    if len(audits) > 1:
        print("\npairs, each a raw consume then an audit replay, one after the other:")
        ratios = []
        for n, (r, a) in enumerate(zip(raws, audits, strict=True), 1):
            raw_rate, audit_rate = r["count"] / r["seconds"], a["count"] / a["seconds"]
            ratios.append(audit_rate / raw_rate)
            print(
                f"  pair {n}: raw {raw_rate:>9,.0f}/s  audit {audit_rate:>9,.0f}/s "
                f"({a['seconds']:.1f} s)  {ratios[-1]:.2f} x raw"
            )
        print(f"  median ratio {statistics.median(ratios):.2f} x raw (goal >= 0.7)")
    print()
    print("\n".join(f"  {line}" for line in audit["summary"]))
    millions = 3_000_000 / (audit["count"] / audit["seconds"])
    print(f"\nat this rate 3,000,000 events replay in {millions:.0f} s (goal < 60 s)")
    print(
        f"wall time {time.perf_counter() - wall:.0f} s (broker start and ledger writing included)"
    )
    if any(not a["ok"] or a["count"] != raw["count"] for a in audits):
        print("THE AUDIT DID NOT COME OUT CLEAN: the figures above are not comparable")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
