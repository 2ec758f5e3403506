"""`benecomune demo`: the Biella story loads through the vouchers API and shows every status."""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from benecomune_cli import demo
from benecomune_contracts import catalog
from eventsourcing.persistence import Tracking
from fastapi.testclient import TestClient
from servicekit.auth import DevIssuer
from servicekit.http import create_http_app
from servicekit.italian_ids import validate_fiscal_code, validate_vat_number
from servicekit.service import ServiceRuntime
from vouchers.service import DEFINITION
from vouchers.settings import VouchersSettings


def test_every_demo_fiscal_code_and_vat_number_is_valid() -> None:
    members = [m for h in demo.HOUSEHOLDS for m in (h.applicant, *h.others)]
    codes = [m.as_json()["fiscal_code"] for m in members]
    assert [validate_fiscal_code(c) for c in codes] == codes
    assert len(set(codes)) == len(codes)
    assert all(validate_vat_number(s.vat_number) == s.vat_number for s in demo.SHOPS)


def test_the_biella_story_loads_quickly_with_applications_in_every_status(tmp_path: Path) -> None:
    settings = VouchersSettings(data_dir=tmp_path / "data", keys_dir=tmp_path / "keys")
    runtime = ServiceRuntime(DEFINITION, settings)
    issuer = DevIssuer(settings.territory, settings.keys_dir)
    with TestClient(create_http_app(runtime, with_workers=False)) as client:
        started = time.monotonic()
        fund_ids = demo.DemoLoader(client, issuer).load()
        assert time.monotonic() - started < 10

        def get(path: str, role: str = "auditor", subject_id: str | None = None) -> Any:
            token = issuer.mint(role, subject_id)
            response = client.get(path, headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 200, response.text
            return response.json()

        figures = get(f"/funds/{fund_ids[0]}")
        (round_id,) = figures["round_ids"]
        applications = get(f"/rounds/{round_id}/applications")
        assert Counter(a["status"] for a in applications) == {
            "served": 5,
            "waitlisted": 3,
            "approved": 1,
            "rejected": 2,
            "submitted": 1,
        }
        assert figures["allocated_cents"] == 26_834_500 + 5_000_000
        assert figures["issued_cents"] == 145_000
        assert 0 < figures["reimbursed_cents"] < figures["redeemed_cents"] < 145_000
        claims = [
            c["status"]
            for shop in demo.SHOPS
            for c in get(f"/merchants/{shop.merchant_id}/rounds/{round_id}")["claims"]
        ]
        assert sorted(claims) == ["approved", "paid"]
        mine = get("/vouchers/mine", "beneficiary", "b-biella-001")
        assert any(v["remaining_cents"] < v["value_cents"] for v in mine)


def test_the_story_loads_when_the_catalogues_shops_joined_first(tmp_path: Path) -> None:
    """``make run`` loads the catalogue first: its shops may reach the vouchers service, and
    join the demo round as it opens, before the demo affiliates them itself."""
    settings = VouchersSettings(data_dir=tmp_path / "data", keys_dir=tmp_path / "keys")
    runtime = ServiceRuntime(DEFINITION, settings)
    issuer = DevIssuer(settings.territory, settings.keys_dir)
    for n, shop in enumerate(demo.SHOPS, 1):
        joined = catalog.MerchantAffiliated(
            merchant_id=shop.merchant_id,
            vat_number=shop.vat_number,
            goods_categories=shop.goods_categories,
            municipalities=[demo.BIELLA],
            affiliated_at=datetime.now(UTC),
        )
        assert runtime.application.process_message(joined, [Tracking("catalog#0", n)])
    with TestClient(create_http_app(runtime, with_workers=False)) as client:
        fund_ids = demo.DemoLoader(client, issuer).load()
        auditor = {"Authorization": f"Bearer {issuer.mint('auditor')}"}
        (round_id,) = client.get(f"/funds/{fund_ids[0]}", headers=auditor).json()["round_ids"]
        merchants = client.get(f"/rounds/{round_id}/merchants", headers=auditor).json()
    assert sorted(m["merchant_id"] for m in merchants) == [s.merchant_id for s in demo.SHOPS]
    assert sum(m["reimbursed_cents"] for m in merchants) > 0  # the rest of the story ran


def test_each_running_services_demo_is_loaded_once_and_a_failed_one_is_tried_again(
    tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.setenv("BENECOMUNE_DATA_DIR", str(tmp_path / "data"))
    calls: list[str] = []
    broken = {"wallet"}

    def loader(name: str) -> demo.DemoLoad:
        def load(client: Any, issuer: DevIssuer) -> list[str]:
            calls.append(f"{name}@{client.base_url}")
            if name in broken:
                raise RuntimeError("the wallet refused")
            return [f"{name}-1"]

        return load

    monkeypatch.setattr(
        demo, "demo_loaders", lambda: {n: loader(n) for n in ("catalog", "vouchers", "wallet")}
    )
    urls = {"catalog": "http://127.0.0.1:1", "wallet": "http://127.0.0.1:2"}
    keys = tmp_path / "keys"
    with pytest.raises(RuntimeError, match="the wallet refused"):
        demo.load_once(urls, "biella", keys)
    assert calls == ["catalog@http://127.0.0.1:1", "wallet@http://127.0.0.1:2"]  # no vouchers
    broken.clear()
    assert demo.load_once(urls, "biella", keys) == ["wallet"]  # the catalogue is not reloaded
    assert demo.load_once(urls, "biella", keys) == []
    assert demo.marker_path("biella", "catalog").read_text() == "catalog-1\n"
