"""The Biella wallet demo loads through the wallet API and tells a story whose figures add up."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from benecomune_cli import demo_wallet
from benecomune_cli.demo_territory import SHOPS
from benecomune_cli.tokens import demo_subject_id
from fastapi.testclient import TestClient
from servicekit.auth import DevIssuer
from servicekit.http import create_http_app
from servicekit.italian_ids import InvalidFiscalCode, validate_fiscal_code, validate_vat_number
from servicekit.service import ServiceRuntime
from wallet.service import DEFINITION
from wallet.settings import WalletSettings

ALL_STAFF = [e for employer in demo_wallet.EMPLOYERS for e in employer.staff]


@dataclass
class LoadedDemo:
    client: TestClient
    issuer: DevIssuer
    plan_ids: list[str]
    csv_reports: list[dict[str, Any]] = field(default_factory=list)

    def get(self, path: str, role: str = "auditor", subject_id: str | None = None) -> Any:
        token = self.issuer.mint(role, subject_id)
        response = self.client.get(path, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, response.text
        return response.json()


@contextmanager
def wallet_service(root: Path) -> Iterator[tuple[TestClient, DevIssuer]]:
    settings = WalletSettings(data_dir=root / "data", keys_dir=root / "keys")
    runtime = ServiceRuntime(DEFINITION, settings)
    with TestClient(create_http_app(runtime, with_workers=False)) as client:
        yield client, DevIssuer(settings.territory, settings.keys_dir)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoadedDemo]:
    """The demo loaded once into a fresh wallet service; the tests only read it."""
    with wallet_service(tmp_path_factory.mktemp("wallet-demo")) as (client, issuer):
        reports: list[dict[str, Any]] = []

        def keep_csv_report(response: httpx.Response) -> None:
            if response.request.url.path.endswith("/employees.csv"):
                response.read()
                reports.append(response.json())

        client.event_hooks = {"request": [], "response": [keep_csv_report]}
        plan_ids = demo_wallet.load(client, issuer)
        client.event_hooks = {"request": [], "response": []}
        yield LoadedDemo(client, issuer, plan_ids, reports)


def test_every_demo_fiscal_code_and_vat_number_is_valid_except_the_mistyped_row() -> None:
    good = [e.fiscal_code for e in ALL_STAFF if e.employee_id != demo_wallet.MISTYPED_EMPLOYEE_ID]
    assert [validate_fiscal_code(c) for c in good] == good
    assert len(set(good)) == len(good)
    (mistyped,) = [e for e in ALL_STAFF if e.employee_id == demo_wallet.MISTYPED_EMPLOYEE_ID]
    with pytest.raises(InvalidFiscalCode):
        validate_fiscal_code(mistyped.fiscal_code)
    vat_numbers = [e.vat_number for e in demo_wallet.EMPLOYERS]
    assert [validate_vat_number(v) for v in vat_numbers] == vat_numbers
    # Employers are not the vouchers demo's shops (nor one another).
    everyone = [*vat_numbers, *(shop.vat_number for shop in SHOPS)]
    assert len(set(everyone)) == len(everyone)


def test_the_demo_uses_the_subjects_of_the_demo_tokens() -> None:
    assert demo_subject_id("employer", "biella") == demo_wallet.DEMO_EMPLOYER
    assert demo_subject_id("beneficiary", "biella") == demo_wallet.DEMO_EMPLOYEE
    assert demo_subject_id("provider", "biella") == demo_wallet.DEMO_PROVIDER
    assert demo_wallet.DEMO_PROVIDER in demo_wallet.PROVIDERS


def test_each_employer_has_one_plan_for_the_current_year_with_both_end_policies_shown(
    demo: LoadedDemo,
) -> None:
    plans = [demo.get(f"/plans/{plan_id}") for plan_id in demo.plan_ids]
    year = datetime.now(UTC).year
    assert [p["employer_id"] for p in plans] == [e.employer_id for e in demo_wallet.EMPLOYERS]
    assert {p["year"] for p in plans} == {year}
    assert all(p["starts_on"] <= str(datetime.now(UTC).date()) <= p["ends_on"] for p in plans)
    assert {p["end_policy"] for p in plans} == {"reset", "carry_over"}
    assert [p["employees"] for p in plans] == [4, 4, 2]


def test_the_mistyped_csv_row_is_reported_and_no_other_row_is_rejected(demo: LoadedDemo) -> None:
    rejected = [row for report in demo.csv_reports for row in report["rejected"]]
    assert len(rejected) == 1
    assert rejected[0]["employee_id"] == demo_wallet.MISTYPED_EMPLOYEE_ID
    assert rejected[0]["line"] == 6  # the header is line 1
    assert "check character" in rejected[0]["reason"]
    loaded = {row["employee_id"] for report in demo.csv_reports for row in report["loaded"]}
    assert loaded == {e.employee_id for e in ALL_STAFF} - {demo_wallet.MISTYPED_EMPLOYEE_ID}


def test_every_plan_statement_adds_up_to_the_credit_loaded(demo: LoadedDemo) -> None:
    for plan_id in demo.plan_ids:
        s = demo.get(f"/plans/{plan_id}/report")
        assert s["spent_cents"] == sum(s["spent_by_category"].values())
        assert (
            s["loaded_cents"] + s["carried_in_cents"] + (s["bonus_converted_cents"] or 0)
            == s["spent_cents"]
            + s["held_cents"]
            + s["left_cents"]
            + s["expired_cents"]
            + s["carried_over_cents"]
        )
        assert s["budget_cents"] == s["loaded_cents"] + s["unallocated_cents"]
        wallets = demo.get(f"/plans/{plan_id}/wallets")
        assert s["left_cents"] == sum(w["total_cents"] for w in wallets)
        assert s["held_cents"] == sum(w["held_cents"] for w in wallets)
    mill = demo.get(f"/plans/{demo.plan_ids[0]}/report")
    # Lucia's after-school and vouchers, Marco's home care less the refund; Lucia's home care
    # is held until the cooperative accepts it.
    assert mill["spent_by_category"] == {
        "education_childcare": 32_000,
        "elderly_care": 47_000 - 9_400,
        "fringe_purchase": 25_000,
    }
    assert mill["held_cents"] == 18_800
    assert mill["loaded_cents"] == 4 * 80_000


def test_the_mechanical_firm_converts_one_employees_productivity_bonus_into_credit(
    demo: LoadedDemo,
) -> None:
    mill, firm, bank = (demo.get(f"/plans/{plan_id}/report") for plan_id in demo.plan_ids)
    assert (mill["bonus_converted_cents"], bank["bonus_converted_cents"]) == (None, None)
    assert firm["bonus_converted_cents"] == 150_000
    assert firm["loaded_cents"] == 4 * 60_000  # the bonus does not come from the budget
    wallets = demo.get(f"/plans/{demo.plan_ids[1]}/wallets")
    [roberto] = [w for w in wallets if w["employee_id"] == demo_wallet.TAXABLE_EMPLOYEE_ID]
    assert roberto["bonus_converted_cents"] == 150_000
    assert roberto["total_cents"] == 60_000 + 150_000 - 110_000  # less his fringe purchases


def test_lucia_names_her_family_and_her_mothers_caregiver_books_for_her_mother(
    demo: LoadedDemo,
) -> None:
    lucia = demo_subject_id("beneficiary", "biella")
    family = demo.get("/me/family", "beneficiary", lucia)
    assert family == {
        "employee_id": lucia,
        "members": [
            {"member_id": "mother-1", "relationship": "parent"},
            {"member_id": "son-1", "relationship": "child"},
        ],
        "delegate_id": demo_wallet.CAREGIVER,
    }
    (wallet,) = demo.get("/me/delegated-wallets", "beneficiary", demo_wallet.CAREGIVER)
    assert wallet["employee_id"] == lucia
    by_member = {h["member_id"]: h for h in wallet["holds"] if h["member_id"]}
    assert by_member["son-1"]["category"] == "education_childcare"
    care = by_member["mother-1"]
    assert (care["category"], care["status"], care["delegate_id"]) == (
        "elderly_care",
        "held",
        demo_wallet.CAREGIVER,
    )


def test_the_holds_show_every_outcome_of_a_booking(demo: LoadedDemo) -> None:
    holds = [
        h
        for plan_id in demo.plan_ids
        for w in demo.get(f"/plans/{plan_id}/wallets")
        for h in w["holds"]
    ]
    statuses = sorted(h["status"] for h in holds)
    assert statuses == ["captured"] * 10 + ["held", "released"]
    assert any(0 < h["refunded_cents"] < h["captured_cents"] for h in holds)
    assert any(0 < h["captured_cents"] < h["amount_cents"] for h in holds)
    assert {h["provider_id"] for h in holds} == {*demo_wallet.PROVIDERS, demo_wallet.SHOP}


def test_the_demo_employer_employee_and_provider_each_see_their_own_data(
    demo: LoadedDemo,
) -> None:
    employer = demo.get("/plans", "employer", demo_subject_id("employer", "biella"))
    assert [p["plan_id"] for p in employer] == [demo.plan_ids[0]]

    (wallet,) = demo.get("/me/wallets", "beneficiary", demo_subject_id("beneficiary", "biella"))
    assert wallet["plan_id"] == demo.plan_ids[0]
    assert sorted(h["status"] for h in wallet["holds"]) == ["captured", "captured", "held"]
    assert 0 < wallet["total_cents"] < 80_000
    history = demo.get(
        f"/wallets/{wallet['wallet_id']}/history",
        "beneficiary",
        demo_subject_id("beneficiary", "biella"),
    )
    assert history[-1]["balance_cents"] == wallet["total_cents"] + wallet["held_cents"]

    provider_id = demo_subject_id("provider", "biella")
    captures = demo.get(f"/providers/{provider_id}/captures", "provider", provider_id)
    assert sorted(c["type"] for c in captures) == ["captured", "captured", "refunded"]


def test_the_payroll_shows_the_one_employee_whose_fringe_benefits_became_taxable(
    demo: LoadedDemo,
) -> None:
    year = datetime.now(UTC).year
    lines = demo.get(f"/payroll/{year}")
    taxable = [line for line in lines if line["taxable"]]
    assert taxable == [
        {
            "employee_id": demo_wallet.TAXABLE_EMPLOYEE_ID,
            "year": year,
            "cap_cents": 100_000,
            "fringe_cents": 110_000,
            "taxable": True,
            "taxable_cents": 110_000,  # the whole year's amount, not just what crossed the cap
        }
    ]
    # Lucia has dependent children: her cap is 2,000 EUR and her purchase stays tax-free.
    (lucia,) = [line for line in lines if line["employee_id"] == demo_wallet.DEMO_EMPLOYEE]
    assert (lucia["cap_cents"], lucia["fringe_cents"], lucia["taxable"]) == (200_000, 25_000, False)
    employer = demo.get(f"/payroll/{year}", "employer", "e-biella-002")
    assert [line["employee_id"] for line in employer if line["taxable"]] == [
        demo_wallet.TAXABLE_EMPLOYEE_ID
    ]


def test_loading_again_after_an_interruption_reuses_what_is_there_and_moves_no_money_twice(
    tmp_path: Path,
) -> None:
    with wallet_service(tmp_path) as (client, issuer):
        plan_ids = demo_wallet.load(client, issuer)
        auditor = {"Authorization": f"Bearer {issuer.mint('auditor')}"}

        def statements() -> list[Any]:
            return [client.get(f"/plans/{p}/report", headers=auditor).json() for p in plan_ids]

        before = statements()
        assert demo_wallet.load(client, issuer) == plan_ids
        assert statements() == before


def test_a_refusal_by_the_api_stops_the_load_with_the_response_text(tmp_path: Path) -> None:
    with wallet_service(tmp_path / "service") as (client, _):
        stranger = DevIssuer("biella", tmp_path / "other-keys")  # tokens the service rejects
        with pytest.raises(demo_wallet.DemoDataError, match=r"GET /plans as employer:.* -> 401"):
            demo_wallet.load(client, stranger)
