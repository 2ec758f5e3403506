"""The wallet HTTP API as its users drive it, and who may see and do what."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from servicekit.auth import DevIssuer
from servicekit.http import create_http_app
from servicekit.italian_ids import fiscal_code_check_character
from servicekit.service import ServiceRuntime
from wallet.service import DEFINITION
from wallet.settings import WalletSettings

GOOD_CODE = "RSSMRA85T10A562" + fiscal_code_check_character("RSSMRA85T10A562")


@dataclass
class Api:
    client: TestClient
    issuer: DevIssuer

    def call(self, method: str, path: str, role: str, subject: str | None = None, **kw: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.issuer.mint(role, subject)}"}
        headers.update(kw.pop("headers", {}))
        return self.client.request(method, path, headers=headers, **kw)


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    settings = WalletSettings(data_dir=tmp_path / "data", keys_dir=tmp_path / "keys")
    runtime = ServiceRuntime(DEFINITION, settings)
    with TestClient(create_http_app(runtime, with_workers=False)) as client:
        yield Api(client, DevIssuer(settings.territory, settings.keys_dir))


def plan_body(year: int) -> dict[str, Any]:
    return {
        "vat_number": "06363391001",
        "year": year,
        "starts_on": f"{year}-01-01",
        "ends_on": f"{year}-12-31",
        "budget_cents": 500_000,
        "credit_per_employee_cents": 40_000,
        "categories": ["services_no_cap", "transport", "fringe_purchase"],
        "end_policy": "reset",
    }


def test_an_employer_loads_credit_an_employee_spends_and_the_provider_sees_it(api: Api) -> None:
    year = datetime.now(UTC).year
    r = api.call("POST", "/plans", "employer", "acme", json=plan_body(year))
    assert r.status_code == 201, r.text
    plan_id = r.json()["plan_id"]
    csv = f"employee_id,fiscal_code,dependent_children\ne1,{GOOD_CODE},no\ne2,BAD,no\n"
    r = api.call(
        "POST",
        f"/plans/{plan_id}/employees.csv",
        "employer",
        "acme",
        content=csv.encode(),
        headers={"Content-Type": "text/csv"},
    )
    assert r.status_code == 200, r.text
    report = r.json()
    assert [row["employee_id"] for row in report["loaded"]] == ["e1"]
    assert report["rejected"][0]["line"] == 3
    wallet_id = report["loaded"][0]["wallet_id"]

    mine = api.call("GET", "/me/wallets", "beneficiary", "e1").json()
    assert [w["wallet_id"] for w in mine] == [wallet_id]
    assert mine[0]["available_by_category"]["transport"] == 40_000

    expires = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    hold = {
        "request_id": "booking-7",
        "provider_id": "coop-1",
        "category": "services_no_cap",
        "amount_cents": 15_000,
        "expires_at": expires,
    }
    r = api.call("POST", f"/wallets/{wallet_id}/holds", "beneficiary", "e1", json=hold)
    assert r.status_code == 201, r.text
    hold_id = r.json()["hold_id"]
    again = api.call("POST", f"/wallets/{wallet_id}/holds", "operator", json=hold)
    assert again.json()["hold_id"] == hold_id and again.json()["wallet"]["held_cents"] == 15_000
    r = api.call(
        "POST",
        f"/wallets/{wallet_id}/holds/{hold_id}/capture",
        "operator",
        json={"request_id": "deliver-7", "amount_cents": 12_000},
    )
    assert r.status_code == 200, r.text
    assert r.json()["wallet"]["total_cents"] == 28_000

    captures = api.call("GET", "/providers/coop-1/captures", "provider", "coop-1").json()
    assert [(c["type"], c["amount_cents"]) for c in captures] == [("captured", 12_000)]
    assert api.call("GET", "/providers/coop-1/captures", "provider", "coop-2").status_code == 403

    history = api.call("GET", f"/wallets/{wallet_id}/history", "beneficiary", "e1").json()
    assert [h["balance_cents"] for h in history][-1] == 28_000

    statement = api.call("GET", f"/plans/{plan_id}/report", "employer", "acme").json()
    assert statement["loaded_cents"] == 40_000
    assert statement["spent_by_category"] == {"services_no_cap": 12_000}
    assert statement["left_cents"] == 28_000
    assert api.call("GET", f"/plans/{plan_id}/report", "auditor").status_code == 200


def test_parties_see_only_their_own(api: Api) -> None:
    year = datetime.now(UTC).year
    plan_id = api.call("POST", "/plans", "employer", "acme", json=plan_body(year)).json()["plan_id"]
    api.call(
        "POST",
        f"/plans/{plan_id}/employees",
        "employer",
        "acme",
        json={"employees": [{"employee_id": "e1"}]},
    )
    wallet_id = api.call(
        "POST", f"/plans/{plan_id}/grants", "employer", "acme", json={"employee_id": "e1"}
    ).json()["wallet_id"]
    assert api.call("GET", f"/plans/{plan_id}", "employer", "other").status_code == 403
    assert api.call("GET", "/plans", "employer", "other").json() == []
    assert api.call("GET", f"/wallets/{wallet_id}", "beneficiary", "e2").status_code == 403
    assert api.call("GET", f"/wallets/{wallet_id}", "beneficiary", "e1").status_code == 200
    spend = {
        "request_id": "x",
        "provider_id": "coop-1",
        "category": "transport",
        "amount_cents": 1_000,
    }
    assert (
        api.call("POST", f"/wallets/{wallet_id}/spend", "beneficiary", "e2", json=spend)
    ).status_code == 403
    assert (
        api.call(
            "POST", f"/plans/{plan_id}/grants", "employer", "other", json={"employee_id": "e1"}
        )
    ).status_code == 403
    assert api.client.get(f"/wallets/{wallet_id}").status_code == 401


def test_a_spend_over_the_fringe_cap_is_answered_with_the_warning(api: Api) -> None:
    year = 2026
    body = {**plan_body(year), "starts_on": "2026-01-01", "credit_per_employee_cents": 150_000}
    plan_id = api.call("POST", "/plans", "employer", "acme", json=body).json()["plan_id"]
    api.call(
        "POST",
        f"/plans/{plan_id}/employees",
        "employer",
        "acme",
        json={"employees": [{"employee_id": "e1"}]},
    )
    wallet_id = api.call(
        "POST", f"/plans/{plan_id}/grants", "employer", "acme", json={"employee_id": "e1"}
    ).json()["wallet_id"]
    hold = {
        "request_id": "big",
        "provider_id": "shop",
        "category": "fringe_purchase",
        "amount_cents": 120_000,
        "expires_at": "2026-12-30T10:00:00+00:00",
    }
    r = api.call("POST", f"/wallets/{wallet_id}/holds", "beneficiary", "e1", json=hold)
    if datetime.now(UTC).year > year:  # the plan has expired: nothing more to check
        return
    assert r.status_code == 409
    assert r.json()["code"] == "fringe_cap_warning"
    r = api.call(
        "POST",
        f"/wallets/{wallet_id}/holds",
        "beneficiary",
        "e1",
        json={**hold, "confirm_taxable": True},
    )
    assert r.status_code == 201, r.text
    payroll = api.call("GET", f"/payroll/{year}", "employer", "acme").json()
    assert payroll == [
        {
            "employee_id": "e1",
            "year": year,
            "cap_cents": 100_000,
            "fringe_cents": 120_000,
            "taxable": True,
            "taxable_cents": 120_000,
        }
    ]


def test_the_auditor_reads_the_plan_figures_at_a_point_of_the_ledger(api: Api) -> None:
    year = datetime.now(UTC).year
    plan_id = api.call("POST", "/plans", "employer", "acme", json=plan_body(year)).json()["plan_id"]

    def upto(point: Any, role: str = "auditor", subject: str | None = None) -> Any:
        return api.call("GET", "/audit/figures", role, subject, params={"upto": point})

    empty, created = upto(0), upto(1)
    behind = upto(10**9)

    assert empty.json() == {"plans": [], "payroll": []}
    (statement,) = created.json()["plans"]
    assert (statement["plan_id"], statement["budget_cents"]) == (plan_id, 500_000)
    assert behind.status_code == 409 and behind.json()["code"] == "ledger_behind"
    assert upto(-1).status_code == 422 and upto(1, "employer", "acme").status_code == 403
