"""Proof: households and shops hear about their vouchers through the real HTTP APIs, Kafka and
both stores — a household served, another rejected, a shop's claim approved and paid — each
notice once, in the recipient's own inbox."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from servicekit.auth import DevIssuer
from servicekit.italian_ids import fiscal_code_check_character

from .support import StackConfig, serving, wait_until

ROME = ZoneInfo("Europe/Rome")
pytestmark = pytest.mark.kafka

ROSSI = "RSSMRA80A01A859" + fiscal_code_check_character("RSSMRA80A01A859")
VERDI = "VRDGPP80A01A859" + fiscal_code_check_character("VRDGPP80A01A859")


def test_households_and_a_shop_hear_about_vouchers_and_reimbursements_once(
    stack_config: StackConfig, tmp_path: Path
) -> None:
    issuer = DevIssuer("biella", stack_config.keys_dir)

    def auth(role: str, subject: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {issuer.mint(role, subject)}"}

    with serving(stack_config, tmp_path, "vouchers", "notifications") as urls:
        v = urls["vouchers"]

        def call(method: str, path: str, headers: dict[str, str], **kw: Any) -> Any:
            response = httpx.request(method, f"{v}{path}", headers=headers, timeout=30, **kw)
            assert response.status_code in (200, 201), response.text
            return response.json()

        operator = auth("operator")
        fund = call(
            "POST",
            "/funds",
            operator,
            json={
                "municipality_istat": "096004",
                "source_kind": "state_transfer",
                "source_reference": "OCDPC 658/2020",
                "amount_cents": 100_000,
            },
        )["fund_id"]
        now = datetime.now(UTC)
        round_id = call(
            "POST",
            "/rounds",
            operator,
            json={
                "fund_id": fund,
                "title": "Buoni spesa",
                "opens_at": (now - timedelta(hours=1)).isoformat(),
                "closes_at": (now + timedelta(days=30)).isoformat(),
                "budget_cents": 50_000,
                "rules": {
                    "base_cents": 5_000,
                    "per_extra_member_cents": 0,
                    "per_minor_cents": 0,
                    "cap_cents": 5_000,
                },
                "validity_days": 60,
            },
        )["round_id"]
        applications = {}
        for beneficiary, code, name in (("b-rossi", ROSSI, "Rossi"), ("b-verdi", VERDI, "Verdi")):
            applications[beneficiary] = call(
                "POST",
                "/applications",
                auth("beneficiary", beneficiary),
                json={
                    "round_id": round_id,
                    "applicant": {"fiscal_code": code, "first_name": "A", "last_name": name},
                    "address": "Via Italia 1, Biella",
                    "isee_cents": 500_000,
                    "other_public_support": False,
                    "self_declaration": True,
                },
            )["application_id"]
        worker = auth("social_worker")
        call("POST", f"/applications/{applications['b-rossi']}/approve", worker)
        call(
            "POST",
            f"/applications/{applications['b-verdi']}/reject",
            worker,
            json={"reason_code": "isee_above_threshold", "reason": "ISEE too high"},
        )
        call("POST", f"/rounds/{round_id}/issue", operator)
        call(
            "POST",
            f"/rounds/{round_id}/merchants",
            operator,
            json={
                "merchant_id": "m-1",
                "vat_number": "06363391001",
                "goods_categories": ["food"],
            },
        )
        shop = auth("merchant", "m-1")
        [voucher] = call("GET", "/vouchers/mine", auth("beneficiary", "b-rossi"))
        call(
            "POST",
            "/merchants/m-1/redemptions",
            shop,
            json={
                "code": voucher["code"],
                "amount_cents": 3_000,
                "goods_category": "food",
                "request_id": "t-1",
            },
        )
        today = datetime.now(ROME).date()  # claim periods are the territory's calendar days
        claim = call(
            "POST",
            f"/merchants/m-1/rounds/{round_id}/claims",
            shop,
            json={"period_from": str(today), "period_to": str(today)},
        )
        path = f"/rounds/{round_id}/merchants/m-1/claims/{claim['claim_id']}"
        due = today + timedelta(days=30)
        call("POST", f"{path}/approve", operator, json={"payment_due_on": str(due)})
        call("POST", f"{path}/pay", operator, json={"payment_reference": "CRO 4471"})

        rossi = call("GET", f"/applications/{applications['b-rossi']}", worker)["household_id"]
        inbox = f"{urls['notifications']}/inbox"

        def read(recipient: str, headers: dict[str, str]) -> list[dict[str, Any]]:
            response = httpx.get(
                f"{inbox}/{recipient}", headers=headers, params={"lang": "en"}, timeout=30
            )
            assert response.status_code == 200, response.text
            notices: list[dict[str, Any]] = response.json()
            return notices

        wait_until(
            lambda: len(read("merchant:m-1", shop)) == 2,
            timeout=90,
            what="the shop's two notices",
        )
        time.sleep(1.5)  # a second effect, if there were one, would have arrived by now
        shop_notices = read("merchant:m-1", shop)
        # Each applicant reads their household's notices in their own inbox, nobody else's.
        rossi_notices = read("beneficiary:b-rossi", auth("beneficiary", "b-rossi"))
        verdi_notices = read("beneficiary:b-verdi", auth("beneficiary", "b-verdi"))
        intruder = httpx.get(
            f"{inbox}/household:{rossi}", headers=auth("beneficiary", "b-verdi"), timeout=30
        )
        assert intruder.status_code == 403

    assert [n["template"] for n in shop_notices] == ["claim_paid", "claim_approved"]
    assert "€30.00" in shop_notices[0]["text"] and "CRO 4471" in shop_notices[0]["text"]
    assert f"{due.day} " in shop_notices[1]["text"]
    assert [n["template"] for n in rossi_notices] == ["vouchers_issued"]
    assert "1 vouchers worth €50.00 in total" in rossi_notices[0]["text"]
    assert [n["template"] for n in verdi_notices] == ["application_rejected"]
    assert "isee_above_threshold" in verdi_notices[0]["text"]
    assert "ISEE too high" not in verdi_notices[0]["text"]
