"""The booking saga and the wallet on the real broker: a wallet service process (API, relay and
consumer) reads the booking topic, holds the credit a ``FundsHoldRequested`` asks for and
answers ``FundsHeld`` on the wallet topic; a ``FundsCaptureRequested`` moves the money to the
provider (``HoldCaptured``), the rest going back to the employee; a request the booking's
relay publishes twice is answered once; a hold for a wallet the wallet does not know is
answered ``RequestRefused``. The test plays the booking service's relay."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from benecomune_auditor.kafka_copy import read_kafka
from benecomune_contracts import BOOKING_TOPIC, WALLET_TOPIC, EventEnvelope, parse_event
from benecomune_contracts import booking as b
from benecomune_contracts import wallet as c
from benecomune_contracts.base import ContractEvent
from servicekit.auth import DevIssuer
from servicekit.italian_ids import fiscal_code_check_character

from .support import StackConfig, serving, wait_until

pytestmark = pytest.mark.kafka

BOOKING = str(uuid.uuid4())
ANSWERS = (c.FundsHeld, c.HoldRefused, c.HoldCaptured, c.HoldReleased, c.RequestRefused)


def rid(step: str) -> str:
    return f"booking:{BOOKING}:{step}"


class BookingRelay:
    """Publishes the booking's request events as its relay does (CloudEvents headers, key =
    the booking id, a notification id per event)."""

    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.topic = config.topic_prefix + BOOKING_TOPIC.name
        self.notification_id = 0

    def publish(self, event: ContractEvent, notification_id: int | None = None) -> None:
        if notification_id is None:
            self.notification_id += 1
            notification_id = self.notification_id
        envelope = EventEnvelope(
            id=str(uuid.uuid4()),
            source="/benecomune/biella/booking",
            type=event.type_name,
            time=datetime.now(UTC),
            subject=BOOKING,
            notification_id=notification_id,
            sequence=notification_id,
        )

        async def send() -> None:
            producer = AIOKafkaProducer(
                bootstrap_servers=self.config.bootstrap, enable_idempotence=True, acks="all"
            )
            await producer.start()
            try:
                await producer.send_and_wait(
                    self.topic,
                    event.to_json_bytes(),
                    key=envelope.kafka_key(),
                    headers=envelope.to_headers(),
                )
            finally:
                await producer.stop()

        asyncio.run(send())


def wallet_answers(config: StackConfig) -> list[Any]:
    """The wallet's answers to the saga on its topic so far."""
    copy = read_kafka(
        config.bootstrap, config.topic_prefix + WALLET_TOPIC.name, timeout_seconds=30, workers=0
    )
    found = []
    for message in copy.messages:
        ce_type = dict(message.headers)["ce_type"].decode()
        event = parse_event(ce_type, message.value or b"")
        if isinstance(event, ANSWERS):
            found.append(event)
    return found


def answer_to(config: StackConfig, request_id: str, kind: type[Any]) -> Any:
    def found() -> Any:
        return next(
            (
                a
                for a in wallet_answers(config)
                if isinstance(a, kind) and getattr(a, "request_id", None) == request_id
            ),
            None,
        )

    return wait_until(found, timeout=60, interval=0.5, what=f"{kind.__name__} for {request_id}")


def employee_wallet(url: str, issuer: DevIssuer) -> str:
    """A plan of this year with one employee holding 500 EUR of credit: the wallet's id."""

    def call(method: str, path: str, **kw: Any) -> Any:
        headers = {"Authorization": f"Bearer {issuer.mint('employer', 'acme')}"}
        headers.update(kw.pop("headers", {}))
        response = httpx.request(method, url + path, headers=headers, timeout=30, **kw)
        assert response.status_code < 300, f"{method} {path}: {response.text}"
        return response.json()

    year = datetime.now(UTC).year
    plan = call(
        "POST",
        "/plans",
        json={
            "vat_number": "06363391001",
            "year": year,
            "starts_on": f"{year}-01-01",
            "ends_on": f"{year}-12-31",
            "budget_cents": 1_000_000,
            "credit_per_employee_cents": 50_000,
            "categories": ["services_no_cap", "elderly_care"],
            "end_policy": "reset",
        },
    )
    code = "RSSMRA85T10A562"
    code += fiscal_code_check_character(code)
    csv = f"employee_id,fiscal_code,dependent_children\ne1,{code},no\n"
    report = call(
        "POST",
        f"/plans/{plan['plan_id']}/employees.csv",
        content=csv.encode(),
        headers={"Content-Type": "text/csv"},
    )
    return str(report["loaded"][0]["wallet_id"])


def test_a_hold_requested_on_the_booking_topic_is_held_and_its_capture_pays_the_provider(
    stack_config: StackConfig, tmp_path: Path
) -> None:
    with serving(stack_config, tmp_path, "wallet") as urls:
        url = urls["wallet"]
        issuer = DevIssuer("biella", stack_config.keys_dir)
        wallet_id = employee_wallet(url, issuer)
        relay = BookingRelay(stack_config)
        now = datetime.now(UTC)
        hold = b.FundsHoldRequested(
            booking_id=BOOKING,
            component=1,
            request_id=rid("c1:f1:hold"),
            source="wallet",
            account_id=wallet_id,
            amount_cents=20_000,
            category="elderly_care",
            provider_id="coop-1",
            expires_at=now + timedelta(days=3),
            requested_at=now,
        )
        relay.publish(hold)
        held = answer_to(stack_config, hold.request_id, c.FundsHeld)
        assert (held.wallet_id, held.amount_cents, held.provider_id) == (
            wallet_id,
            20_000,
            "coop-1",
        )

        # The booking's relay crashed and published the request again: no second hold.
        relay.publish(hold)
        capture = b.FundsCaptureRequested(
            booking_id=BOOKING,
            component=1,
            request_id=rid("c1:f1:capture"),
            source="wallet",
            account_id=wallet_id,
            hold_id=held.hold_id,
            hold_request_id=hold.request_id,
            provider_id="coop-1",
            amount_cents=15_000,
            requested_at=now,
        )
        relay.publish(capture)
        captured = wait_until(
            lambda: next(
                (a for a in wallet_answers(stack_config) if isinstance(a, c.HoldCaptured)), None
            ),
            timeout=60,
            interval=0.5,
            what="HoldCaptured",
        )
        assert (captured.hold_id, captured.amount_cents, captured.released_cents) == (
            held.hold_id,
            15_000,
            5_000,
        )
        unknown = hold.model_copy(
            update={"request_id": rid("c2:f1:hold"), "account_id": str(uuid.uuid4())}
        )
        relay.publish(unknown)
        refused = answer_to(stack_config, unknown.request_id, c.RequestRefused)
        assert (refused.request, refused.reason_code) == ("hold", "wallet_not_found")

        # The money moved: the provider is owed 150 EUR, the employee has 350 EUR left.
        auditor = {"Authorization": f"Bearer {issuer.mint('auditor', None)}"}
        wallet = httpx.get(f"{url}/wallets/{wallet_id}", headers=auditor, timeout=30).json()
        assert wallet["held_cents"] == 0
        assert wallet["available_by_category"]["elderly_care"] == 35_000
        owed = httpx.get(f"{url}/providers/coop-1/captures", headers=auditor, timeout=30).json()
        assert [line["amount_cents"] for line in owed] == [15_000]
        # One answer per request: the hold held once, however often it was published.
        answers = wallet_answers(stack_config)
        assert [type(a).__name__ for a in answers] == [
            "FundsHeld",
            "HoldCaptured",
            "RequestRefused",
        ]
