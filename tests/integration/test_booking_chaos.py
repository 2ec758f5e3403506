"""Chaos proof of the booking saga on the real broker: 150 bookings (300, and a PostgreSQL run,
with ``BENECOMUNE_CHAOS_FULL=1``; single offerings and
packages of two or three providers; paid by welfare credit, a service voucher, a co-payment or a
mix; instant offerings and offerings the providers accept or decline at seeded random; some
whose provider never answers and whose slot starts within the test, so the acceptance deadline
fires) while the booking, catalog, wallet and vouchers processes are ``kill -9``ed at seeded
random moments and restarted.

At the end, after a bounded wait for quiescence: every booking is confirmed or fully
compensated (every slot and every funds hold released or refused); no slot is oversold (the
catalog's places taken are exactly the confirmed bookings', never above capacity); what the
wallets and the vouchers hold is exactly what the confirmed bookings hold; the vouchers and
wallet audits from Kafka agree with the services to the cent.

The seed is printed first; ``BENECOMUNE_CHAOS_SEED=<seed>`` replays the same choices (the
processes' timing is the machine's). Every process is stopped on the way out."""

from __future__ import annotations

import os
import random
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from benecomune_cli.main import app as cli
from devstack.ports import free_port
from servicekit.auth import DevIssuer
from typer.testing import CliRunner

from .booking_support import Stack, known_to_booking
from .support import ServiceProcess, StackConfig, ready, wait_until

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

SERVICES = ("catalog", "wallet", "vouchers", "booking")
# (bookings, kills per service) by store. `make test` runs the short one on SQLite, to keep within
# its time budget beside the portal's browser journeys (the saga's PostgreSQL path is run there
# by test_booking_saga's package case); BENECOMUNE_CHAOS_FULL=1 runs the long one (300 bookings
# and 20 kills on SQLite) and the PostgreSQL one, before a release or after a change to the saga.
FULL_RUN = os.environ.get("BENECOMUNE_CHAOS_FULL") == "1"
RUNS = (
    {"sqlite": (300, 5), "postgres": (120, 2)}
    if FULL_RUN
    else {"sqlite": (150, 3), "postgres": (60, 2)}
)
BENEFICIARIES = [f"fam{n}" for n in range(10)]
PROVIDERS = [f"coop-{n}" for n in range(6)]
LATE_PROVIDER = "coop-late"  # never answers: its bookings' acceptance deadline fires
DECLINE_RATE = 0.12
CAPACITY = 6  # places per slot: ~450 places asked of 108, so many bookings compete
FAULT_PHASE_DEADLINE = 480  # seconds
QUIESCENCE = 300  # seconds for every booking to settle once the faults stop
SETTLED = ("confirmed", "completed", "compensated")


@dataclass
class Offer:
    provider_id: str
    offering_id: str
    price: int
    instant: bool
    slots: list[tuple[str, datetime, int]]  # (slot id, starts at, capacity)


@dataclass
class Chaos:
    """What the test drove: the bookings it made, by request id."""

    rng: random.Random
    seed: int
    bookings: dict[str, str] = field(default_factory=dict)  # request id -> booking id
    by_booking: dict[str, str] = field(default_factory=dict)
    answers: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)


def retrying(call: Any, *, timeout: float = 120) -> httpx.Response:
    """Send a request until the service answers something other than a server error (it may
    be down, being restarted after a kill)."""
    deadline = time.monotonic() + timeout
    while True:  # bounded by the deadline
        try:
            response: httpx.Response = call()
            if response.status_code < 500:
                return response
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, "a service stayed down"
        time.sleep(0.3)


class Processes:
    """The four services' ``serve`` processes (API, relay, consumer, periodic jobs), each on a
    fixed port, so a process killed and restarted answers at the same URL."""

    def __init__(self, config: StackConfig, workdir: Path) -> None:
        self.ports = {service: free_port() for service in SERVICES}
        self.urls = {s: f"http://127.0.0.1:{p}" for s, p in self.ports.items()}
        extra: dict[str, dict[str, Any]] = {
            # the deadlines job every 1.5 s instead of 30 s: the acceptance deadlines fire
            "booking": {"periodic_interval_factor": 0.05},
            # providers that missed the round being opened join it every 6 s, not 60 s
            "vouchers": {"periodic_interval_factor": 0.1},
        }
        self.processes = {
            service: ServiceProcess(
                service,
                "serve",
                config.env(
                    service,
                    http_port=port,
                    consumer_instance_id=f"{service}-0",
                    **extra.get(service, {}),
                ),
                workdir,
            )
            for service, port in self.ports.items()
        }

    def start(self) -> None:
        for process in self.processes.values():
            process.start()
        self.wait_ready()

    def wait_ready(self, *services: str) -> None:
        for service in services or SERVICES:
            url = self.urls[service]
            wait_until(lambda url=url: ready(url), timeout=90, what=f"{service} ready")

    def stop(self) -> None:
        for process in self.processes.values():
            process.stop()


@pytest.fixture
def processes(
    stack_config: StackConfig, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Processes]:
    """The four services on SQLite, or on PostgreSQL (each its own schema of a throw-away
    database) when parametrized so."""
    if request.param == "postgres":
        stack_config.store = "postgres"
        stack_config.postgres = request.getfixturevalue("postgres_settings")
    procs = Processes(stack_config, tmp_path)
    try:
        procs.start()
        yield procs
    finally:
        procs.stop()


def chaos_seed() -> int:
    configured = os.environ.get("BENECOMUNE_CHAOS_SEED")
    return int(configured) if configured else random.SystemRandom().randrange(1, 2**31)


def set_up(stack: Stack, t0: datetime) -> tuple[list[Offer], list[Offer], dict[str, Any]]:
    """Providers, offerings and slots in the catalog; wallets and service vouchers for the
    families. Returns the regular offers, the late ones, and the families' accounts."""
    # The accreditations are consumed by the vouchers service while the round is opened: an
    # accreditation that missed the round joins it by the vouchers' periodic job.
    for n, provider in enumerate([*PROVIDERS, LATE_PROVIDER]):
        stack.provider(provider, f"0361847{n + 1:03d}")
    wallets = stack.employee_wallets(BENEFICIARIES)
    round_id = stack.services_round()
    wait_until(
        lambda: set(stack.round_accounts(round_id)) == {*PROVIDERS, LATE_PROVIDER},
        timeout=90,
        what="the accredited providers in the services round",
    )
    vouchers = stack.service_vouchers(round_id, BENEFICIARIES)

    offers: list[Offer] = []
    later = t0 + timedelta(days=2)
    for n, provider in enumerate(PROVIDERS):
        for instant in (True, False):
            terms: dict[str, Any] = {"instant": True} if instant else {"acceptance_hours": 24}
            price = 1_000 + 500 * ((n + instant) % 4)
            starts = later + timedelta(hours=3 * n + instant)
            offering_id, slot_id = stack.offering(
                provider, price, starts, capacity=CAPACITY, **terms
            )
            slots = [(slot_id, starts, CAPACITY)]
            for k in (1, 2):
                more = starts + timedelta(days=k)
                extra = stack.ok("catalog", "POST", f"/offerings/{offering_id}/slots",
                    "provider", provider, json={
                        "starts_at": more.isoformat(),
                        "ends_at": (more + timedelta(hours=1)).isoformat(), "capacity": CAPACITY,
                    },
                )["id"]  # fmt: skip
                slots.append((str(extra), more, CAPACITY))
            offers.append(Offer(provider, offering_id, price, instant, slots))
    # The late provider's slots start during the fault phase: bookings of them wait for an
    # acceptance that never comes, and the deadline (the slot's start) compensates them.
    late_start = t0 + timedelta(seconds=90)
    offering_id, slot_id = stack.offering(
        LATE_PROVIDER, 1_500, late_start, capacity=50, acceptance_hours=1
    )
    late_slots = [(slot_id, late_start, 50)]
    for k in range(1, 4):
        starts = late_start + timedelta(seconds=30 * k)
        extra = stack.ok("catalog", "POST", f"/offerings/{offering_id}/slots", "provider",
            LATE_PROVIDER, json={
                "starts_at": starts.isoformat(),
                "ends_at": (starts + timedelta(hours=1)).isoformat(), "capacity": 50,
            },
        )["id"]  # fmt: skip
        late_slots.append((str(extra), starts, 50))
    late = [Offer(LATE_PROVIDER, offering_id, 1_500, False, late_slots)]
    for offer in [*offers, *late]:
        for slot_id, _, _ in offer.slots:
            known_to_booking(stack, offer.offering_id, slot_id)
    return offers, late, {"wallets": wallets, "vouchers": vouchers}


def funding(rng: random.Random, total: int, wallet_id: str, voucher_id: str) -> dict[str, Any]:
    """A seeded split of ``total`` over credit, a service voucher and a co-payment."""
    kind = rng.choices(["wallet", "voucher", "mixed", "co_payment"], [35, 20, 30, 15])[0]
    parts: list[tuple[str, str | None, int]]
    if kind == "wallet":
        parts = [("wallet", wallet_id, total)]
    elif kind == "voucher":
        share = total // 2
        parts = [("voucher", voucher_id, share), ("co_payment", None, total - share)]
    elif kind == "mixed":
        parts = [("voucher", voucher_id, 500), ("co_payment", None, 500)]
        parts.append(("wallet", wallet_id, total - 1_000))
    else:
        parts = [("co_payment", None, total)]
    split = []
    for source, account, amount in parts:
        if amount > 0:
            entry: dict[str, Any] = {"source": source, "amount_cents": amount}
            if account is not None:
                entry["account_id"] = account
            split.append(entry)
    return {"split": split}


def make_bookings(
    stack: Stack, chaos: Chaos, offers: list[Offer], late: list[Offer], accounts: Any, count: int
) -> None:
    rng = random.Random(chaos.seed + 1)
    for n in range(count):
        family = rng.choice(BENEFICIARIES)
        size = rng.choices([1, 2, 3], [70, 20, 10])[0]
        providers = rng.sample(PROVIDERS, size)
        chosen = [rng.choice([o for o in offers if o.provider_id == p]) for p in providers]
        parts = [(o, rng.choice(o.slots)[0]) for o in chosen]
        soon = datetime.now(UTC) + timedelta(seconds=40)
        open_late = [s for s in late[0].slots if s[1] > soon]
        if open_late and rng.random() < 0.15:  # its acceptance deadline will pass
            parts[-1] = (late[0], rng.choice(open_late)[0])
        total = sum(o.price for o, _ in parts)
        components = [
            {"offering_id": o.offering_id, "slot_id": s, "order": i + 1}
            for i, (o, s) in enumerate(parts)
        ]
        split = funding(rng, total, accounts["wallets"][family], accounts["vouchers"][family])
        request_id = f"chaos-{n}"
        response = retrying(lambda: stack.book(request_id, components, split, family))  # noqa: B023
        assert response.status_code == 202, f"{request_id}: {response.status_code} {response.text}"
        with chaos.lock:
            booking_id = str(response.json()["booking_id"])
            chaos.bookings[request_id] = booking_id
            chaos.by_booking[booking_id] = request_id
        time.sleep(rng.uniform(0.05, 0.4))


def answer_providers(stack: Stack, chaos: Chaos, stop: threading.Event) -> None:
    """The providers of offerings that need acceptance accept, or decline at seeded random,
    what their queue shows pending (the late provider never answers)."""
    while not stop.is_set():  # bounded by the test, which sets stop
        for provider in PROVIDERS:
            try:
                pending = stack.call(
                    "booking", "GET", f"/providers/{provider}/bookings?queue=pending",
                    "provider", provider,
                )  # fmt: skip
                if pending.status_code != 200:
                    continue
                for entry in pending.json():
                    booking_id = str(entry["booking_id"])
                    with chaos.lock:
                        request_id = chaos.by_booking.get(booking_id)
                    if request_id is None:
                        continue
                    view = stack.call("booking", "GET", f"/bookings/{booking_id}", "operator")
                    if view.status_code != 200:
                        continue
                    for c in view.json()["components"]:
                        if c["provider_id"] != provider or c["acceptance"] != "requested":
                            continue
                        decide = random.Random(f"{chaos.seed}:{request_id}:{c['index']}")
                        verb = "decline" if decide.random() < DECLINE_RATE else "accept"
                        path = f"/bookings/{booking_id}/components/{c['index']}/{verb}"
                        body = {"note": "nessun operatore libero"} if verb == "decline" else None
                        r = stack.call("booking", "POST", path, "provider", provider, json=body)
                        chaos.answers[f"{verb}:{r.status_code}"] += 1
            except httpx.HTTPError:
                pass  # the booking service is being restarted
        stop.wait(0.5)


def settled(view: Any) -> bool:
    status = view["status"]
    if status == "compensated":
        return all(
            c["slot_status"] in ("released", "refused")
            and all(f["status"] in ("released", "refused") for f in c["funds"])
            for c in view["components"]
        )
    if status in ("confirmed", "completed"):
        return all(
            c["slot_status"] == "confirmed" and all(f["status"] == "held" for f in c["funds"])
            for c in view["components"]
        )
    return False


def audit(ledger: str, config: StackConfig, url: str) -> Any:
    return CliRunner().invoke(
        cli,
        ["audit", ledger, "--from", "kafka", "--bootstrap", config.bootstrap,
         "--topic-prefix", config.topic_prefix, "--service-url", url],
        env={"BENECOMUNE_KEYS_DIR": str(config.keys_dir)},
    )  # fmt: skip


@pytest.mark.parametrize(
    "processes",
    ["sqlite", *([pytest.param("postgres", marks=pytest.mark.postgres)] if FULL_RUN else [])],
    indirect=True,
)
def test_bookings_settle_exactly_while_every_participant_is_killed(
    processes: Processes, stack_config: StackConfig
) -> None:
    bookings, kills_per_service = RUNS[stack_config.store]
    seed = chaos_seed()
    print(f"\nbooking chaos seed: {seed} (replay with BENECOMUNE_CHAOS_SEED={seed})", flush=True)
    began = time.monotonic()
    chaos = Chaos(random.Random(seed), seed)
    stack = Stack(processes.urls, DevIssuer("biella", stack_config.keys_dir))
    t0 = datetime.now(UTC).replace(microsecond=0)
    offers, late, accounts = set_up(stack, t0)
    set_up_seconds = time.monotonic() - began

    stop = threading.Event()
    failures: list[BaseException] = []

    def guarded(target: Any, *args: Any) -> None:
        try:
            target(*args)
        except BaseException as error:  # reported by the main thread
            failures.append(error)

    work = (make_bookings, stack, chaos, offers, late, accounts, bookings)
    booker = threading.Thread(target=guarded, args=work, daemon=True)
    provider_bot = threading.Thread(
        target=guarded, args=(answer_providers, stack, chaos, stop), daemon=True
    )
    kills: Counter[str] = Counter()
    victims = [s for s in SERVICES for _ in range(kills_per_service)]
    chaos.rng.shuffle(victims)
    fault_began = time.monotonic()
    try:
        booker.start()
        provider_bot.start()
        deadline = fault_began + FAULT_PHASE_DEADLINE
        while victims or booker.is_alive():
            assert time.monotonic() < deadline, f"fault phase too slow: {dict(kills)}"
            assert not failures, f"seed {seed}: {failures[0]!r}"
            if not victims:
                time.sleep(0.5)
                continue
            victim = processes.processes[victims.pop()]
            processes.wait_ready(victim.service)  # killed while it works, not while starting
            time.sleep(chaos.rng.uniform(0.5, 6.0))
            victim.kill9()
            kills[victim.service] += 1
            time.sleep(chaos.rng.uniform(0.0, 1.0))
            victim.start()
        booker.join(timeout=5)
        assert not failures, f"seed {seed}: {failures[0]!r}"
        fault_seconds = time.monotonic() - fault_began
        processes.wait_ready()

        # quiescence: every booking confirmed or fully compensated
        views: dict[str, Any] = {}
        wait_began = time.monotonic()
        while len(views) < len(chaos.bookings):  # bounded below
            for request_id, booking_id in chaos.bookings.items():
                if request_id not in views:
                    view = stack.booking(booking_id)
                    if settled(view):
                        views[request_id] = view
            if len(views) < len(chaos.bookings):
                waiting = sorted(set(chaos.bookings) - set(views))
                if time.monotonic() - wait_began > QUIESCENCE:
                    stuck = {r: stack.booking(chaos.bookings[r]) for r in waiting[:3]}
                    raise AssertionError(
                        f"seed {seed}: {len(waiting)} bookings not settled: {waiting[:20]}; "
                        f"for instance {stuck}"
                    )
                time.sleep(2)
        quiet_seconds = time.monotonic() - wait_began
        stop.set()
        provider_bot.join(timeout=10)
        # settled views can still change (a late confirmation of a compensated one would be
        # a defect): read them all once more
        views = {r: stack.booking(b) for r, b in chaos.bookings.items()}
        assert all(settled(v) for v in views.values()), f"seed {seed}: a booking moved again"

        check_slots(stack, seed, offers, late, views)
        check_holds(stack, seed, accounts, views)
        for ledger in ("vouchers", "wallet"):
            result = audit(ledger, stack_config, processes.urls[ledger])
            assert result.exit_code == 0, f"seed {seed}: {ledger} audit\n{result.output}"
            assert "every figure matches to the cent" in result.output, result.output
    finally:
        stop.set()
        processes.stop()

    outcomes = Counter(
        v["status"] if v["status"] != "compensated" else f"compensated:{v['reason']['code']}"
        for v in views.values()
    )
    shapes = Counter(len(v["components"]) for v in views.values())
    print(
        f"booking chaos ({stack_config.store}) seed {seed}: {len(views)} bookings "
        f"({dict(sorted(shapes.items()))} by components); "
        f"outcomes {dict(sorted(outcomes.items()))}; kills {dict(kills)}; "
        f"provider answers {dict(chaos.answers)}; set-up {set_up_seconds:.0f}s, faults "
        f"{fault_seconds:.0f}s, quiescence {quiet_seconds:.0f}s, total "
        f"{time.monotonic() - began:.0f}s"
    )
    assert sum(kills.values()) == len(SERVICES) * kills_per_service, dict(kills)
    assert len(views) >= bookings
    assert outcomes["confirmed"] > 0 and any(o.startswith("compensated") for o in outcomes)


def check_slots(
    stack: Stack, seed: int, offers: list[Offer], late: list[Offer], views: dict[str, Any]
) -> None:
    """No slot oversold: the places the catalog counts taken are exactly the confirmed
    bookings' places, never above the slot's capacity."""
    confirmed: Counter[str] = Counter()
    for view in views.values():
        if view["status"] in ("confirmed", "completed"):
            for c in view["components"]:
                confirmed[c["slot_id"]] += 1
    capacities = {s: cap for o in [*offers, *late] for s, _, cap in o.slots}
    for slot_id, places in confirmed.items():
        assert places <= capacities[slot_id], f"seed {seed}: slot {slot_id} oversold"
    for offer in offers:  # the late slots have started: the catalog no longer lists them
        listed = stack.ok("catalog", "GET", f"/offerings/{offer.offering_id}/slots", "operator")
        by_id = {str(s["slot_id"]): s for s in listed}
        for slot_id, _, capacity in offer.slots:
            slot = by_id[slot_id]
            taken = capacity - int(slot["available"])
            assert taken == confirmed[slot_id], (
                f"seed {seed}: slot {slot_id}: the catalog counts {taken} places taken, "
                f"the confirmed bookings {confirmed[slot_id]}"
            )


def check_holds(stack: Stack, seed: int, accounts: Any, views: dict[str, Any]) -> None:
    """What each wallet and voucher holds is what the confirmed bookings hold of it."""
    expected: defaultdict[str, int] = defaultdict(int)
    for view in views.values():
        for c in view["components"]:
            for f in c["funds"]:
                if f["status"] == "held":
                    expected[f["source"]] += f["amount_cents"]
    for family, wallet_id in accounts["wallets"].items():
        held = stack.wallet(wallet_id)["held_cents"]
        assert held == expected[f"wallet:{wallet_id}"], (
            f"seed {seed}: wallet of {family} holds {held}, the bookings "
            f"{expected[f'wallet:{wallet_id}']}"
        )
    for family, voucher_id in accounts["vouchers"].items():
        mine = {v["voucher_id"]: v for v in stack.my_vouchers(family)}
        held = mine[voucher_id]["held_cents"]
        assert held == expected[f"voucher:{voucher_id}"], (
            f"seed {seed}: voucher of {family} holds {held}, the bookings "
            f"{expected[f'voucher:{voucher_id}']}"
        )
