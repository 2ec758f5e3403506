"""Proof: a shop the catalogue admits to the voucher programme joins the open voucher round of
its municipality through Kafka alone — catalogue API, relay, topic, the vouchers consumer and
its store — once."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from servicekit.auth import DevIssuer
from servicekit.italian_ids import vat_number_check_digit

from .support import StackConfig, serving, wait_until

pytestmark = pytest.mark.kafka

VAT = "0261847096" + vat_number_check_digit("0261847096")


def post(url: str, token: str, body: dict[str, Any] | None = None) -> Any:
    response = httpx.post(url, json=body, headers={"Authorization": f"Bearer {token}"})
    assert response.is_success, f"{url} -> {response.status_code} {response.text}"
    return response.json()


def test_a_shop_admitted_by_the_catalogue_joins_the_voucher_round_once(
    stack_config: StackConfig, tmp_path: Path
) -> None:
    operator = DevIssuer("biella", stack_config.keys_dir).mint("operator")
    now = datetime.now(UTC).replace(microsecond=0)
    with serving(stack_config, tmp_path, "catalog", "vouchers") as urls:
        catalog_url, vouchers_url = urls["catalog"], urls["vouchers"]
        fund = post(
            f"{vouchers_url}/funds",
            operator,
            {
                "municipality_istat": "096004",
                "source_kind": "state_transfer",
                "source_reference": "OCDPC 658/2020",
                "amount_cents": 1_000_000,
            },
        )
        round_id = post(
            f"{vouchers_url}/rounds",
            operator,
            {
                "fund_id": fund["fund_id"],
                "title": "Buoni spesa",
                "opens_at": (now - timedelta(days=1)).isoformat(),
                "closes_at": (now + timedelta(days=20)).isoformat(),
                "budget_cents": 500_000,
                "rules": {
                    "base_cents": 15_000,
                    "per_extra_member_cents": 0,
                    "per_minor_cents": 0,
                    "cap_cents": 15_000,
                },
            },
        )["round_id"]

        shop = "m-e2e-forno"
        post(
            f"{catalog_url}/providers",
            operator,
            {
                "provider_id": shop,
                "legal_name": "Forno di Riva",
                "kind": "shop",
                "vat_number": VAT,
                "municipalities": ["096004"],
            },
        )
        post(f"{catalog_url}/providers/{shop}/accreditation", operator)
        post(
            f"{catalog_url}/providers/{shop}/merchant-affiliation",
            operator,
            {"goods_categories": ["food"]},
        )

        merchants_url = f"{vouchers_url}/rounds/{round_id}/merchants"
        headers = {"Authorization": f"Bearer {operator}"}
        accounts = wait_until(
            lambda: httpx.get(merchants_url, headers=headers).json() or None,
            timeout=60,
            what="the shop in the voucher round",
        )
        time.sleep(1.5)  # a second affiliation, if there were one, would have arrived by now
        accounts = httpx.get(merchants_url, headers=headers).json()

    assert [(a["merchant_id"], a["vat_number"]) for a in accounts] == [(shop, VAT)]
