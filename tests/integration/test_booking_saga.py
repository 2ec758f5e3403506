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
Every wait is bounded; every process is stopped on the way out."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from servicekit.auth import DevIssuer
from servicekit.italian_ids import fiscal_code_check_character, vat_number_check_digit

from .support import StackConfig, serving, wait_until

pytestmark = pytest.mark.kafka

SETTLE = 90  # seconds a saga step may take on a loaded two-core machine
EMPLOYEE = "e1"
CATEGORY = "elderly_care"


@dataclass
class Stack:
    urls: dict[str, str]
    issuer: DevIssuer

    def call(
        self, service: str, method: str, path: str, role: str, subject: str | None = None, **kw: Any
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.issuer.mint(role, subject)}"}
        headers.update(kw.pop("headers", {}))
        return httpx.request(method, self.urls[service] + path, headers=headers, timeout=30, **kw)

    def ok(
        self, service: str, method: str, path: str, role: str, subject: str | None = None, **kw: Any
    ) -> Any:
        response = self.call(service, method, path, role, subject, **kw)
        assert response.is_success, f"{method} {path}: {response.status_code} {response.text}"
        return response.json()

    # --- the catalog: providers, offerings, slots ---------------------------------------------

    def provider(self, provider_id: str, vat_base: str) -> None:
        vat = vat_base + vat_number_check_digit(vat_base)
        self.ok("catalog", "POST", "/providers", "operator", json={
            "provider_id": provider_id, "legal_name": f"Cooperativa {provider_id}",
            "kind": "coop_a", "vat_number": vat, "municipalities": ["096004"],
        })  # fmt: skip
        self.ok("catalog", "POST", f"/providers/{provider_id}/accreditation", "operator")

    def offering(
        self, provider_id: str, price: int, starts: datetime, capacity: int = 1, **terms: Any
    ) -> tuple[str, str]:
        """A published offering of the provider with one slot: (offering id, slot id)."""
        offering_id = self.ok("catalog", "POST", f"/providers/{provider_id}/offerings", "provider",
            provider_id, json={
                "title_it": f"Servizio di {provider_id}", "description_it": "A domicilio",
                "category": CATEGORY, "delivery_mode": "at_home", "price_cents": price,
                "unit": "session", "terms": terms,
            },
        )["offering_id"]  # fmt: skip
        self.ok("catalog", "POST", f"/offerings/{offering_id}/publication", "provider", provider_id)
        slot_id = self.ok("catalog", "POST", f"/offerings/{offering_id}/slots", "provider",
            provider_id, json={
                "starts_at": starts.isoformat(),
                "ends_at": (starts + timedelta(hours=1)).isoformat(), "capacity": capacity,
            },
        )["id"]  # fmt: skip
        return str(offering_id), str(slot_id)

    def available(self, offering_id: str, slot_id: str) -> int:
        slots = httpx.get(f"{self.urls['catalog']}/offerings/{offering_id}/slots", timeout=30)
        return int(next(s["available"] for s in slots.json() if str(s["slot_id"]) == slot_id))

    # --- the wallet: a plan with one employee -------------------------------------------------

    def employee_wallet(self) -> str:
        year = datetime.now(UTC).year
        plan = self.ok("wallet", "POST", "/plans", "employer", "acme", json={
            "vat_number": "06363391001", "year": year, "starts_on": f"{year}-01-01",
            "ends_on": f"{year}-12-31", "budget_cents": 1_000_000,
            "credit_per_employee_cents": 50_000, "categories": [CATEGORY], "end_policy": "reset",
        })  # fmt: skip
        code = "RSSMRA85T10A562"
        code += fiscal_code_check_character(code)
        csv = f"employee_id,fiscal_code,dependent_children\n{EMPLOYEE},{code},no\n"
        report = self.ok("wallet", "POST", f"/plans/{plan['plan_id']}/employees.csv", "employer",
            "acme", content=csv.encode(), headers={"Content-Type": "text/csv"},
        )  # fmt: skip
        return str(report["loaded"][0]["wallet_id"])

    # --- the vouchers service: a services round, a voucher for the employee -------------------

    def services_round(self) -> str:
        now = datetime.now(UTC).replace(microsecond=0)
        fund = self.ok("vouchers", "POST", "/funds", "operator", json={
            "municipality_istat": "096004", "source_kind": "state_transfer",
            "source_reference": "DGR 12/2026 buoni servizio", "amount_cents": 500_000,
        })  # fmt: skip
        return str(self.ok("vouchers", "POST", "/rounds", "operator", json={
            "fund_id": fund["fund_id"], "title": "Buoni servizio anziani",
            "opens_at": (now - timedelta(days=1)).isoformat(),
            "closes_at": (now + timedelta(days=20)).isoformat(), "budget_cents": 200_000,
            "rules": {"base_cents": 10_000, "per_extra_member_cents": 0,
                      "per_minor_cents": 0, "cap_cents": 10_000},
            "denominations_cents": [10_000], "kind": "services",
            "service_categories": [CATEGORY],
        })["round_id"])  # fmt: skip

    def round_accounts(self, round_id: str) -> dict[str, Any]:
        accounts = self.ok("vouchers", "GET", f"/rounds/{round_id}/merchants", "operator")
        return {a["merchant_id"]: a for a in accounts}

    def service_voucher(self, round_id: str) -> str:
        """The employee applies, a social worker approves, the round issues: the voucher."""
        fiscal = "RSSNNA40A41A859" + fiscal_code_check_character("RSSNNA40A41A859")
        application = self.ok("vouchers", "POST", "/applications", "beneficiary", EMPLOYEE, json={
            "round_id": round_id,
            "applicant": {"fiscal_code": fiscal, "first_name": "Anna", "last_name": "Rossi"},
            "address": "Via Italia 1, Biella", "isee_cents": 600_000,
            "other_public_support": False, "self_declaration": True,
        })  # fmt: skip
        path = f"/applications/{application['application_id']}/approve"
        self.ok("vouchers", "POST", path, "social_worker")
        self.ok("vouchers", "POST", f"/rounds/{round_id}/issue", "operator")
        [voucher] = self.my_vouchers()
        return str(voucher["voucher_id"])

    def my_vouchers(self) -> list[Any]:
        return list(self.ok("vouchers", "GET", "/vouchers/mine", "beneficiary", EMPLOYEE))

    def wallet(self, wallet_id: str) -> Any:
        return self.ok("wallet", "GET", f"/wallets/{wallet_id}", "operator")

    # --- the booking --------------------------------------------------------------------------

    def book(
        self, request_id: str, components: list[dict[str, Any]], funding: Any
    ) -> httpx.Response:
        body = {"request_id": request_id, "components": components, "funding": funding}
        return self.call("booking", "POST", "/bookings", "beneficiary", EMPLOYEE, json=body)

    def booking(self, booking_id: str) -> Any:
        return self.ok("booking", "GET", f"/bookings/{booking_id}", "operator")

    def until(self, booking_id: str, what: str, check: Any, timeout: float = SETTLE) -> Any:
        def probe() -> Any:
            view = self.booking(booking_id)
            return view if check(view) else None

        try:
            return wait_until(probe, timeout=timeout, interval=0.3, what=what)
        except AssertionError:
            print(self.booking(booking_id))  # the timeline says where it stopped
            raise


@pytest.fixture
def stack(stack_config: StackConfig, tmp_path: Path) -> Iterator[Stack]:
    with serving(stack_config, tmp_path, "catalog", "wallet", "booking") as urls:
        yield Stack(urls, DevIssuer("biella", stack_config.keys_dir))


@pytest.fixture
def full_stack(stack_config: StackConfig, tmp_path: Path) -> Iterator[Stack]:
    """The vouchers service too (service vouchers)."""
    services = ("catalog", "wallet", "vouchers", "booking")
    with serving(stack_config, tmp_path, *services) as urls:
        yield Stack(urls, DevIssuer("biella", stack_config.keys_dir))


def known_to_booking(stack: Stack, offering_id: str, slot_id: str) -> None:
    """Wait until the booking service has the catalog's offering and slot: a request whose
    split cannot pay any price answers 422 ``offering_unknown`` until then, ``invalid_split``
    after, and books nothing either way."""

    def probe() -> bool:
        parts = [{"offering_id": offering_id, "slot_id": slot_id}]
        r = stack.book("probe", parts, {"split": [{"source": "co_payment", "amount_cents": 1}]})
        assert r.status_code == 422, r.text
        return bool(r.json().get("code") == "invalid_split")

    wait_until(probe, timeout=SETTLE, interval=0.3, what=f"offering {offering_id} at the booking")


def statuses(view: Any) -> list[str]:
    return [c["stage"] for c in view["components"]]


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
