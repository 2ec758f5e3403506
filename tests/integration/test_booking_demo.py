"""The Biella booking demo on the real broker: after the catalogue's and the wallet's demos,
``demo_booking`` leaves bookings in every state — a confirmed package across three providers,
one compensated after a provider declined, one delivered and captured with credit and a
co-payment, one cancelled late with a fee — and the booking audit passes over them."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from benecomune_cli import demo_catalog, demo_wallet
from benecomune_cli.audit_bookings import run
from benecomune_cli.demo_booking import BookingDemo
from servicekit.auth import DevIssuer

from .support import StackConfig, serving

pytestmark = pytest.mark.kafka


def test_the_booking_demo_leaves_bookings_in_every_state(
    stack_config: StackConfig, tmp_path: Path
) -> None:
    issuer = DevIssuer("biella", stack_config.keys_dir)
    with serving(stack_config, tmp_path, "catalog", "wallet", "booking") as urls:
        with httpx.Client(base_url=urls["catalog"], timeout=30) as client:
            demo_catalog.load(client, issuer)
        with httpx.Client(base_url=urls["wallet"], timeout=30) as client:
            demo_wallet.load(client, issuer)
        with httpx.Client(base_url=urls["booking"], timeout=30) as client:
            demo = BookingDemo(client, issuer, urls)
            try:
                package, declined, delivered, late = demo.load()
                views = {b: demo.view(b) for b in (package, declined, delivered, late)}
            finally:
                demo.close()
    assert views[package]["status"] == "confirmed"
    assert len({c["provider_id"] for c in views[package]["components"]}) == 3
    assert views[declined]["status"] == "compensated"
    assert views[declined]["reason"]["code"] == "provider_declined"
    assert views[delivered]["status"] == "completed"
    [settled] = views[delivered]["components"]
    assert settled["settlement"]["co_payment"] == 500 and len(settled["settlement"]) == 2
    assert views[late]["status"] == "cancelled"
    [cancelled] = views[late]["components"]
    assert cancelled["stage"] == "cancelled"
    assert sum(cancelled["settlement"].values()) == cancelled["price_cents"] // 2  # the fee
    audit = run(stack_config.bootstrap, stack_config.topic_prefix, timeout=60)
    print("\n".join(audit.summary_lines()))
    assert audit.ok
    assert audit.figures["bookings_cancelled"] == 1 and audit.figures["co_payment_cents"] >= 500
