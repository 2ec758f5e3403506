"""A shop's own sales list over HTTP (``GET /merchants/{id}/redemptions``): two shops take the
same household's vouchers, one voids a sale; each sees its own sales only, newest first, with
the end of the code it typed, voided or not and until when voidable; ``since`` keeps today's;
a claimed sale is no longer voidable; another shop's token is refused, the operator and the
auditor read it."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from .test_http_api import Api, api, created, ok, reviewed_and_issued

__all__ = ["api"]  # the fixture, used by name


ROME = ZoneInfo("Europe/Rome")


def sell(api: Api, shop: str, code: str, amount: int, request_id: str) -> dict[str, Any]:
    body = {
        "code": code,
        "amount_cents": amount,
        "goods_category": "food",
        "request_id": request_id,
    }
    return created(api.post(f"/merchants/{shop}/redemptions", "merchant", shop, json=body))


def sales(api: Api, shop: str, role: str = "merchant", subject: str | None = None, **q: Any) -> Any:
    return api.get(
        f"/merchants/{shop}/redemptions",
        role,
        shop if role == "merchant" and subject is None else subject,
        params=q,
    )


def test_each_shop_lists_its_own_sales_newest_first_with_voids_and_the_since_filter(
    api: Api,
) -> None:
    r = reviewed_and_issued(api)
    codes = [v["code"] for v in ok(api.get("/vouchers/mine", "beneficiary", "b-bianchi"))]
    first = sell(api, "m-alimentari", codes[0], 1_000, "till-a-1")
    time.sleep(0.01)
    middle = datetime.now(UTC)
    time.sleep(0.01)
    bread = sell(api, "m-panificio", codes[0], 300, "till-p-1")
    mistake = sell(api, "m-alimentari", codes[1].lower(), 450, "till-a-2")
    ok(
        api.post(
            "/merchants/m-alimentari/voids",
            "merchant",
            "m-alimentari",
            json={"code": codes[1], "redemption_id": mistake["redemption_id"]},
        )
    )

    listed = ok(sales(api, "m-alimentari"))
    assert [(s["redemption_id"], s["amount_cents"], s["voided"]) for s in listed] == [
        (mistake["redemption_id"], 450, True),
        (first["redemption_id"], 1_000, False),
    ]
    assert [s["code_hint"] for s in listed] == [codes[1][-6:], codes[0][-6:]]
    assert listed[0]["voidable_until"] is None  # voided
    sold_at = datetime.fromisoformat(listed[1]["at"])
    assert datetime.fromisoformat(listed[1]["voidable_until"]) == sold_at + timedelta(minutes=30)
    assert abs(datetime.now(UTC) - sold_at) < timedelta(minutes=1)
    assert all(s["goods_category"] == "food" and s["round_id"] == r.round_id for s in listed)

    bakery = ok(sales(api, "m-panificio"))
    assert [(s["redemption_id"], s["amount_cents"]) for s in bakery] == [
        (bread["redemption_id"], 300)
    ]

    since = ok(sales(api, "m-alimentari", since=middle.isoformat()))
    assert [s["redemption_id"] for s in since] == [mistake["redemption_id"]]
    assert ok(sales(api, "m-alimentari", limit=1))[0]["redemption_id"] == mistake["redemption_id"]
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert ok(sales(api, "m-alimentari", since=future)) == []
    naive = sales(api, "m-alimentari", since="2026-12-07T00:00:00")
    assert naive.status_code == 422

    other = sales(api, "m-alimentari", "merchant", "m-panificio")
    assert other.status_code == 403
    beneficiary = sales(api, "m-alimentari", "beneficiary", "b-bianchi")
    assert beneficiary.status_code == 403
    for role in ("operator", "auditor"):
        assert len(ok(sales(api, "m-alimentari", role))) == 2

    today = datetime.now(ROME).date()  # claim periods are Biella's calendar days
    created(
        api.post(
            f"/merchants/m-alimentari/rounds/{r.round_id}/claims",
            "merchant",
            "m-alimentari",
            json={"period_from": str(today - timedelta(days=1)), "period_to": str(today)},
        )
    )
    claimed = {s["redemption_id"]: s for s in ok(sales(api, "m-alimentari"))}
    assert claimed[first["redemption_id"]]["claimed"] is True
    assert claimed[first["redemption_id"]]["voidable_until"] is None
