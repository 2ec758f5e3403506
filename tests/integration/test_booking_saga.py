"""Proof of the booking saga on the real broker: the booking, catalog and wallet services run as
real processes (API, relay and consumer each), set up through their HTTP APIs as an operator,
the providers and an employer would, and talk only through Kafka.

(a) an employee books a package of three providers' offerings (one instant, two accepted by
their providers on the booking API), paid with a service voucher, welfare credit and a
co-payment (the vouchers service runs too): confirmed, delivered, confirmed by the family and
captured; the wallet shows the capture, the voucher its redemptions credited to the providers,
each provider's statement what the voucher and credit paid and the co-payment due;
(b) a provider declines: everything is released, the slots are bookable again and the wallet's
hold is released;
(c) 50 concurrent bookings for the last place of a slot: exactly one is confirmed, the others
are compensated with the reason ``slot_unavailable``.
(a) runs on SQLite and on PostgreSQL. Every wait is bounded; every process is stopped on the
way out."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from servicekit.auth import DevIssuer

from .booking_support import EMPLOYEE, SETTLE, Stack, known_to_booking
from .support import StackConfig, serving, wait_until

pytestmark = pytest.mark.kafka


@pytest.fixture
def stack(stack_config: StackConfig, tmp_path: Path) -> Iterator[Stack]:
    with serving(stack_config, tmp_path, "catalog", "wallet", "booking") as urls:
        yield Stack(urls, DevIssuer("biella", stack_config.keys_dir))


@pytest.fixture
def full_stack(
    stack_config: StackConfig, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Stack]:
    """The vouchers service too (service vouchers); on SQLite, or on PostgreSQL (each service
    its own schema of one throw-away database) when parametrized so."""
    if getattr(request, "param", "sqlite") == "postgres":
        stack_config.store = "postgres"
        stack_config.postgres = request.getfixturevalue("postgres_settings")
    services = ("catalog", "wallet", "vouchers", "booking")
    with serving(stack_config, tmp_path, *services) as urls:
        yield Stack(urls, DevIssuer("biella", stack_config.keys_dir))


def statuses(view: Any) -> list[str]:
    return [c["stage"] for c in view["components"]]


@pytest.mark.parametrize(
    "full_stack", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_a_package_of_three_providers_is_confirmed_delivered_and_captured(
    full_stack: Stack,
) -> None:
    stack = full_stack
    wallet_id = stack.employee_wallet()
    round_id = stack.services_round()
    offers: list[tuple[str, int, dict[str, Any]]] = [
        ("coop-nurse", 4_500, {"instant": True}),
        ("coop-physio", 6_000, {"acceptance_hours": 24}),
        ("coop-meals", 2_500, {"acceptance_hours": 12}),
    ]
    for n, (provider, _, _) in enumerate(offers):
        stack.provider(provider, f"0261847{n + 1:03d}")
    wait_until(
        lambda: set(stack.round_accounts(round_id)) == {p for p, _, _ in offers},
        timeout=SETTLE, what="the accredited providers in the services round",
    )  # fmt: skip
    voucher_id = stack.service_voucher(round_id)

    starts = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=60)
    parts = []
    for n, (provider, price, terms) in enumerate(offers):
        parts.append(
            (
                provider,
                *stack.offering(provider, price, starts + timedelta(seconds=10 * n), **terms),
            )
        )
    for _, offering_id, slot_id in parts:
        known_to_booking(stack, offering_id, slot_id)

    split = [
        {"source": "voucher", "account_id": voucher_id, "amount_cents": 5_000},
        {"source": "wallet", "account_id": wallet_id, "amount_cents": 6_000},
        {"source": "co_payment", "amount_cents": 2_000},
    ]
    components = [
        {"offering_id": o, "slot_id": s, "order": n + 1} for n, (_, o, s) in enumerate(parts)
    ]
    r = stack.book("package-1", components, {"split": split})
    assert r.status_code == 202, r.text
    booking_id = r.json()["booking_id"]

    # every slot and the credit held: the instant offering is accepted, the others asked
    view = stack.until(booking_id, "the providers asked", lambda v: [
        c["acceptance"] for c in v["components"]
    ] == ["accepted", "requested", "requested"])  # fmt: skip
    assert view["total_cents"] == 13_000 and view["split"]["co_payment"] == 2_000
    assert stack.my_vouchers()[0]["held_cents"] == 5_000
    for provider, _, _ in parts:
        pending = stack.ok("booking", "GET", f"/providers/{provider}/bookings?queue=pending",
                           "provider", provider)  # fmt: skip
        expected = [] if provider == "coop-nurse" else [booking_id]
        assert [b["booking_id"] for b in pending] == expected
    for index, (provider, _, _) in list(enumerate(parts, start=1))[1:]:
        stack.ok("booking", "POST", f"/bookings/{booking_id}/components/{index}/accept",
                 "provider", provider)  # fmt: skip
    stack.until(booking_id, "confirmed, slots confirmed", lambda v: v["status"] == "confirmed"
                and all(c["slot_status"] == "confirmed" for c in v["components"]))  # fmt: skip
    held = stack.wallet(wallet_id)
    assert held["held_cents"] == 6_000

    # the slots start; each provider marks its component delivered, the family confirms
    for index, (provider, _, _) in enumerate(parts, start=1):
        slot_start = starts + timedelta(seconds=10 * (index - 1) + 1)
        wait_until(lambda: datetime.now(UTC) > slot_start, timeout=200, what="the slot")  # noqa: B023
        stack.ok("booking", "POST", f"/bookings/{booking_id}/components/{index}/delivered",
                 "provider", provider, json={"note": "fatto"})  # fmt: skip
        stack.ok("booking", "POST", f"/bookings/{booking_id}/components/{index}/"
                 "delivery-confirmation", "beneficiary", EMPLOYEE)  # fmt: skip
    done = stack.until(booking_id, "completed", lambda v: v["status"] == "completed")
    assert statuses(done) == ["captured", "captured", "captured"]
    paid = {c["provider_id"]: c["settlement"] for c in done["components"]}
    voucher = f"voucher:{voucher_id}"
    assert sum(s.get(voucher, 0) for s in paid.values()) == 5_000
    assert sum(s.get(f"wallet:{wallet_id}", 0) for s in paid.values()) == 6_000
    assert sum(s.get("co_payment", 0) for s in paid.values()) == 2_000

    # the wallet: the holds captured, nothing held any more, the credit spent
    after = stack.wallet(wallet_id)
    assert after["held_cents"] == 0
    assert after["total_cents"] == 50_000 - 6_000
    # the voucher: its share redeemed, credited to each provider's account in the round
    [left] = stack.my_vouchers()
    assert (left["remaining_cents"], left["held_cents"]) == (5_000, 0)
    accounts = stack.round_accounts(round_id)
    assert {p: a["redeemed_cents"] for p, a in accounts.items()} == {
        p: paid[p].get(voucher, 0) for p, _, _ in parts
    }
    for provider, _, _ in parts:
        captures = stack.ok("wallet", "GET", f"/providers/{provider}/captures", "operator")
        share = paid[provider].get(f"wallet:{wallet_id}", 0)
        assert sum(c.get("amount_cents", 0) for c in captures) == share, captures
        statement = stack.ok("booking", "GET", f"/providers/{provider}/statement", "provider",
                             provider)  # fmt: skip
        assert statement["captured_cents"] == share + paid[provider].get(voucher, 0)
        assert statement["co_payment_due_cents"] == paid[provider].get("co_payment", 0)


def test_a_provider_declines_and_everything_is_released(stack: Stack) -> None:
    wallet_id = stack.employee_wallet()
    starts = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
    stack.provider("coop-a", "0261847004")
    stack.provider("coop-b", "0261847005")
    one = stack.offering("coop-a", 4_000, starts, instant=True)
    two = stack.offering("coop-b", 5_000, starts + timedelta(hours=2), acceptance_hours=24)
    for offering_id, slot_id in (one, two):
        known_to_booking(stack, offering_id, slot_id)
    components = [{"offering_id": o, "slot_id": s} for o, s in (one, two)]
    funding = {"wallet": {"wallet_id": wallet_id, "available_cents": 50_000}}
    r = stack.book("declined-1", components, funding)
    assert r.status_code == 202, r.text
    booking_id = r.json()["booking_id"]
    stack.until(
        booking_id, "coop-b asked", lambda v: v["components"][1]["acceptance"] == "requested"
    )
    assert stack.wallet(wallet_id)["held_cents"] == 9_000
    assert stack.available(*one) == 0 and stack.available(*two) == 0

    stack.ok("booking", "POST", f"/bookings/{booking_id}/components/2/decline", "provider",
             "coop-b", json={"note": "nessun operatore libero"})  # fmt: skip
    view = stack.until(booking_id, "compensated", lambda v: v["status"] == "compensated")
    assert view["reason"]["code"] == "provider_declined"
    assert {c["slot_status"] for c in view["components"]} == {"released"}
    assert {f["status"] for c in view["components"] for f in c["funds"]} == {"released"}
    wallet = stack.wallet(wallet_id)
    assert wallet["held_cents"] == 0 and wallet["total_cents"] == 50_000
    assert {h["status"] for h in wallet["holds"]} == {"released"}
    assert stack.available(*one) == 1 and stack.available(*two) == 1  # bookable again
    again = stack.book("declined-2", components[:1], {})
    assert again.status_code == 202, again.text
    stack.until(again.json()["booking_id"], "booked again", lambda v: v["status"] == "confirmed")


def test_fifty_concurrent_bookings_for_the_last_place_confirm_exactly_one(stack: Stack) -> None:
    starts = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)
    stack.provider("coop-last", "0261847006")
    offering_id, slot_id = stack.offering("coop-last", 3_000, starts, capacity=1, instant=True)
    known_to_booking(stack, offering_id, slot_id)
    component = [{"offering_id": offering_id, "slot_id": slot_id}]

    def book(n: int) -> str:
        r = stack.book(f"last-{n}", component, {})
        assert r.status_code == 202, r.text
        return str(r.json()["booking_id"])

    with ThreadPoolExecutor(max_workers=10) as pool:
        ids = list(pool.map(book, range(50)))
    assert len(set(ids)) == 50

    settled = ("confirmed", "compensated")
    deadline = time.monotonic() + 2 * SETTLE
    views: dict[str, Any] = {}
    while time.monotonic() < deadline and len(views) < 50:  # bounded by the deadline
        for booking_id in ids:
            if booking_id not in views:
                view = stack.booking(booking_id)
                if view["status"] in settled:
                    views[booking_id] = view
        time.sleep(0.5)
    assert len(views) == 50, f"{50 - len(views)} bookings not settled in time"
    confirmed = [v for v in views.values() if v["status"] == "confirmed"]
    compensated = [v for v in views.values() if v["status"] == "compensated"]
    assert len(confirmed) == 1 and len(compensated) == 49
    assert {v["reason"]["code"] for v in compensated} == {"slot_unavailable"}
    assert all(v["reason"]["en"] for v in compensated)
    assert stack.available(offering_id, slot_id) == 0
