"""An operator opens a round of service vouchers (buoni servizio) over HTTP: its kind and the
catalog categories it covers are validated (422 otherwise), shown with the round, and a food
round stays the default; no shop is affiliated to a services round (its vouchers are spent at
accredited providers, through bookings)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from servicekit.auth import DevIssuer
from servicekit.http import create_http_app
from servicekit.service import ServiceRuntime
from vouchers.service import DEFINITION
from vouchers.settings import VouchersSettings

from .test_http_api import SHOP_VAT, Api, created, ok


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    settings = VouchersSettings(data_dir=tmp_path / "data", keys_dir=tmp_path / "keys")
    runtime = ServiceRuntime(DEFINITION, settings)
    with TestClient(create_http_app(runtime, with_workers=False)) as client:
        yield Api(client, DevIssuer(settings.territory, settings.keys_dir))


def fund(api: Api) -> str:
    body = {
        "municipality_istat": "096004",
        "source_kind": "state_transfer",
        "source_reference": "DGR 12/2026 buoni servizio",
        "amount_cents": 500_000,
    }
    fund_id: str = created(api.post("/funds", "operator", json=body))["fund_id"]
    return fund_id


def round_body(fund_id: str, **changes: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    body = {
        "fund_id": fund_id,
        "title": "Buoni servizio — assistenza anziani",
        "opens_at": (now - timedelta(hours=1)).isoformat(),
        "closes_at": (now + timedelta(days=30)).isoformat(),
        "budget_cents": 200_000,
        "rules": {
            "base_cents": 30_000,
            "per_extra_member_cents": 0,
            "per_minor_cents": 0,
            "cap_cents": 30_000,
        },
        "denominations_cents": [10_000],
    }
    return {**body, **changes}


def test_an_operator_opens_a_services_round_and_everyone_sees_what_it_covers(api: Api) -> None:
    fund_id = fund(api)
    body = round_body(
        fund_id, kind="services", service_categories=["elderly_care", "services_no_cap"]
    )
    round_id = created(api.post("/rounds", "operator", json=body))["round_id"]
    food_id = created(api.post("/rounds", "operator", json=round_body(fund_id)))["round_id"]

    shown = ok(api.get(f"/rounds/{round_id}", "beneficiary", "b-anna"))
    assert (shown["kind"], shown["service_categories"]) == (
        "services",
        ["elderly_care", "services_no_cap"],
    )
    food = ok(api.get(f"/rounds/{food_id}", "social_worker"))
    assert (food["kind"], food["service_categories"]) == ("food", [])


@pytest.mark.parametrize(
    "changes",
    [
        {"kind": "services"},  # no categories
        {"kind": "services", "service_categories": []},
        {"kind": "services", "service_categories": ["pizza"]},  # not the catalog's
        {"kind": "food", "service_categories": ["elderly_care"]},
        {"kind": "spa"},
    ],
)
def test_a_services_round_without_catalog_categories_is_refused_422(
    api: Api, changes: dict[str, Any]
) -> None:
    response = api.post("/rounds", "operator", json=round_body(fund(api), **changes))
    assert response.status_code == 422, response.text


def test_only_the_operator_opens_a_services_round(api: Api) -> None:
    body = round_body(fund(api), kind="services", service_categories=["elderly_care"])
    assert api.post("/rounds", "social_worker", json=body).status_code == 403


def test_no_shop_is_affiliated_to_a_services_round(api: Api) -> None:
    body = round_body(fund(api), kind="services", service_categories=["elderly_care"])
    round_id = created(api.post("/rounds", "operator", json=body))["round_id"]
    shop = {"merchant_id": "m-forno", "vat_number": SHOP_VAT, "goods_categories": ["food"]}
    response = api.post(f"/rounds/{round_id}/merchants", "operator", json=shop)
    assert response.status_code == 409, response.text
    assert response.json()["code"] == "invalid_transition"
