"""Proof: ≥ 2,000 events through relay → Kafka → consumer, with the relay and the consumer
processes killed with SIGKILL at random (seeded) moments, produce their effects exactly once and
in order per aggregate — on SQLite and on PostgreSQL."""

from __future__ import annotations

import random
import threading
import time
from collections import defaultdict
from pathlib import Path

import pytest
from notifications.application.app import NotificationsApplication
from notifications.domain.notice import Notice
from notifications.settings import NotificationsSettings
from servicekit.relay import event_id
from vouchers.application.app import VouchersApplication
from vouchers.application.commands import AllocateFund, TopUpFund
from vouchers.domain.fund import Fund
from vouchers.settings import VouchersSettings

from .support import ServiceProcess, StackConfig, wait_until

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

WORKING = {"relay": '"relay_started"', "consume": '"consumer_started"'}
"""The log line each kind of process writes once it is working."""
SEED = 20201203
FUNDS = 100
EVENTS_PER_FUND = 20  # one allocation and 19 top-ups: 2,000 events
MIN_KILLS = 12
FAULT_PHASE_DEADLINE_SECONDS = 240


def write_ledger(app: VouchersApplication, done: threading.Event, rng: random.Random) -> None:
    """Allocate the funds, then top them up round after round, while the relay runs."""
    fund_ids = [
        app.allocate_fund(
            AllocateFund(
                municipality_istat="096004",
                source_kind="state_transfer",
                source_reference=f"OCDPC 658/2020 #{n}",
                amount_cents=100_000 + n,
            )
        )
        for n in range(FUNDS)
    ]
    for round_number in range(1, EVENTS_PER_FUND):
        for fund_id in fund_ids:
            app.top_up_fund(
                fund_id,
                TopUpFund(
                    source_kind="donation",
                    source_reference=f"round {round_number}",
                    amount_cents=round_number * 100,
                ),
            )
        time.sleep(rng.uniform(0.3, 1.5))
    done.set()


def expected_event_ids(app: VouchersApplication) -> set[str]:
    notifications = app.recorder.select_notifications(start=1, limit=10 * FUNDS * EVENTS_PER_FUND)
    events = [app.mapper.to_domain_event(n) for n in notifications]
    return {
        event_id(e.originator_id, e.originator_version)
        for e in events
        if isinstance(e, Fund.Allocated | Fund.ToppedUp)
    }


def recorded_notices(app: NotificationsApplication) -> list[Notice.Recorded]:
    notifications = app.recorder.select_notifications(start=1, limit=100_000)
    events = [app.mapper.to_domain_event(n) for n in notifications]
    return [e for e in events if isinstance(e, Notice.Recorded)]


@pytest.mark.parametrize("store", ["sqlite", "postgres"])
def test_every_event_has_its_effect_exactly_once_while_processes_are_killed(
    store: str, stack_config: StackConfig, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if store == "postgres":
        stack_config.store = "postgres"
        stack_config.postgres = request.getfixturevalue("postgres_settings")
    rng = random.Random(SEED)
    vouchers = VouchersApplication(VouchersSettings(**stack_config.settings_kwargs("vouchers")))
    relay = ServiceProcess("vouchers", "relay", stack_config.env("vouchers"), tmp_path).start()
    consumer_env = stack_config.env(
        "notifications", consumer_instance_id="notifications-0", relay_batch_size=50
    )
    consumer = ServiceProcess("notifications", "consume", consumer_env, tmp_path).start()
    writing_done = threading.Event()
    writer = threading.Thread(
        target=write_ledger, args=(vouchers, writing_done, random.Random(SEED + 1)), daemon=True
    )
    kills: dict[str, int] = defaultdict(int)
    try:
        writer.start()
        deadline = time.monotonic() + FAULT_PHASE_DEADLINE_SECONDS
        while sum(kills.values()) < MIN_KILLS or not writing_done.is_set():
            assert time.monotonic() < deadline, f"fault phase too slow: {dict(kills)}"
            victim = rng.choice([relay, consumer])
            # Kill it at a random moment of its working life, once it works: its start takes
            # 1-4 s with the machine's load, and a kill while it is still importing tests
            # nothing.
            victim.wait_log(WORKING[victim.mode], victim.starts, timeout=30)
            time.sleep(rng.uniform(0.0, 3.0))
            victim.kill9()
            kills[victim.mode] += 1
            time.sleep(rng.uniform(0.0, 0.3))
            victim.start()
        writer.join(timeout=60)
        assert not writer.is_alive()

        expected = expected_event_ids(vouchers)
        assert len(expected) == FUNDS * EVENTS_PER_FUND
        notifications = NotificationsApplication(
            NotificationsSettings(**stack_config.settings_kwargs("notifications"))
        )
        wait_until(
            lambda: len(recorded_notices(notifications)) >= len(expected),
            timeout=180,
            interval=1.0,
            what=f"all {len(expected)} effects (consumer log: {consumer.log_path})",
        )
        time.sleep(2)  # anything still in flight would show up as a duplicate now
        notices = recorded_notices(notifications)
    finally:
        relay.stop()
        consumer.stop()

    assert kills["relay"] >= 3 and kills["consume"] >= 3, dict(kills)
    source_ids = [n.source_event_id for n in notices]
    assert len(source_ids) == len(set(source_ids)), "an event had its effect twice"
    assert set(source_ids) == expected, "an event had no effect, or an unknown one appeared"

    sequences: dict[str, list[int]] = defaultdict(list)
    for notice in notices:
        sequences[notice.source_subject].append(notice.source_sequence)
    assert len(sequences) == FUNDS
    for fund_id, seen in sequences.items():
        assert seen == list(range(1, EVENTS_PER_FUND + 1)), f"order broken for fund {fund_id}"
    duplicates = consumer.log_path.read_text().count("duplicate_skipped")
    resumed = relay.log_path.read_text().count('"relay_started"')
    print(
        f"\n{store}: kills {dict(kills)}; relay runs that got to publishing: {resumed}; "
        f"duplicates recognised by the consumer: {duplicates}"
    )
    # The faults hit the processes while they were working, not only while they started.
    assert resumed >= 3
