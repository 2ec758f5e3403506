"""The auditor's replay of the vouchers ledger, end to end: a municipality's whole programme
(hundreds of households, thousands of redemptions at the till, voids, revocations, expiries,
claims approved and paid) is run in-process, the real relay process publishes it to Kafka, and
the auditor's tally — from the topic AND from the store — equals the service's own figures to
the cent with the hash chain intact. Then tampering: an event edited in (a copy of) the SQLite
store, and a message deleted or edited in a copy of the topic, are each caught and named."""

from __future__ import annotations

import asyncio
import json
import random
import sqlite3
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
from benecomune_auditor.kafka_copy import TopicMessage, read_kafka, records_from_messages
from benecomune_auditor.store_reader import store_records
from benecomune_auditor.vouchers import (
    FUND_FIGURES,
    audit_vouchers,
    figures_from_api,
    figures_from_store,
)
from benecomune_cli.main import app as cli
from benecomune_contracts import VOUCHERS_TOPIC
from benecomune_contracts import vouchers as c
from devstack.ports import free_port
from servicekit.auth import DevIssuer
from servicekit.italian_ids import fiscal_code_check_character
from typer.testing import CliRunner
from vouchers.application import commands as cmd
from vouchers.application.app import VouchersApplication
from vouchers.audit_hook import VouchersLedgerStore
from vouchers.settings import VouchersSettings

from .support import ServiceProcess, StackConfig, wait_until

pytestmark = pytest.mark.kafka

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
VAT = "06363391001"
HOUSEHOLDS = 300
REDEMPTIONS = 2_000
VOIDS = 40
REVOKED_HOUSEHOLDS = 5
MERCHANTS = [f"m-{n:02d}" for n in range(8)]
LETTERS = "BCDFGHLMNPRSTVZ"
MONTHS = "ABCDEHLMPRST"


def fiscal_code(n: int) -> str:
    """A distinct, valid personal fiscal code for person ``n`` (born in Biella, A859)."""
    surname = LETTERS[n % 15] + LETTERS[(n // 15) % 15] + LETTERS[(n // 225) % 15]
    body = f"{surname}MRA{60 + n % 40:02d}{MONTHS[n % 12]}{1 + (n // 12) % 28:02d}A859"
    return body + fiscal_code_check_character(body)


@dataclass
class Scenario:
    config: StackConfig
    app: VouchersApplication
    fund_ids: list[UUID]
    topic: str
    counts: dict[str, int]
    build_seconds: float


def run_programme(
    app: VouchersApplication, rng: random.Random
) -> tuple[list[UUID], dict[str, int]]:
    """Two funds (Biella with a donation, Cossato), a round on each; 300 households apply, one
    in 25 is rejected, the budgets serve most and waitlist the rest; 8 shops per round; 2,000
    sales at the tills (group-committed, 16 at a time), 40 voided; 5 households revoked and the
    waitlist served again; Cossato's vouchers expire; every shop claims, two in three claims are
    approved and one in three paid."""
    biella = app.allocate_fund(
        cmd.AllocateFund(
            municipality_istat="096004",
            source_kind="state_transfer",
            source_reference="OCDPC 658/2020",
            amount_cents=60_000_00,
        )
    )
    app.top_up_fund(
        biella,
        cmd.TopUpFund(
            source_kind="donation",
            source_reference="Fondazione Cassa di Risparmio di Biella",
            amount_cents=5_000_00,
        ),
    )
    cossato = app.allocate_fund(
        cmd.AllocateFund(
            municipality_istat="096020",
            source_kind="state_transfer",
            source_reference="OCDPC 658/2020",
            amount_cents=20_000_00,
        )
    )
    rules = cmd.EntitlementRulesInput(
        base_cents=150_00,
        per_extra_member_cents=50_00,
        per_minor_cents=50_00,
        cap_cents=500_00,
        isee_threshold_cents=9_360_00,
    )

    def open_round(fund_id: UUID, budget: int, validity_days: int) -> UUID:
        return app.open_round(
            cmd.OpenRound(
                fund_id=str(fund_id),
                title="Buoni spesa alimentari",
                opens_at=START - timedelta(days=1),
                closes_at=START + timedelta(days=30),
                budget_cents=budget,
                rules=rules,
                denominations_cents=[10_00, 20_00, 25_00, 50_00],
                validity_days=validity_days,
                excluded_categories=["alcohol", "tobacco"],
            ),
            now=START,
        )

    rounds = {open_round(biella, 55_000_00, 60): 240, open_round(cossato, 12_000_00, 10): 60}
    applications: dict[UUID, list[UUID]] = {}
    person = 0
    counts = {"applications": 0, "rejected": 0}
    for round_id, households in rounds.items():
        applications[round_id] = []
        for n in range(households):
            members = [
                cmd.Person(
                    fiscal_code=fiscal_code(person + k),
                    first_name="Nome",
                    last_name="Cognome",
                    minor=k >= 2,
                )
                for k in range(1 + n % 4)
            ]
            person += len(members)
            rejected = n % 25 == 0
            applications[round_id].append(
                app.submit_application(
                    cmd.SubmitApplication(
                        round_id=str(round_id),
                        applicant=members[0],
                        other_members=members[1:],
                        address="Via Italia 1, 13900 Biella",
                        isee_cents=12_000_00 if rejected else rng.randrange(0, 9_000_00),
                        other_public_support=n % 7 == 0,
                        self_declaration=True,
                    ),
                    applicant=f"b-{person:04d}",
                    now=START,
                )
            )
            counts["applications"] += 1
    for ids in applications.values():
        for n, application_id in enumerate(ids):
            if n % 25 == 0:
                app.reject_application(
                    application_id,
                    cmd.RejectApplication(reason_code="isee_too_high", reason="ISEE oltre soglia"),
                    "social_worker",
                )
                counts["rejected"] += 1
            else:
                app.approve_application(application_id, "social_worker")
    for round_id in rounds:
        app.issue_vouchers(round_id, now=START)
        for merchant_id in MERCHANTS:
            app.affiliate_merchant(
                round_id,
                cmd.AffiliateMerchant(
                    merchant_id=merchant_id, vat_number=VAT, goods_categories=["food", "hygiene"]
                ),
            )

    # The tills: every voucher's code, spent in parts until 2,000 sales are made.
    vouchers: list[list[Any]] = []  # [code, cents left]
    for ids in applications.values():
        for application_id in ids:
            application = app.get_application(application_id)
            codes = app.codes_of(application)
            values = application.voucher_values if codes else []
            vouchers.extend([code, value] for code, value in zip(codes, values, strict=True))
    sales: list[tuple[str, cmd.Redeem]] = []
    for attempt in range(REDEMPTIONS * 5):
        if len(sales) == REDEMPTIONS:
            break
        voucher = rng.choice(vouchers)
        amount = min(voucher[1], rng.choice([3_50, 4_99, 7_20, 12_00, 25_00]))
        if amount <= 0:
            continue
        voucher[1] -= amount
        sales.append(
            (
                rng.choice(MERCHANTS),
                cmd.Redeem(
                    code=voucher[0],
                    amount_cents=amount,
                    goods_category=rng.choice(["food", "hygiene"]),
                    request_id=f"till-{attempt}",
                ),
            )
        )
    assert len(sales) == REDEMPTIONS
    at_the_till = START + timedelta(days=1)
    with ThreadPoolExecutor(max_workers=16) as tills:
        redemption_ids = list(
            tills.map(lambda sale: app.redeem(sale[0], sale[1], now=at_the_till), sales)
        )
    counts["redemptions"] = len(redemption_ids)
    for (merchant_id, sale), redemption_id in list(zip(sales, redemption_ids, strict=True))[:VOIDS]:
        app.void_redemption(
            merchant_id,
            cmd.VoidRedemption(code=sale.code, redemption_id=redemption_id),
            now=at_the_till + timedelta(minutes=5),
        )
    counts["voids"] = VOIDS

    biella_round, cossato_round = rounds
    waiting = {a.id for a in app.applications_in_round(biella_round) if a.status == "waitlisted"}
    for application_id in applications[biella_round][1 : 1 + REVOKED_HOUSEHOLDS]:
        app.revoke_application(
            application_id,
            cmd.Revoke(reason_code="false_declaration"),
            now=START + timedelta(days=2),
        )
    # The money the revocations returned served the waitlist.
    counts["served_again"] = sum(
        a.id in waiting and a.status == "served" for a in app.applications_in_round(biella_round)
    )
    counts["expired_cents"] = app.expire_vouchers(cossato_round, now=START + timedelta(days=11))

    claims = []
    for round_id in rounds:
        for merchant_id in MERCHANTS:
            claim_id, _ = app.claim_reimbursement(
                round_id,
                merchant_id,
                cmd.ClaimReimbursement(period_from=date(2026, 3, 1), period_to=date(2026, 3, 31)),
            )
            claims.append((round_id, merchant_id, claim_id))
    counts["claims"] = len(claims)
    counts["paid"] = 0
    for n, (round_id, merchant_id, claim_id) in enumerate(claims):
        if n % 3 != 2:
            app.approve_claim(round_id, merchant_id, claim_id, date(2026, 4, 30), START)
            if n % 3 == 0:
                app.pay_claim(round_id, merchant_id, claim_id, f"CRO-{n:06d}")
                counts["paid"] += 1
    return [biella, cossato], counts


@pytest.fixture(scope="module")
def scenario(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    root = tmp_path_factory.mktemp("vouchers-audit")
    config = StackConfig(
        bootstrap=kafka_bootstrap,
        topic_prefix=f"t{uuid.uuid4().hex[:10]}.",
        root=root / "data",
        keys_dir=root / "keys",
    )
    settings = VouchersSettings(**config.settings_kwargs("vouchers"))
    topic = settings.topic(VOUCHERS_TOPIC.name)
    app = VouchersApplication(settings)
    # The real relay, as a process, publishes while the programme runs.
    relay = ServiceProcess("vouchers", "relay", config.env("vouchers"), root).start()
    try:
        started = time.perf_counter()
        fund_ids, counts = run_programme(app, random.Random(2020))
        build_seconds = time.perf_counter() - started
        last = app.recorder.max_notification_id() or 0
        wait_until(
            lambda: (app.position(f"outbox->{topic}") or 0) >= last,
            timeout=60,
            what=f"the relay to publish up to notification {last}",
        )
    except BaseException:
        print(relay.log_tail())
        raise
    finally:
        relay.stop()
    try:
        yield Scenario(config, app, fund_ids, topic, counts, build_seconds)
    finally:
        batcher = app.__dict__.get("_batcher")
        if batcher is not None:
            batcher.close()
        app.close()
        app.vault.close()


def service_fund_figures(app: VouchersApplication, fund_ids: list[UUID]) -> dict[str, Any]:
    return {
        str(fund_id): {name: getattr(app.fund_figures(fund_id), name) for name in FUND_FIGURES}
        for fund_id in fund_ids
    }


def test_the_kafka_and_store_audits_match_the_service_to_the_cent(scenario: Scenario) -> None:
    app = scenario.app
    figures = figures_from_store(VouchersLedgerStore(app))

    copy = read_kafka(scenario.config.bootstrap, scenario.topic, timeout_seconds=60)
    from_kafka = audit_vouchers(
        copy.records(), source=f"topic {scenario.topic}", problems=copy.problems, figures=figures
    )
    from_store = audit_vouchers(
        store_records(VouchersLedgerStore(app)), source="the store", figures=figures
    )

    for audit in (from_kafka, from_store):
        print("\n".join(audit.summary_lines()))
        assert audit.replay.intact, audit.summary_lines()
        assert audit.violations == []
        assert audit.comparison is not None and audit.comparison.differences == []
        assert audit.ok
        assert audit.tally.fund_figures() == service_fund_figures(app, scenario.fund_ids)
    assert from_kafka.replay.ledger_events == from_store.replay.ledger_events
    assert from_kafka.replay.other_events == from_store.replay.other_events
    # The two copies end every stream at the same event: one seal, a one-line cross-check.
    assert from_kafka.replay.seal is not None and from_kafka.replay.seal == from_store.replay.seal
    assert len(from_kafka.replay.seal) == from_kafka.replay.streams
    # Each copy also holds everything the other one sealed.
    assert audit_vouchers(copy.records(), source="again", since=from_store.replay.seal).ok
    assert from_kafka.replay.records >= from_kafka.replay.ledger_events > 5_000
    print(
        f"programme built in {scenario.build_seconds:.1f} s; "
        f"kafka: {from_kafka.replay.records} messages replayed in "
        f"{from_kafka.replay.seconds:.2f} s; store: {from_store.replay.records} notifications "
        f"replayed in {from_store.replay.seconds:.2f} s"
    )

    # The programme is the one the brief describes, as the events themselves tell it.
    tally = from_kafka.tally
    counts = scenario.counts
    # Each application counted once, in its final status; a served household is issued.
    assert sum(sum(r.applications.values()) for r in tally.rounds.values()) == HOUSEHOLDS
    assert sum(r.applications.get("issued", 0) for r in tally.rounds.values()) == sum(
        len(r.commitments) for r in tally.rounds.values()
    )
    assert (
        sum(r.applications.get("rejected", 0) for r in tally.rounds.values())
        == (counts["rejected"])
    )
    assert sum(len(m.credits) for m in tally.merchants.values()) == counts["redemptions"]
    assert sum(1 for m in tally.merchants.values() for cr in m.credits.values() if cr.debited) == (
        VOIDS
    )
    statuses = [v.status for v in tally.vouchers.values()]
    assert "revoked" in statuses and "expired" in statuses
    assert sum(r.returned_cents for r in tally.rounds.values()) > counts["expired_cents"] > 0
    claims = [cl for m in tally.merchants.values() for cl in m.claims.values()]
    assert {cl.status for cl in claims} == {"claimed", "approved", "paid"}
    assert sum(cl.status == "paid" for cl in claims) == counts["paid"]


def test_a_sale_and_the_shops_credit_are_published_with_their_transactions_end(
    scenario: Scenario,
) -> None:
    """What keeps a live audit's cut from splitting a sale: the relay stamps each message with
    the end of the store transaction it was saved in."""
    messages = read_kafka(scenario.config.bootstrap, scenario.topic, timeout_seconds=60).messages
    ends: dict[str, set[int]] = {}
    for message in messages:
        headers = dict(message.headers)
        nid, end = int(headers["ce_notificationid"]), int(headers["ce_transactionend"])
        assert end >= nid
        body = json.loads(message.value or b"")
        if "redemption_id" in body and headers["ce_type"].endswith(
            (b".VoucherRedeemed.v1", b".MerchantCredited.v1")
        ):
            ends.setdefault(body["redemption_id"], set()).add(end)
    assert len(ends) == scenario.counts["redemptions"]
    assert all(len(found) == 1 for found in ends.values())  # the sale and its credit: together


def test_reader_processes_replay_the_topic_as_one_process_does(scenario: Scenario) -> None:
    """Worker processes (each with its own consumer and partitions, parsing and hashing, merged
    back in the producer's order) make the same audit as one process streaming the topic and
    as a copy of it in memory."""

    def report(audit: Any) -> dict[str, Any]:
        data: dict[str, Any] = audit.as_dict()
        data.pop("generated_at")
        data["chain"].pop("seconds")
        return data

    bootstrap, topic = scenario.config.bootstrap, scenario.topic
    parallel = read_kafka(bootstrap, topic, timeout_seconds=60, workers=2)
    alone = read_kafka(bootstrap, topic, timeout_seconds=60, workers=0)
    audits = [
        audit_vouchers(parallel.records(), source=topic, problems=parallel.problems),
        audit_vouchers(alone.records(), source=topic, problems=alone.problems),
        audit_vouchers(records_from_messages(alone.messages, topic), source=topic),
    ]
    assert audits[0].ok, audits[0].summary_lines()
    assert report(audits[0]) == report(audits[1]) == report(audits[2])
    assert audits[0].replay.records == len(alone.messages) == parallel.size


def republished(scenario: Scenario, messages: list[TopicMessage], prefix: str) -> str:
    """``messages`` published again, each to its partition, on a new topic of the scenario's
    broker: the even partitions' batches gzip-compressed, the odd ones' as the relay writes
    them."""
    from aiokafka import AIOKafkaProducer
    from benecomune_contracts import TopicSpec
    from servicekit.topics import ensure_topics

    partitions = max(m.partition for m in messages) + 1
    spec = TopicSpec(name=VOUCHERS_TOPIC.name, partitions=partitions, ledger=True)
    bootstrap = scenario.config.bootstrap

    async def publish() -> None:
        await ensure_topics(bootstrap, [spec], prefix)
        plain = AIOKafkaProducer(bootstrap_servers=bootstrap)
        gzipped = AIOKafkaProducer(bootstrap_servers=bootstrap, compression_type="gzip")
        await plain.start()
        await gzipped.start()
        try:
            for m in messages:
                producer = gzipped if m.partition % 2 == 0 else plain
                await producer.send(
                    prefix + spec.name,
                    m.value,
                    key=m.key,
                    partition=m.partition,
                    headers=list(m.headers),
                )
            await plain.flush()
            await gzipped.flush()
        finally:
            await plain.stop()
            await gzipped.stop()

    asyncio.run(publish())
    return prefix + spec.name


def test_compressed_and_spoiled_messages_are_read_by_reader_processes_as_by_one(
    scenario: Scenario,
) -> None:
    """The reader processes read record sets in compiled code; what it does not read as
    aiokafka does (compressed batches) or what is not a sound ledger event (an edited sale, a
    message without a header) is read by aiokafka and the Python reader, in place: the same
    audit as one process reading the topic with aiokafka's consumer."""
    messages = read_kafka(scenario.config.bootstrap, scenario.topic, timeout_seconds=60).messages
    sales = [i for i, m in enumerate(messages) if b"VoucherRedeemed" in dict(m.headers)["ce_type"]]
    edited, headless = messages[sales[3]], messages[sales[-3]]
    body = json.loads(edited.value or b"{}")
    body["amount_cents"] += 100
    spoiled = list(messages)
    spoiled[sales[3]] = TopicMessage(
        edited.partition, edited.offset, edited.key, json.dumps(body).encode(), edited.headers
    )
    spoiled[sales[-3]] = TopicMessage(
        headless.partition,
        headless.offset,
        headless.key,
        headless.value,
        tuple(h for h in headless.headers if h[0] != "ce_subject"),
    )
    topic = republished(scenario, spoiled, f"copy{uuid.uuid4().hex[:8]}.")

    def report(copy: Any) -> dict[str, Any]:
        data: dict[str, Any] = audit_vouchers(
            copy.records(), source=topic, problems=copy.problems
        ).as_dict()
        data.pop("generated_at")
        data["chain"].pop("seconds")
        return data

    parallel = report(read_kafka(scenario.config.bootstrap, topic, timeout_seconds=60, workers=2))
    alone = report(read_kafka(scenario.config.bootstrap, topic, timeout_seconds=60, workers=0))
    assert parallel == alone
    assert parallel["chain"]["records"] == len(messages)
    assert [b["kind"] for b in parallel["chain"]["breaks"]] == ["edited"]
    assert [p["kind"] for p in parallel["chain"]["problems"]] == ["malformed_envelope"]


def test_the_command_line_audits_the_topic_against_the_running_api(
    scenario: Scenario, tmp_path: Path
) -> None:
    port = free_port()
    api = ServiceProcess(
        "vouchers", "api", scenario.config.env("vouchers", http_port=port), tmp_path
    ).start()
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _ready(url), timeout=60, what="the vouchers API")
        # The API answers the auditor with the figures the in-process application computes.
        token = DevIssuer("biella", scenario.config.keys_dir).mint("auditor")
        over_http = figures_from_api(url, token)
        in_process = figures_from_store(VouchersLedgerStore(scenario.app))
        assert over_http.funds == in_process.funds
        assert over_http.merchants == in_process.merchants
        # A donation arrives while the auditor works: the service moves on, the topic (its relay
        # is stopped) does not. The audit compares where its replay ended, so it still matches.
        operator = DevIssuer("biella", scenario.config.keys_dir).mint("operator")
        donated = httpx.post(
            f"{url}/funds/{scenario.fund_ids[0]}/top-ups",
            headers={"Authorization": f"Bearer {operator}"},
            json={
                "source_kind": "donation",
                "source_reference": "Lions Club",
                "amount_cents": 12_345,
            },
            timeout=30,
        )
        assert donated.status_code == 200, donated.text
        live = figures_from_api(url, token).funds[str(scenario.fund_ids[0])]

        out = tmp_path / "report"
        result = CliRunner().invoke(
            cli,
            [
                "audit",
                "vouchers",
                "--from",
                "kafka",
                "--bootstrap",
                scenario.config.bootstrap,
                "--topic-prefix",
                scenario.config.topic_prefix,
                "--service-url",
                url,
                "--out",
                str(out),
            ],
            env={"BENECOMUNE_KEYS_DIR": str(scenario.config.keys_dir)},  # mints a local token
        )
    finally:
        api.stop()
    print(result.output)
    assert result.exit_code == 0, result.output
    assert "every figure matches to the cent" in result.output
    pdf = (out / "vouchers-audit.pdf").read_bytes()
    assert pdf.startswith(b"%PDF-") and b"(RESULT: OK) Tj" in pdf
    report = json.loads((out / "vouchers-audit.json").read_text())
    assert report["ok"] is True and report["chain"]["intact"] is True
    assert {f["fund_id"] for f in report["funds"]} == {str(f) for f in scenario.fund_ids}
    (biella,) = [f for f in report["funds"] if f["fund_id"] == str(scenario.fund_ids[0])]
    assert biella["allocated_cents"] == live["allocated_cents"] - 12_345  # live is ahead
    rows = (out / "vouchers-audit.csv").read_text().splitlines()
    assert rows[0].startswith("level,fund_id,municipality_istat,round_id,merchant_id")
    levels = [row.split(",", 1)[0] for row in rows[1:]]
    assert levels.count("fund") == 2 and levels.count("source") == 3
    assert levels.count("merchant") == 2 * len(MERCHANTS)


def test_a_message_deleted_or_edited_in_a_copy_of_the_topic_is_named(scenario: Scenario) -> None:
    copy = read_kafka(scenario.config.bootstrap, scenario.topic, timeout_seconds=60)
    messages = copy.messages

    def payload(message: TopicMessage) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(message.value or b"{}")
        return data

    def type_of(message: TopicMessage) -> str:
        return dict(message.headers)["ce_type"].decode()

    # Delete a shop's credit that has later events in its stream.
    credits = [m for m in messages if type_of(m) == c.MerchantCredited.type_name]
    victim = credits[len(credits) // 2]
    deleted = payload(victim)
    fewer = [m for m in messages if m is not victim]
    result = audit_vouchers(records_from_messages(fewer, copy.topic), source="copy")
    assert not result.ok
    assert [(b.kind, b.stream_id, b.sequence) for b in result.replay.breaks] == [
        ("missing", deleted["stream_id"], deleted["sequence"] + 1)
    ]

    # Edit the amount of a sale at the till.
    sale_index = next(
        i for i, m in enumerate(messages) if type_of(m) == c.VoucherRedeemed.type_name
    )
    sale = messages[sale_index]
    edited_payload = {**payload(sale), "amount_cents": payload(sale)["amount_cents"] + 1_000}
    edited = list(messages)
    edited[sale_index] = TopicMessage(
        sale.partition, sale.offset, sale.key, json.dumps(edited_payload).encode(), sale.headers
    )
    result = audit_vouchers(records_from_messages(edited, copy.topic), source="copy")
    assert not result.ok
    first = result.replay.breaks[0]
    assert (first.kind, first.stream_id, first.sequence, first.type_name) == (
        "edited",
        edited_payload["stream_id"],
        edited_payload["sequence"],
        c.VoucherRedeemed.type_name,
    )
    assert first.origin == f"{copy.topic}[{sale.partition}]@{sale.offset}"


def test_an_event_edited_in_the_store_fails_the_store_audit_and_is_named(
    scenario: Scenario, tmp_path: Path
) -> None:
    # Tamper with a copy of the store, as someone with access to the database file could.
    source = scenario.config.root / "vouchers" / "vouchers.sqlite"
    data_dir = tmp_path / "tampered"
    data_dir.mkdir()
    with sqlite3.connect(source) as live, sqlite3.connect(data_dir / "vouchers.sqlite") as copy:
        live.backup(copy)

    with sqlite3.connect(data_dir / "vouchers.sqlite") as db:
        rows = db.execute(
            "SELECT originator_id, originator_version, state FROM stored_events "
            "WHERE topic LIKE '%:Voucher.Redeemed' ORDER BY rowid LIMIT 1 OFFSET 100"
        ).fetchall()
        ((stream_id, sequence, state),) = rows
        event = json.loads(state)
        event["amount_cents"] += 100  # one euro more spent at the till
        db.execute(
            "UPDATE stored_events SET state = ? WHERE originator_id = ? AND originator_version = ?",
            (json.dumps(event).encode(), stream_id, sequence),
        )

    result = CliRunner().invoke(
        cli,
        [
            "audit",
            "vouchers",
            "--from",
            "store",
            "--data-dir",
            str(data_dir),
            "--compare",
            "store",
            "--out",
            str(tmp_path / "report"),
        ],
        env={"BENECOMUNE_KEYS_DIR": str(scenario.config.keys_dir)},
    )
    print(result.output)
    assert result.exit_code == 1, result.output
    assert (
        f"edited: {c.VoucherRedeemed.type_name} stream {UUID(str(stream_id))} sequence {sequence}"
        in result.output
    )
    assert "RESULT: FAILED" in result.output
    report = json.loads((tmp_path / "report" / "vouchers-audit.json").read_text())
    assert report["ok"] is False
    assert [(b["kind"], b["stream_id"], b["sequence"]) for b in report["chain"]["breaks"]] == [
        ("edited", str(UUID(str(stream_id))), sequence)
    ]
    # The service's own figures cannot see it (its shops' accounts are untouched): the
    # comparison still matches, only the chain tells.
    assert report["comparison"]["match"] is True

    # The untouched store still passes, and a wrong store path is a usage error.
    untouched = CliRunner().invoke(
        cli,
        [
            "audit",
            "vouchers",
            "--from",
            "store",
            "--data-dir",
            str(scenario.config.root / "vouchers"),
            "--compare",
            "none",
        ],
    )
    assert untouched.exit_code == 0, untouched.output
    missing = CliRunner().invoke(
        cli, ["audit", "vouchers", "--from", "store", "--data-dir", str(tmp_path / "nowhere")]
    )
    assert missing.exit_code == 2
    assert "no vouchers store" in missing.output


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
