"""The operator's pages in-process, the services faked: providers to accredit, suspend (with a
reason) and reinstate; funds and rounds, a round opened with amounts typed the Italian way (a
bad amount sends nothing); stuck and disputed bookings and a dispute decided; the territory's
settings with their contrast ratios; who may see them."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from portal.app import create_app
from portal.clients import Services
from portal.security import CSRF_COOKIE, SESSION_COOKIE
from servicekit.auth import DevIssuer

from ..conftest import portal_settings

CSRF = "c" * 43
PORTS = {9: "catalog", 8001: "catalog", 8002: "wallet", 8003: "booking", 8004: "vouchers"}
FUND = "cb291231-3626-474c-9c78-1e4dbd1f4e68"
BOOKING = "6f1c2d3e-0000-4000-8000-000000000002"


def provider(pid: str, name: str, status: str) -> dict[str, Any]:
    return {
        "provider_id": pid,
        "legal_name": name,
        "kind": "coop_a",
        "status": status,
        "status_since": "2026-11-30T10:00:00Z",
        "applied_at": "2026-11-01T10:00:00Z",
        "vat_number": None,
        "municipalities": ["096004"],
        "certifications": [],
        "goods_categories": [],
        "contacts": {"email": None, "phone": None, "website": None, "address": None},
    }


ROUND = {
    "round_id": "5523e7cf-3922-4f45-aba8-51416e61e5d6",
    "fund_id": FUND,
    "municipality_istat": "096004",
    "title": "Buoni spesa alimentari — Città di Biella",
    "opens_at": "2026-11-30T19:34:51Z",
    "closes_at": "2026-12-30T19:34:51Z",
    "closed": False,
    "accepting_applications": True,
    "budget_cents": 150000,
    "issued_cents": 145000,
    "returned_cents": 0,
    "available_cents": 5000,
    "kind": "food",
    "households_served": 5,
}
FUNDS = [
    {
        "fund_id": FUND,
        "municipality_istat": "096004",
        "allocated_cents": 31834500,
        "assigned_to_rounds_cents": 150000,
        "issued_cents": 145000,
        "redeemed_cents": 14235,
        "reimbursed_cents": 9885,
        "returned_cents": 0,
        "available_cents": 31689500,
        "sources": [{"kind": "donation", "reference": "Fondazione CRB", "amount_cents": 5000000}],
        "round_ids": [ROUND["round_id"]],
    }
]
DISPUTED = {
    "booking_id": BOOKING,
    "status": "confirmed",
    "beneficiary_id": "b-biella-001",
    "requested_by": "beneficiary",
    "reason_code": None,
    "stuck_reason": None,
    "total_cents": 3500,
    "disputed_components": 1,
    "created_at": "2026-12-01T10:00:00Z",
    "updated_at": "2026-12-02T10:00:00Z",
    "components": [
        {
            "index": 1,
            "provider_id": "coop-il-filo",
            "offering_id": "o1",
            "slot_id": "s1",
            "starts_at": "2026-12-02T09:00:00Z",
            "price_cents": 3500,
            "acceptance": "accepted",
            "stage": "disputed",
        }
    ],
}


class FakeServices:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str, Any, httpx.Request]] = []
        self.answers: dict[tuple[str, str, str], Callable[[httpx.Request], httpx.Response]] = {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        service = PORTS[request.url.port or 0]
        body = json.loads(request.content) if request.content else None
        path = request.url.path
        self.sent.append((service, request.method, path, body, request))
        answer = self.answers.get((service, request.method, path))
        if answer is not None:
            return answer(request)
        if (service, request.method, path) == ("catalog", "GET", "/providers"):
            items = [
                provider("coop-trama", "Trama Cooperativa Sociale", "applied"),
                provider("coop-elvo", "Elvo Cooperativa Sociale", "accredited"),
                provider("coop-valle-cervo", "Valle Cervo", "suspended"),
            ]
            wanted = request.url.params.get("status")
            items = [p for p in items if not wanted or p["status"] == wanted]
            return httpx.Response(
                200, json={"total": len(items), "page": 1, "page_size": 100, "items": items}
            )
        if service == "catalog" and request.method == "POST":
            return httpx.Response(200, json={})
        if (service, path) == ("vouchers", "/funds"):
            return httpx.Response(200, json=FUNDS)
        if (service, request.method, path) == ("vouchers", "GET", "/rounds"):
            return httpx.Response(200, json=[ROUND])
        if (service, request.method, path) == ("vouchers", "POST", "/rounds"):
            return httpx.Response(201, json={"round_id": "new"})
        if (service, path) == ("booking", "/operator/bookings"):
            which = request.url.params["view"]
            return httpx.Response(200, json=[DISPUTED] if which == "disputed" else [])
        if (service, request.method, path) == ("booking", "GET", f"/bookings/{BOOKING}"):
            dispute = {"reason": "Nessuno è venuto", "opened_at": "2026-12-04T16:20:00Z"}
            line = {"at": dispute["opened_at"], "step": "disputed", "component": 1}
            return httpx.Response(
                200,
                json={
                    "booking_id": BOOKING,
                    "components": [{"index": 1, "stage": "disputed", "dispute": dispute}],
                    "timeline": [{**line, "source": None, "detail": dispute["reason"]}],
                },
            )
        if service == "booking" and request.method == "POST":
            return httpx.Response(200, json={})
        return httpx.Response(404, json={"code": "not_found"})

    def posts(self) -> list[tuple[str, str, Any]]:
        return [(s, p, b) for s, m, p, b, _ in self.sent if m == "POST"]


@pytest.fixture
def fake() -> FakeServices:
    return FakeServices()


@pytest.fixture
def portal(tmp_path: Path, fake: FakeServices) -> Iterator[TestClient]:
    settings = portal_settings(tmp_path)
    app = create_app(settings)
    app.state.services = Services.from_settings(settings, transport=httpx.MockTransport(fake))
    with TestClient(app, base_url="http://127.0.0.1") as client:
        yield client


def sign_in(
    client: TestClient, tmp_path: Path, role: str = "operator", who: str | None = None
) -> None:
    client.cookies.set(SESSION_COOKIE, DevIssuer("biella", tmp_path / "keys").mint(role, who))
    client.cookies.set(CSRF_COOKIE, CSRF)
    client.cookies.set("bc_lang", "it")


PAGES = ("/operator/providers", "/operator/funds", "/operator/bookings", "/operator/territory")


def test_no_session_goes_to_the_login_and_another_role_is_refused(
    portal: TestClient, tmp_path: Path, fake: FakeServices
) -> None:
    for path in PAGES:
        gone = portal.get(path, follow_redirects=False)
        assert gone.status_code == 303 and gone.headers["location"].startswith("/login?next=")
    sign_in(portal, tmp_path, "provider", "coop-il-filo")
    for path in PAGES:
        assert portal.get(path).status_code == 403, path
    refused = portal.post("/operator/providers/coop-trama/accreditation", data={"csrf_token": CSRF})
    assert refused.status_code == 403
    assert fake.posts() == []


def test_each_provider_has_the_action_its_status_allows(
    portal: TestClient, tmp_path: Path, fake: FakeServices
) -> None:
    sign_in(portal, tmp_path)
    page = portal.get("/operator/providers")
    assert page.status_code == 200
    assert "/operator/providers/coop-trama/accreditation" in page.text
    assert "/operator/providers/coop-elvo/suspension" in page.text
    assert "/operator/providers/coop-valle-cervo/reinstatement" in page.text
    assert "/operator/providers/coop-trama/suspension" not in page.text
    assert 'name="csrf_token" value=""' not in page.text
    assert page.text.count(f'name="csrf_token" value="{CSRF}"') >= 3
    only = portal.get("/operator/providers?status=applied")
    assert "coop-elvo" not in only.text
    sent = [r for s, m, p, _b, r in fake.sent if p == "/providers"]
    assert sent[-1].url.params["status"] == "applied"


def test_accrediting_and_reinstating(
    portal: TestClient, tmp_path: Path, fake: FakeServices
) -> None:
    sign_in(portal, tmp_path)
    done = portal.post(
        "/operator/providers/coop-trama/accreditation",
        data={"csrf_token": CSRF, "status": "applied"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert done.headers["location"] == "/operator/providers?status=applied&done=accreditation"
    again = portal.post(
        "/operator/providers/coop-valle-cervo/reinstatement",
        data={"csrf_token": CSRF},
        follow_redirects=False,
    )
    assert again.headers["location"] == "/operator/providers?done=reinstatement"
    assert "è riattivato: le sue offerte" in portal.get(again.headers["location"]).text
    assert fake.posts() == [
        ("catalog", "/providers/coop-trama/accreditation", None),
        ("catalog", "/providers/coop-valle-cervo/reinstatement", None),
    ]


def test_a_suspension_needs_its_reason(
    portal: TestClient, tmp_path: Path, fake: FakeServices
) -> None:
    sign_in(portal, tmp_path)
    path = "/operator/providers/coop-elvo/suspension"
    missing = portal.post(path, data={"csrf_token": CSRF, "reason": "Polizza scaduta"})
    assert missing.status_code == 422
    assert 'id="reason-code-coop-elvo-error"' in missing.text
    assert fake.posts() == []
    done = portal.post(
        path,
        data={"csrf_token": CSRF, "reason_code": "insurance_expired", "reason": "Polizza scaduta"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert fake.posts() == [
        (
            "catalog",
            "/providers/coop-elvo/suspension",
            {"reason_code": "insurance_expired", "reason": "Polizza scaduta"},
        )
    ]


def test_a_refused_decision_is_shown_beside_the_provider(
    portal: TestClient, tmp_path: Path, fake: FakeServices
) -> None:
    sign_in(portal, tmp_path)
    fake.answers[("catalog", "POST", "/providers/coop-trama/accreditation")] = lambda _r: (
        httpx.Response(409, json={"code": "invalid_transition", "detail": "provider is accredited"})
    )
    page = portal.post("/operator/providers/coop-trama/accreditation", data={"csrf_token": CSRF})
    assert page.status_code == 409 and "provider is accredited" in page.text


def test_funds_and_rounds_are_listed(portal: TestClient, tmp_path: Path) -> None:
    sign_in(portal, tmp_path)
    page = portal.get("/operator/funds")
    assert page.status_code == 200
    assert "318.345,00\xa0€" in page.text  # allocated, the Italian way
    assert "Buoni spesa alimentari — Città di Biella" in page.text
    assert "Domande aperte" in page.text
    assert 'name="csrf_token" value=""' not in page.text


ROUND_FORM = {
    "csrf_token": CSRF,
    "fund_id": FUND,
    "title": "Buoni inverno",
    "kind": "food",
    "opens": "2027-01-10",
    "closes": "2027-01-31",
    "budget": "15.000,00",
    "base": "150",
    "per_extra_member": "50,00",
    "per_minor": "",
    "cap": "500,5",
    "isee_threshold": "9.360,00",
}


def test_a_round_opens_with_amounts_typed_the_italian_way(
    portal: TestClient, tmp_path: Path, fake: FakeServices
) -> None:
    sign_in(portal, tmp_path)
    done = portal.post("/operator/funds/rounds", data=ROUND_FORM, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/operator/funds?done=round"
    assert fake.posts() == [
        (
            "vouchers",
            "/rounds",
            {
                "fund_id": FUND,
                "title": "Buoni inverno",
                "opens_at": "2027-01-10T00:00:00+01:00",
                "closes_at": "2027-02-01T00:00:00+01:00",
                "budget_cents": 1500000,
                "kind": "food",
                "service_categories": [],
                "rules": {
                    "base_cents": 15000,
                    "per_extra_member_cents": 5000,
                    "per_minor_cents": 0,
                    "cap_cents": 50050,
                    "isee_threshold_cents": 936000,
                },
            },
        )
    ]


def test_a_bad_amount_sends_nothing_and_is_shown_by_field(
    portal: TestClient, tmp_path: Path, fake: FakeServices
) -> None:
    sign_in(portal, tmp_path)
    page = portal.post(
        "/operator/funds/rounds",
        data={**ROUND_FORM, "budget": "quindicimila", "cap": "", "kind": "services"},
    )
    assert page.status_code == 422
    assert 'id="r-budget-error"' in page.text and 'id="r-cap-error"' in page.text
    assert 'id="r-categories-error"' in page.text
    assert 'value="quindicimila"' in page.text
    assert fake.posts() == []


def test_the_same_round_twice_is_not_opened_again(
    portal: TestClient, tmp_path: Path, fake: FakeServices
) -> None:
    sign_in(portal, tmp_path)
    page = portal.post("/operator/funds/rounds", data={**ROUND_FORM, "title": ROUND["title"]})
    assert page.status_code == 422 and 'id="r-title-error"' in page.text
    assert fake.posts() == []


def test_a_dispute_is_shown_and_decided(
    portal: TestClient, tmp_path: Path, fake: FakeServices
) -> None:
    sign_in(portal, tmp_path)
    page = portal.get("/operator/bookings")
    assert page.status_code == 200
    assert "coop-il-filo" in page.text and "b-biella-001" in page.text
    assert "Nessuna prenotazione è bloccata" in page.text
    # The family's reason, from the booking's view of the disputed part, and when (Rome time).
    card = page.text.split(f'data-testid="dispute-reason-{BOOKING}-1"')[1].split("</figure>")[0]
    assert "Il motivo della famiglia" in card and "Nessuno è venuto" in card
    assert "17:20" in page.text
    assert ("booking", "GET", f"/bookings/{BOOKING}") in [(s, m, p) for s, m, p, _, _ in fake.sent]
    path = f"/operator/bookings/{BOOKING}/1/resolution"
    too_much = portal.post(
        path,
        data={
            "csrf_token": CSRF,
            "decision": "partial_capture",
            "amount": "40,00",
            "price_cents": "3500",
        },
    )
    assert too_much.status_code == 422 and f'id="amount-{BOOKING}-1-error"' in too_much.text
    assert fake.posts() == []
    done = portal.post(
        path,
        data={
            "csrf_token": CSRF,
            "decision": "partial_capture",
            "amount": "17,50",
            "price_cents": "3500",
            "note": "Metà della visita",
        },
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert fake.posts() == [
        (
            "booking",
            f"/bookings/{BOOKING}/components/1/resolution",
            {"decision": "partial_capture", "amount_cents": 1750, "note": "Metà della visita"},
        )
    ]


def test_the_territory_page_shows_its_file_and_contrast_ratios(
    portal: TestClient, tmp_path: Path, fake: FakeServices
) -> None:
    sign_in(portal, tmp_path)
    portal.cookies.set("bc_lang", "en")
    page = portal.get("/operator/territory")
    assert page.status_code == 200
    assert "territories/biella.toml" in page.text
    assert "Valdilana" in page.text and "096088" in page.text
    assert "#00676B" in page.text and "Passes" in page.text and ":1" in page.text
    assert "conversion_limit_cents" in page.text
    assert fake.sent == []  # read from the territory, no service called
