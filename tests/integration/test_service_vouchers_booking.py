"""Proof: service vouchers (buoni servizio) held, captured and released by the booking saga's
requests through Kafka alone. A provider the catalogue accredits (catalogue API, its relay, the
catalog topic, the vouchers consumer) joins the services round; the saga's requests on the
booking topic (published here as the booking service's relay publishes them) are answered on
the vouchers topic, each once; the capture is a redemption credited to the provider; and the
auditor's replay of the vouchers topic matches the service's figures to the cent."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from benecomune_cli.main import app as cli
from benecomune_contracts import BOOKING_TOPIC, VOUCHERS_TOPIC, EventEnvelope
from benecomune_contracts import booking as b
from benecomune_contracts.base import ContractEvent
from servicekit.auth import DevIssuer
from servicekit.italian_ids import fiscal_code_check_character, vat_number_check_digit
from typer.testing import CliRunner

from .support import StackConfig, serving, wait_until

pytestmark = pytest.mark.kafka

VAT = "0261847097" + vat_number_check_digit("0261847097")
PROVIDER = "p-e2e-cura"
HOLDER = "b-e2e-anna"
FISCAL = "RSSNNA40A41A859" + fiscal_code_check_character("RSSNNA40A41A859")


def call(method: str, url: str, token: str, body: dict[str, Any] | None = None) -> Any:
    response = httpx.request(
        method, url, json=body, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    assert response.is_success, f"{url} -> {response.status_code} {response.text}"
    return response.json()


class Saga:
    """The booking service's relay, as far as the vouchers service can tell: the saga's
    requests on the booking topic, keyed by booking, with CloudEvents headers."""

    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.topic = config.topic_prefix + BOOKING_TOPIC.name
        self.notification_id = 0
        self.now = datetime.now(UTC).replace(microsecond=0)

    async def publish(self, *events: ContractEvent) -> None:
        producer = AIOKafkaProducer(
            bootstrap_servers=self.config.bootstrap, enable_idempotence=True
        )
        await producer.start()
        try:
            for event in events:
                self.notification_id += 1
                booking_id: str = getattr(event, "booking_id")  # noqa: B009
                envelope = EventEnvelope(
                    id=str(uuid.uuid4()),
                    source="/benecomune/biella/booking",
                    type=event.type_name,
                    time=self.now,
                    subject=booking_id,
                    notification_id=self.notification_id,
                    sequence=self.notification_id,
                )
                await producer.send_and_wait(
                    self.topic,
                    event.to_json_bytes(),
                    key=booking_id.encode(),
                    headers=envelope.to_headers(),
                )
        finally:
            await producer.stop()

    def booking(self, voucher_id: str, cents: int) -> tuple[str, list[ContractEvent]]:
        """A booking of one elderly-care session paid by the voucher: requested, then held."""
        booking_id = str(uuid.uuid4())
        requested = b.BookingRequested.model_validate(
            {
                "booking_id": booking_id,
                "beneficiary_id": HOLDER,
                "requested_by": "beneficiary",
                "components": [
                    {
                        "component": 1,
                        "offering_id": "o-e2e",
                        "provider_id": PROVIDER,
                        "slot_id": f"s-{booking_id[:8]}",
                        "starts_at": self.now + timedelta(days=3),
                        "price_cents": cents,
                        "category": "elderly_care",
                    }
                ],
                "total_cents": cents,
                "split": [{"source": "voucher", "account_id": voucher_id, "amount_cents": cents}],
                "requested_at": self.now,
            }
        )
        hold = b.FundsHoldRequested(
            booking_id=booking_id,
            component=1,
            request_id=f"booking:{booking_id}:c1:f1:hold",
            source="voucher",
            account_id=voucher_id,
            amount_cents=cents,
            category="elderly_care",
            provider_id=PROVIDER,
            expires_at=self.now + timedelta(days=40),
            requested_at=self.now,
        )
        return booking_id, [requested, hold]

    def capture(self, booking_id: str, voucher_id: str, cents: int) -> b.FundsCaptureRequested:
        return b.FundsCaptureRequested(
            booking_id=booking_id,
            component=1,
            request_id=f"booking:{booking_id}:c1:f1:capture",
            source="voucher",
            account_id=voucher_id,
            hold_request_id=f"booking:{booking_id}:c1:f1:hold",
            provider_id=PROVIDER,
            amount_cents=cents,
            requested_at=self.now,
        )

    def release(self, booking_id: str, voucher_id: str) -> b.FundsReleaseRequested:
        return b.FundsReleaseRequested(
            booking_id=booking_id,
            component=1,
            request_id=f"booking:{booking_id}:c1:f1:release",
            source="voucher",
            account_id=voucher_id,
            hold_request_id=f"booking:{booking_id}:c1:f1:hold",
            requested_at=self.now,
        )


async def answer_types(config: StackConfig) -> list[str]:
    """The service vouchers' answers on the vouchers topic so far, by type."""
    consumer = AIOKafkaConsumer(
        config.topic_prefix + VOUCHERS_TOPIC.name,
        bootstrap_servers=config.bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    found: list[str] = []
    try:
        batches = await consumer.getmany(timeout_ms=2_000)
        while batches:
            for records in batches.values():
                for record in records:
                    kind = dict(record.headers)["ce_type"].decode()
                    if ".ServiceVoucher" in kind:
                        found.append(kind.split(".")[2])
            batches = await consumer.getmany(timeout_ms=1_000)
    finally:
        await consumer.stop()
    return sorted(found)


def test_a_booking_holds_captures_and_releases_service_vouchers_through_kafka_audited(
    stack_config: StackConfig, tmp_path: Path
) -> None:
    issuer = DevIssuer("biella", stack_config.keys_dir)
    operator, worker = issuer.mint("operator"), issuer.mint("social_worker")
    holder = issuer.mint("beneficiary", HOLDER)
    now = datetime.now(UTC).replace(microsecond=0)
    with serving(stack_config, tmp_path, "catalog", "vouchers") as urls:
        catalog_url, vouchers_url = urls["catalog"], urls["vouchers"]
        provider = {
            "provider_id": PROVIDER,
            "legal_name": "Cooperativa Sociale Cura Biella",
            "kind": "coop_a",
            "vat_number": VAT,
            "municipalities": ["096004"],
        }
        call("POST", f"{catalog_url}/providers", operator, provider)
        call("POST", f"{catalog_url}/providers/{PROVIDER}/accreditation", operator)

        fund = call("POST", f"{vouchers_url}/funds", operator, {
            "municipality_istat": "096004", "source_kind": "state_transfer",
            "source_reference": "DGR 12/2026 buoni servizio", "amount_cents": 500_000,
        })  # fmt: skip
        round_id = call("POST", f"{vouchers_url}/rounds", operator, {
            "fund_id": fund["fund_id"], "title": "Buoni servizio anziani",
            "opens_at": (now - timedelta(days=1)).isoformat(),
            "closes_at": (now + timedelta(days=20)).isoformat(), "budget_cents": 200_000,
            "rules": {"base_cents": 20_000, "per_extra_member_cents": 0,
                      "per_minor_cents": 0, "cap_cents": 20_000},
            "denominations_cents": [10_000], "kind": "services",
            "service_categories": ["elderly_care"],
        })["round_id"]  # fmt: skip
        wait_until(
            lambda: any(
                a["merchant_id"] == PROVIDER
                for a in call("GET", f"{vouchers_url}/rounds/{round_id}/merchants", operator)
            ),
            timeout=60,
            what="the accredited provider in the services round",
        )

        application = call("POST", f"{vouchers_url}/applications", holder, {
            "round_id": round_id,
            "applicant": {"fiscal_code": FISCAL, "first_name": "Anna", "last_name": "Rossi"},
            "address": "Via Italia 1, Biella", "isee_cents": 600_000,
            "other_public_support": False, "self_declaration": True,
        })  # fmt: skip
        call("POST", f"{vouchers_url}/applications/{application['application_id']}/approve", worker)
        call("POST", f"{vouchers_url}/rounds/{round_id}/issue", operator)
        first, second = [
            v["voucher_id"] for v in call("GET", f"{vouchers_url}/vouchers/mine", holder)
        ]

        saga = Saga(stack_config)
        delivered, delivered_requests = saga.booking(first, 6_000)
        cancelled, cancelled_requests = saga.booking(second, 3_000)
        _, too_much = saga.booking(second, 10_001)
        asyncio.run(saga.publish(*delivered_requests, *cancelled_requests, *too_much))
        asyncio.run(saga.publish(
            saga.capture(delivered, first, 5_000),
            saga.release(cancelled, second),
            saga.release(cancelled, second),  # sent twice: answered once
        ))  # fmt: skip

        expected = sorted(
            ["ServiceVoucherHeld", "ServiceVoucherHeld", "ServiceVoucherHoldRefused",
             "ServiceVoucherCaptured", "ServiceVoucherReleased"]
        )  # fmt: skip
        wait_until(
            lambda: asyncio.run(answer_types(stack_config)) == expected,
            timeout=60,
            interval=1,
            what="the vouchers service's answers on its topic",
        )
        mine = {v["voucher_id"]: v for v in call("GET", f"{vouchers_url}/vouchers/mine", holder)}
        assert [(mine[v]["remaining_cents"], mine[v]["held_cents"]) for v in (first, second)] == [
            (5_000, 0),
            (10_000, 0),
        ]
        accounts = call("GET", f"{vouchers_url}/rounds/{round_id}/merchants", operator)
        assert [(a["merchant_id"], a["redeemed_cents"]) for a in accounts] == [(PROVIDER, 5_000)]

        result = CliRunner().invoke(
            cli,
            ["audit", "vouchers", "--from", "kafka", "--bootstrap", stack_config.bootstrap,
             "--topic-prefix", stack_config.topic_prefix, "--service-url", vouchers_url],
            env={"BENECOMUNE_KEYS_DIR": str(stack_config.keys_dir)},
        )  # fmt: skip
    print(result.output)
    assert result.exit_code == 0, result.output
    assert "every figure matches to the cent" in result.output
