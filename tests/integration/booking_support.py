"""Shared by the booking saga's integration tests: the four services' APIs driven as an
operator, the providers, an employer and the families would (``Stack``), and the wait until the
booking service knows an offering the catalog published."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from servicekit.auth import DevIssuer
from servicekit.italian_ids import fiscal_code_check_character, vat_number_check_digit

from .support import wait_until

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
        return self.employee_wallets([EMPLOYEE])[EMPLOYEE]

    def employee_wallets(self, employees: list[str]) -> dict[str, str]:
        """A plan of employer acme with these employees (at most 20): their wallet ids."""
        year = datetime.now(UTC).year
        plan = self.ok("wallet", "POST", "/plans", "employer", "acme", json={
            "vat_number": "06363391001", "year": year, "starts_on": f"{year}-01-01",
            "ends_on": f"{year}-12-31", "budget_cents": 1_000_000,
            "credit_per_employee_cents": 50_000, "categories": [CATEGORY], "end_policy": "reset",
        })  # fmt: skip
        csv = "employee_id,fiscal_code,dependent_children\n"
        for n, employee in enumerate(employees):
            code = f"RSSMRA85T{10 + n}A562"
            csv += f"{employee},{code + fiscal_code_check_character(code)},no\n"
        report = self.ok("wallet", "POST", f"/plans/{plan['plan_id']}/employees.csv", "employer",
            "acme", content=csv.encode(), headers={"Content-Type": "text/csv"},
        )  # fmt: skip
        return {str(r["employee_id"]): str(r["wallet_id"]) for r in report["loaded"]}

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
        return self.service_vouchers(round_id, [EMPLOYEE])[EMPLOYEE]

    def service_vouchers(self, round_id: str, beneficiaries: list[str]) -> dict[str, str]:
        """Each beneficiary (at most 20) applies, a social worker approves, the round issues:
        their voucher ids."""
        for n, beneficiary in enumerate(beneficiaries):
            code = f"RSSNNA40A{41 + n}A859"
            fiscal = code + fiscal_code_check_character(code)
            application = self.ok("vouchers", "POST", "/applications", "beneficiary",
                beneficiary, json={
                "round_id": round_id,
                "applicant": {"fiscal_code": fiscal, "first_name": "Anna", "last_name": "Rossi"},
                "address": f"Via Italia {n + 1}, Biella", "isee_cents": 600_000,
                "other_public_support": False, "self_declaration": True,
            })  # fmt: skip
            path = f"/applications/{application['application_id']}/approve"
            self.ok("vouchers", "POST", path, "social_worker")
        self.ok("vouchers", "POST", f"/rounds/{round_id}/issue", "operator")
        vouchers = {}
        for beneficiary in beneficiaries:
            [voucher] = self.my_vouchers(beneficiary)
            vouchers[beneficiary] = str(voucher["voucher_id"])
        return vouchers

    def my_vouchers(self, beneficiary: str = EMPLOYEE) -> list[Any]:
        return list(self.ok("vouchers", "GET", "/vouchers/mine", "beneficiary", beneficiary))

    def wallet(self, wallet_id: str) -> Any:
        return self.ok("wallet", "GET", f"/wallets/{wallet_id}", "operator")

    # --- the booking --------------------------------------------------------------------------

    def book(
        self,
        request_id: str,
        components: list[dict[str, Any]],
        funding: Any,
        beneficiary: str = EMPLOYEE,
    ) -> httpx.Response:
        body = {"request_id": request_id, "components": components, "funding": funding}
        return self.call("booking", "POST", "/bookings", "beneficiary", beneficiary, json=body)

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
