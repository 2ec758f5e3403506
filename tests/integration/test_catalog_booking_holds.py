"""The booking saga and the catalog on the real broker: a catalog service process (API, relay
and consumer) reads the booking topic, holds the place a ``SlotHoldRequested`` asks for and
answers ``SlotHeld`` on the catalog topic, naming the booking as the holder; another booking
for the same last place is refused (``not_enough_places``); a request the booking's relay
publishes twice is answered once; a ``SlotReleaseRequested`` gives the place back, and the
slot shows it free again. The test plays the booking service's relay."""

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
from benecomune_contracts import BOOKING_TOPIC, CATALOG_TOPIC, EventEnvelope, parse_event
from benecomune_contracts import booking as b
from benecomune_contracts import catalog as c
from benecomune_contracts.base import ContractEvent
from servicekit.auth import DevIssuer

from .support import StackConfig, serving, wait_until

pytestmark = pytest.mark.kafka

ANSWERS = (c.SlotHeld, c.SlotHoldRefused, c.SlotHoldConfirmed, c.SlotReleased)
PROVIDER = "coop-e2e-cura"
VAT = "01114601006"


class BookingRelay:
    """Publishes the booking's requests as its relay does (CloudEvents headers, key = the
    booking id, a notification id per event, in order on the booking topic's partitions)."""

    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.topic = config.topic_prefix + BOOKING_TOPIC.name
        self.notification_id = 0

    def publish(self, event: Any, notification_id: int | None = None) -> None:
        if notification_id is None:
            self.notification_id += 1
            notification_id = self.notification_id
        envelope = EventEnvelope(
            id=str(uuid.uuid4()),
            source="/benecomune/biella/booking",
            type=event.type_name,
            time=datetime.now(UTC),
            subject=event.booking_id,
            notification_id=notification_id,
            sequence=1,
        )
        asyncio.run(self._send(event, envelope))

    async def _send(self, event: ContractEvent, envelope: EventEnvelope) -> None:
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


def catalog_answers(config: StackConfig) -> list[Any]:
    copy = read_kafka(
        config.bootstrap, config.topic_prefix + CATALOG_TOPIC.name, timeout_seconds=30, workers=0
    )
    found = []
    for message in copy.messages:
        event = parse_event(dict(message.headers)["ce_type"].decode(), message.value or b"")
        if isinstance(event, ANSWERS):
            found.append(event)
    return found


def answer_to(config: StackConfig, request_id: str, kind: type[Any]) -> Any:
    return wait_until(
        lambda: next(
            (
                a
                for a in catalog_answers(config)
                if isinstance(a, kind) and a.request_id == request_id
            ),
            None,
        ),
        timeout=60,
        interval=0.5,
        what=f"{kind.__name__} for {request_id}",
    )


def a_slot_with_one_place(url: str, issuer: DevIssuer) -> tuple[str, str]:
    """An accredited provider's published offering with one slot of one place."""

    def post(path: str, body: dict[str, Any] | None = None) -> Any:
        token = issuer.mint("operator")
        response = httpx.post(
            url + path, json=body, headers={"Authorization": f"Bearer {token}"}, timeout=30
        )
        assert response.is_success, f"{path}: {response.status_code} {response.text}"
        return response.json()

    post(
        "/providers",
        {
            "provider_id": PROVIDER,
            "legal_name": "Cooperativa Cura",
            "kind": "coop_a",
            "vat_number": VAT,
            "municipalities": ["096004"],
        },
    )
    post(f"/providers/{PROVIDER}/accreditation")
    offering_id = post(
        f"/providers/{PROVIDER}/offerings",
        {
            "title_it": "Fisioterapia a domicilio",
            "description_it": "Dopo le dimissioni",
            "category": "services_no_cap",
            "delivery_mode": "at_home",
            "price_cents": 4500,
            "unit": "session",
            "terms": {"instant": True},
        },
    )["offering_id"]
    post(f"/offerings/{offering_id}/publication")
    starts = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
    slot_id = post(
        f"/offerings/{offering_id}/slots",
        {
            "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=1)).isoformat(),
            "capacity": 1,
        },
    )["id"]
    return str(offering_id), str(slot_id)


def hold_request(booking_id: str, offering_id: str, slot_id: str) -> b.SlotHoldRequested:
    now = datetime.now(UTC)
    return b.SlotHoldRequested(
        booking_id=booking_id,
        component=1,
        request_id=f"booking:{booking_id}:c1:slot",
        slot_id=slot_id,
        offering_id=offering_id,
        provider_id=PROVIDER,
        expires_at=now + timedelta(hours=1),
        requested_at=now,
    )


def test_a_slot_hold_requested_on_the_booking_topic_is_held_and_its_release_frees_the_place(
    stack_config: StackConfig, tmp_path: Path
) -> None:
    with serving(stack_config, tmp_path, "catalog") as urls:
        url = urls["catalog"]
        offering_id, slot_id = a_slot_with_one_place(
            url, DevIssuer("biella", stack_config.keys_dir)
        )
        relay = BookingRelay(stack_config)
        first, second = str(uuid.uuid4()), str(uuid.uuid4())
        hold = hold_request(first, offering_id, slot_id)
        relay.publish(hold)
        held = answer_to(stack_config, hold.request_id, c.SlotHeld)
        assert (held.holder, held.slot_id, held.quantity) == (f"booking:{first}", slot_id, 1)

        # The booking's relay published the request again (at a new position), and a second
        # booking wants the same, last place.
        relay.publish(hold)
        other = hold_request(second, offering_id, slot_id)
        relay.publish(other)
        refused = answer_to(stack_config, other.request_id, c.SlotHoldRefused)
        assert (refused.reason, refused.holder) == ("not_enough_places", f"booking:{second}")

        release = b.SlotReleaseRequested(
            booking_id=first,
            component=1,
            request_id=hold.request_id,
            slot_id=slot_id,
            requested_at=datetime.now(UTC),
        )
        relay.publish(release)
        released = answer_to(stack_config, hold.request_id, c.SlotReleased)
        assert (released.quantity, released.holder) == (1, f"booking:{first}")
        (listed,) = httpx.get(f"{url}/offerings/{offering_id}/slots", timeout=30).json()
        assert listed["available"] == 1

        answered = [a.request_id for a in catalog_answers(stack_config)]
        assert answered.count(hold.request_id) == 2  # held once, released once
        assert answered.count(other.request_id) == 1
