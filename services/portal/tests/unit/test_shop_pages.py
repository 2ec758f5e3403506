"""The shop's pages in-process, the vouchers API faked: the till (a code typed or scanned, the
amount the Italian way, refusals by field, a double submit sent with one request id, voids) and
the reimbursement claims."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi.testclient import TestClient
from portal.app import create_app
from portal.clients import Services
from portal.clients.shop import code_from_scan
from portal.security import CSRF_COOKIE, SESSION_COOKIE
from servicekit.auth import DevIssuer

from ..conftest import portal_settings

CODE = "ZZR8-1NAQ-07MD-XQC3-T"
ROUND = "5523e7cf-3922-4f45-aba8-51416e61e5d6"
REDEMPTION = "0b8f3d9e-6b1c-4c53-9a0e-5d1b8a2f4c11"
CSRF = "c" * 43


class FakeVouchers:
    """The vouchers API as the till sees it: one round, one voucher of 50 €."""

    def __init__(self) -> None:
        self.seen: list[httpx.Request] = []
        self.remaining = 5000
        self.history: list[dict[str, Any]] = [
            {
                "at": iso(datetime.now(UTC) - timedelta(days=3)),
                "kind": "issued",
                "amount_cents": 5000,
                "balance_cents": 5000,
            }
        ]
        self.refusal: tuple[int, dict[str, Any]] | None = None
        self.by_request: dict[str, dict[str, Any]] = {}

    def sales(self, since: str | None) -> list[dict[str, Any]]:
        """The API's list of the shop's sales: newest first, since a moment."""
        voided = {h["redemption_id"] for h in self.history if h["kind"] == "voided"}
        start = datetime.fromisoformat(since) if since else None
        found = []
        for h in self.history:
            at = datetime.fromisoformat(h["at"])
            if h["kind"] != "redeemed" or (start is not None and at < start):
                continue
            gone = h["redemption_id"] in voided
            found.append(
                {
                    "redemption_id": h["redemption_id"],
                    "voucher_id": "4b1e2f3a-0c5d-4e6f-8a7b-9c0d1e2f3a4b",
                    "code_hint": CODE[-6:],
                    "round_id": ROUND,
                    "amount_cents": h["amount_cents"],
                    "goods_category": h["goods_category"],
                    "at": h["at"],
                    "voided": gone,
                    "claimed": False,
                    "voidable_until": None if gone else iso(at + timedelta(minutes=30)),
                }
            )
        return sorted(found, key=lambda sale: str(sale["at"]), reverse=True)

    def posts(self) -> list[httpx.Request]:
        return [r for r in self.seen if r.method == "POST"]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        path = request.url.path
        if path == "/rounds":
            return httpx.Response(
                200, json=[{"round_id": ROUND, "kind": "food", "title": "Buoni spesa"}]
            )
        if path == f"/merchants/m-biella-001/rounds/{ROUND}" and request.method == "GET":
            return httpx.Response(200, json=account())
        if path == "/merchants/m-biella-001/redemptions" and request.method == "GET":
            return httpx.Response(200, json=self.sales(request.url.params.get("since")))
        if request.method == "POST" and self.refusal is not None:
            status, body = self.refusal
            return httpx.Response(status, json=body)
        if path == "/merchants/m-biella-001/redemptions":
            body = json.loads(request.content)
            if body["request_id"] in self.by_request:  # the API's idempotency
                return httpx.Response(201, json=self.by_request[body["request_id"]])
            self.remaining -= body["amount_cents"]
            redemption = f"0b8f3d9e-6b1c-4c53-9a0e-{len(self.by_request):012d}"
            self.history.append(
                {
                    "at": iso(datetime.now(UTC)),
                    "kind": "redeemed",
                    "amount_cents": body["amount_cents"],
                    "balance_cents": self.remaining,
                    "merchant_id": "m-biella-001",
                    "redemption_id": redemption,
                    "goods_category": body["goods_category"],
                }
            )
            answer = {
                "redemption_id": redemption,
                "voucher_id": "v1",
                "amount_cents": body["amount_cents"],
                "goods_category": body["goods_category"],
                "remaining_cents": self.remaining,
            }
            self.by_request[body["request_id"]] = answer
            return httpx.Response(201, json=answer)
        if path == "/merchants/m-biella-001/voids":
            body = json.loads(request.content)
            sale = next(h for h in self.history if h.get("redemption_id") == body["redemption_id"])
            self.remaining += sale["amount_cents"]
            self.history.append(
                {
                    "at": iso(datetime.now(UTC)),
                    "kind": "voided",
                    "amount_cents": sale["amount_cents"],
                    "balance_cents": self.remaining,
                    "merchant_id": "m-biella-001",
                    "redemption_id": body["redemption_id"],
                }
            )
            return httpx.Response(
                200,
                json={
                    "redemption_id": body["redemption_id"],
                    "voucher_id": "v1",
                    "remaining_cents": self.remaining,
                },
            )
        if path.startswith("/vouchers/"):
            return httpx.Response(
                200, json={"code": CODE, "remaining_cents": self.remaining, "history": self.history}
            )
        if path == f"/merchants/m-biella-001/rounds/{ROUND}/claims":
            body = json.loads(request.content)
            return httpx.Response(
                201, json={"claim_id": "c1", "status": "claimed", "amount_cents": 1250, **body}
            )
        return httpx.Response(404, json={"code": "not_found", "status": 404})


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def account() -> dict[str, Any]:
    return {
        "merchant_id": "m-biella-001",
        "round_id": ROUND,
        "vat_number": "02618470963",
        "goods_categories": ["food", "hygiene"],
        "excluded_categories": ["alcohol"],
        "redeemed_cents": 9885,
        "claimed_cents": 9885,
        "approved_cents": 9885,
        "reimbursed_cents": 4000,
        "unclaimed_cents": 0,
        "claims": [
            {
                "claim_id": "c0",
                "amount_cents": 4000,
                "status": "paid",
                "period_from": "2026-11-01",
                "period_to": "2026-11-30",
                "payment_due_on": "2027-01-06",
                "payment_reference": "CRO 202612070001",
            },
            {
                "claim_id": "c9",
                "amount_cents": 5885,
                "status": "approved",
                "period_from": "2026-12-01",
                "period_to": "2026-12-07",
                "payment_due_on": "2027-02-05",
                "payment_reference": None,
            },
        ],
    }


@pytest.fixture
def fake() -> FakeVouchers:
    return FakeVouchers()


def signed_in_as(tmp_path: Path, fake: FakeVouchers) -> Callable[..., TestClient]:
    settings = portal_settings(tmp_path)
    app = create_app(settings)
    app.state.services = Services.from_settings(settings, transport=httpx.MockTransport(fake))
    issuer = DevIssuer("biella", settings.keys_dir)

    def login(role: str = "merchant", subject: str | None = "m-biella-001") -> TestClient:
        client = TestClient(app, base_url="http://127.0.0.1")
        client.cookies.set(SESSION_COOKIE, issuer.mint(role, subject))
        client.cookies.set(CSRF_COOKIE, CSRF)
        client.cookies.set("bc_lang", "en")
        return client

    return login


@pytest.fixture
def shop(tmp_path: Path, fake: FakeVouchers) -> Iterator[TestClient]:
    with signed_in_as(tmp_path, fake)() as client:
        yield client


def request_id_of(page: str) -> str:
    found = re.search(r'name="request_id" value="([^"]+)"', page)
    assert found
    return found.group(1)


def sale(page: str, **changes: str) -> dict[str, str]:
    return {
        "csrf_token": CSRF,
        "code": CODE.lower(),
        "amount": "12,50",
        "goods_category": "food",
        "request_id": request_id_of(page),
        **changes,
    }


def test_the_till_focuses_the_code_and_offers_the_shops_goods(shop: TestClient) -> None:
    page = shop.get("/shop/till")
    assert page.status_code == 200
    code_input = re.search(r'<input [^>]*data-testid="code"[^>]*>', page.text)
    assert code_input and "autofocus" in code_input.group(0)
    assert 'value="food"' in page.text and 'value="hygiene"' in page.text
    assert "Hygiene and cleaning" in page.text
    assert "No sale with vouchers yet today" in page.text


def test_a_sale_typed_the_italian_way_shows_what_is_left_and_lists_it(
    shop: TestClient, fake: FakeVouchers
) -> None:
    form = sale(shop.get("/shop/till").text)
    done = shop.post("/shop/till", data=form, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].startswith("/shop/till?done=")
    sent = json.loads(fake.posts()[0].content)
    assert sent == {
        "code": CODE,
        "amount_cents": 1250,
        "goods_category": "food",
        "request_id": form["request_id"],
    }
    page = shop.get(done.headers["location"])
    assert "Left on the voucher:" in page.text
    assert re.search(r'data-testid="left">€37\.50<', page.text)
    assert "…XQC3-T" in page.text and "Void" in page.text


def test_a_double_submit_is_sent_with_one_request_id_and_spends_once(
    shop: TestClient, fake: FakeVouchers
) -> None:
    form = sale(shop.get("/shop/till").text)
    shop.post("/shop/till", data=form, follow_redirects=False)
    again = shop.post("/shop/till", data=form, follow_redirects=False)
    assert again.status_code == 303
    ids = {json.loads(r.content)["request_id"] for r in fake.posts()}
    assert ids == {form["request_id"]} and fake.remaining == 3750


def test_htmx_gets_the_answer_alone_announced_with_the_code_field_focused_next(
    shop: TestClient,
) -> None:
    form = sale(shop.get("/shop/till").text)
    answer = shop.post("/shop/till", data=form, headers={"HX-Request": "true"})
    assert answer.status_code == 200
    assert "<html" not in answer.text
    assert 'data-announce="Paid €12.50. Left on the voucher: €37.50."' in answer.text
    code_input = re.search(r'<input [^>]*data-testid="code"[^>]*>', answer.text)
    assert code_input and "data-focus-after-swap" in code_input.group(0)
    assert 'value=""' in code_input.group(0)  # empty for the next customer
    assert request_id_of(answer.text) != form["request_id"]  # a new sale next
    assert "…XQC3-T" in answer.text  # listed at once


def test_a_scanned_qr_code_carrying_a_url_or_prefix_gives_the_code() -> None:
    assert code_from_scan(f"https://biella.benecomune.it/v/{CODE}") == CODE
    assert code_from_scan(f"https://x.it/till?code={CODE}&x=1") == CODE
    assert code_from_scan(f"benecomune:voucher:{CODE}") == CODE
    assert code_from_scan(CODE.replace("-", "").lower()) == CODE.replace("-", "")
    assert code_from_scan(f"  {CODE.lower()}  ") == CODE
    assert code_from_scan("") == ""


def test_a_scanned_url_is_sent_as_its_code(shop: TestClient, fake: FakeVouchers) -> None:
    form = sale(shop.get("/shop/till").text, code=f"https://biella.benecomune.it/v/{CODE}")
    shop.post("/shop/till", data=form, follow_redirects=False)
    assert json.loads(fake.posts()[0].content)["code"] == CODE


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"amount": "12,5O"}, "amount", "This is not an amount in euro"),
        ({"amount": ""}, "amount", "Enter an amount in euro"),
        ({"amount": "0,00"}, "amount", "more than zero"),
        ({"code": "ZZR8-1NAQ"}, "code", "16 characters and a check character"),
        ({"code": ""}, "code", "Type or scan the voucher"),
        ({"goods_category": ""}, "goods_category", "Choose the goods sold"),
    ],
)
def test_a_bad_form_is_refused_by_field_and_calls_nothing(
    shop: TestClient, fake: FakeVouchers, changes: dict[str, str], field: str, message: str
) -> None:
    form = sale(shop.get("/shop/till").text, **changes)
    refused = shop.post("/shop/till", data=form)
    assert refused.status_code == 422
    assert f'data-testid="{field}-error"' in refused.text and message in refused.text
    assert fake.posts() == [] and fake.remaining == 5000
    if field == "amount":
        assert 'value="' + changes["amount"] + '"' in refused.text  # what was typed stays


@pytest.mark.parametrize(
    ("status", "body", "field", "message"),
    [
        (404, {"code": "not_found", "detail": "no voucher"}, "code", "No voucher has this code"),
        (422, {"code": "invalid_voucher_code", "detail": "mistyped"}, "code", "mistyped"),
        (422, {"code": "voucher_not_spendable", "detail": "expired"}, "code", "has expired"),
        (
            422,
            {"code": "insufficient_balance", "detail": "over", "remaining_cents": 730},
            "amount",
            "more than what is left on the voucher: €7.30",
        ),
        (422, {"code": "excluded_goods", "detail": "no"}, "goods_category", "cannot be paid with"),
    ],
)
def test_the_apis_refusals_are_told_by_field_and_nothing_changes(
    shop: TestClient,
    fake: FakeVouchers,
    status: int,
    body: dict[str, Any],
    field: str,
    message: str,
) -> None:
    fake.refusal = (status, {"status": status, "title": "refused", **body})
    refused = shop.post("/shop/till", data=sale(shop.get("/shop/till").text))
    assert refused.status_code == 422
    assert f'data-testid="{field}-error"' in refused.text and message in refused.text
    assert fake.remaining == 5000
    with_htmx = shop.post("/shop/till", data=sale(refused.text), headers={"HX-Request": "true"})
    assert with_htmx.status_code == 200 and message in with_htmx.text  # htmx swaps a 200


def test_todays_sales_are_the_apis_list_since_the_territorys_midnight_no_cookie(
    shop: TestClient, fake: FakeVouchers
) -> None:
    done = shop.post("/shop/till", data=sale(shop.get("/shop/till").text), follow_redirects=False)
    assert "bc_till" not in done.headers.get("set-cookie", "")
    asked = [r for r in fake.seen if r.url.path == "/merchants/m-biella-001/redemptions"]
    assert asked and all(r.method == "POST" or r.url.params.get("since") for r in asked)
    since = datetime.fromisoformat(next(r for r in asked if r.method == "GET").url.params["since"])
    rome = since.astimezone(ZoneInfo("Europe/Rome"))
    assert (rome.hour, rome.minute) == (0, 0) and since.utcoffset() is not None
    assert rome.date() == datetime.now(ZoneInfo("Europe/Rome")).date()
    page = shop.get("/shop/till")
    assert "…XQC3-T" in page.text and "€12.50" in page.text
    fake.history[-1]["at"] = iso(since - timedelta(minutes=1))  # yesterday's sale
    assert "…XQC3-T" not in shop.get("/shop/till").text


def test_a_sale_of_today_is_voided_within_30_minutes(shop: TestClient, fake: FakeVouchers) -> None:
    done = shop.post("/shop/till", data=sale(shop.get("/shop/till").text))
    redemption_id = fake.history[-1]["redemption_id"]
    assert f'name="redemption_id" value="{redemption_id}"' in done.text
    assert 'data-testid="void-code"' in done.text  # the voucher is asked again
    voided = shop.post(
        "/shop/till/void",
        data={
            "csrf_token": CSRF,
            "code": f"https://biella.benecomune.it/v/{CODE}",
            "redemption_id": redemption_id,
            "hint": CODE[-6:],
        },
        follow_redirects=False,
    )
    assert voided.status_code == 303
    sent = json.loads(fake.posts()[-1].content)
    assert sent == {"code": CODE, "redemption_id": redemption_id}
    page = shop.get(voided.headers["location"])
    assert "was voided" in page.text and "€50.00" in page.text and "Voided" in page.text
    assert f'name="redemption_id" value="{redemption_id}"' not in page.text  # no second void


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("", "Type or scan the voucher's code to void its sale."),
        ("ZZR8-1NAQ", "16 characters and a check character"),
        ("AAAA-BBBB-CCCC-DDDD-E", "This is not the voucher of this sale"),
    ],
)
def test_a_void_without_this_sales_voucher_calls_nothing(
    shop: TestClient, fake: FakeVouchers, code: str, message: str
) -> None:
    shop.post("/shop/till", data=sale(shop.get("/shop/till").text))
    redemption_id = fake.history[-1]["redemption_id"]
    form = {"csrf_token": CSRF, "code": code, "redemption_id": redemption_id, "hint": CODE[-6:]}
    refused = shop.post("/shop/till/void", data=form)
    assert refused.status_code == 422 and message in refused.text
    assert 'id="till-error"' in refused.text and 'aria-describedby="till-error"' in refused.text
    assert [r.url.path for r in fake.posts()] == ["/merchants/m-biella-001/redemptions"]
    assert fake.remaining == 3750


def test_an_old_sale_offers_no_void(shop: TestClient, fake: FakeVouchers) -> None:
    shop.post("/shop/till", data=sale(shop.get("/shop/till").text))
    fake.history[-1]["at"] = iso(datetime.now(UTC) - timedelta(minutes=31))
    page = shop.get("/shop/till")
    if "…XQC3-T" in page.text:  # still today in Rome
        assert "No longer (after 30 minutes)" in page.text
        assert 'name="redemption_id"' not in page.text


def test_a_refused_void_is_told(shop: TestClient, fake: FakeVouchers) -> None:
    fake.refusal = (422, {"code": "void_refused", "detail": "too late", "status": 422})
    refused = shop.post(
        "/shop/till/void",
        data={"csrf_token": CSRF, "code": CODE, "redemption_id": REDEMPTION, "hint": "XQC3-T"},
    )
    assert refused.status_code == 422 and "can no longer be voided" in refused.text
    assert json.loads(fake.posts()[-1].content) == {"code": CODE, "redemption_id": REDEMPTION}


def test_claims_show_each_status_with_the_promised_payment_date(shop: TestClient) -> None:
    page = shop.get("/shop/claims")
    assert page.status_code == 200
    assert "Buoni spesa" in page.text
    assert "6 January 2027" in page.text and "5 February 2027" in page.text
    assert "CRO 202612070001" in page.text
    assert "Paid" in page.text and "Approved" in page.text


def test_a_claim_for_a_period_is_sent_and_confirmed(shop: TestClient, fake: FakeVouchers) -> None:
    form = {
        "csrf_token": CSRF,
        "round_id": ROUND,
        "period_from": "2026-12-01",
        "period_to": "2026-12-07",
    }
    made = shop.post("/shop/claims", data=form, follow_redirects=False)
    assert made.status_code == 303
    assert json.loads(fake.posts()[0].content) == {
        "period_from": "2026-12-01",
        "period_to": "2026-12-07",
    }
    assert "The claim was sent" in shop.get(made.headers["location"]).text


def test_a_backwards_period_calls_nothing_and_nothing_to_claim_is_told(
    shop: TestClient, fake: FakeVouchers
) -> None:
    form = {
        "csrf_token": CSRF,
        "round_id": ROUND,
        "period_from": "2026-12-07",
        "period_to": "2026-12-01",
    }
    refused = shop.post("/shop/claims", data=form)
    assert refused.status_code == 422 and "before its first day" in refused.text
    assert fake.posts() == []
    fake.refusal = (422, {"code": "nothing_to_claim", "detail": "none", "status": 422})
    refused = shop.post("/shop/claims", data={**form, "period_from": "2026-12-01"})
    assert refused.status_code == 422 and "nothing to claim" in refused.text


def test_other_roles_get_403_and_visitors_the_login(tmp_path: Path, fake: FakeVouchers) -> None:
    login = signed_in_as(tmp_path, fake)
    with login("beneficiary", "b-biella-001") as citizen:
        assert citizen.get("/shop/till").status_code == 403
        refused = citizen.post("/shop/till", data={"csrf_token": CSRF, "code": CODE})
        assert refused.status_code == 403
        assert citizen.get("/shop/claims").status_code == 403
    with TestClient(create_app(portal_settings(tmp_path)), base_url="http://127.0.0.1") as nobody:
        answer = nobody.get("/shop/till", follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
    assert fake.posts() == []


def test_a_post_without_the_csrf_token_is_refused(shop: TestClient, fake: FakeVouchers) -> None:
    refused = shop.post("/shop/till", data={**sale(shop.get("/shop/till").text), "csrf_token": ""})
    assert refused.status_code == 403 and fake.posts() == []
