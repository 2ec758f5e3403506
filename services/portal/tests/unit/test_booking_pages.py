"""The booking pages in-process, with the catalog, the wallet, the vouchers and the booking
service faked: the appointment flow of an offering and of a package (slots, the payment split
typed the Italian way, the summary, the booking sent once for a double submit, a changed price
and a slot gone shown with the way back), my bookings with their timeline, cancelling with the
fee shown first, moving a part, confirming a delivery, a dispute, and a social worker's booking
for a citizen; who may see them."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
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

CSRF = "t" * 43
OFFERING_ID = "317dbf23-65d6-4bfc-8312-b487453f455b"
MEALS_ID = "5fb9e4ec-0df3-4095-84e2-2e316b7df185"
PACKAGE_ID = "1ce35db0-4681-41b4-84f3-ea28eeebf7b6"
WALLET_ID = "5ce79c3f-3a35-5bdb-849e-2cedc7000137"
VOUCHER_ID = "fd08aa33-4435-5ac1-94b0-f7cc84025b29"
ROUND_ID = "5523e7cf-3922-4f45-aba8-51416e61e5d6"
BOOKING_ID = "0b7c1d6e-7a55-5b53-9d38-0c1f6f8d2a11"
LAUNDRY_ID = "9a1f7c55-2e0b-4d3a-9c61-5b2d8e4f7a10"
TERMS = {
    "instant": False,
    "acceptance_hours": 24,
    "free_until_hours": 48,
    "fee_percent": 50,
    "no_show_fee_percent": 100,
}


def offering(offering_id: str, title: str, price: int, category: str) -> dict[str, Any]:
    return {
        "offering_id": offering_id,
        "provider_id": "coop-il-filo",
        "status": "published",
        "title": {"it": title, "en": f"{title} (en)"},
        "description": {"it": "…", "en": "…"},
        "category": category,
        "delivery_mode": "at_home",
        "price_cents": price,
        "unit": "session",
        "municipalities": ["096004"],
        "terms": TERMS,
    }


def slot(slot_id: str, day: int, available: int = 2) -> dict[str, Any]:
    return {
        "slot_id": slot_id,
        "starts_at": f"2026-12-{day:02d}T09:00:00Z",
        "ends_at": f"2026-12-{day:02d}T10:00:00Z",
        "capacity": 2,
        "available": available,
    }


def booking_view(status: str = "requested", stage: str = "booking") -> dict[str, Any]:
    return {
        "booking_id": BOOKING_ID,
        "status": status,
        "beneficiary_id": "b-biella-001",
        "for_member_id": None,
        "requested_by": "beneficiary",
        "package_id": None,
        "total_cents": 3500,
        "split": {f"wallet:{WALLET_ID}": 3000, "co_payment": 500},
        "reason": None,
        "components": [
            {
                "index": 1,
                "offering_id": OFFERING_ID,
                "provider_id": "coop-il-filo",
                "slot_id": "s-1",
                "starts_at": "2026-12-09T09:00:00Z",
                "ends_at": "2026-12-09T10:00:00Z",
                "price_cents": 3500,
                "category": "services_no_cap",
                "instant": False,
                "acceptance": "accepted" if status == "confirmed" else "requested",
                "stage": stage,
                "slot_status": "held",
                "shares": {f"wallet:{WALLET_ID}": 3000, "co_payment": 500},
                "funds": [],
                "settlement": {},
                "co_payment_due_cents": 0,
                "co_payment_paid": False,
                "moving_to_slot": None,
                "cancellation": {},
            }
        ],
        "deadlines": [],
        "timeline": [
            {
                "at": "2026-12-07T20:00:00Z",
                "step": "requested",
                "component": None,
                "source": None,
                "detail": "1 component(s)",
            },
            {
                "at": "2026-12-07T20:00:01Z",
                "step": "funds_held",
                "component": 1,
                "source": f"wallet:{WALLET_ID}",
                "detail": None,
            },
        ],
        "requested_at": "2026-12-07T20:00:00Z",
        "updated_at": "2026-12-07T20:00:01Z",
    }


class FakeServices:
    """The four services' APIs as the booking pages use them; every request is kept."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.offerings = {
            OFFERING_ID: offering(OFFERING_ID, "Infermiere a domicilio", 3500, "services_no_cap"),
            MEALS_ID: offering(MEALS_ID, "Pasti a domicilio", 850, "elderly_care"),
            LAUNDRY_ID: offering(LAUNDRY_ID, "Lavanderia", 1200, "fringe_purchase"),
        }
        self.slots = {
            OFFERING_ID: [slot("s-1", 9), slot("s-2", 10), slot("s-full", 11, available=0)],
            MEALS_ID: [slot("m-1", 9)],
            LAUNDRY_ID: [slot("l-1", 11)],
        }
        # The employee's fringe year (GET /me/fringe/{year}); None: the wallet has no year.
        self.fringe: dict[str, Any] | None = None
        self.booking = booking_view()
        self.bookings: dict[str, dict[str, Any]] = {}
        self.refusal: httpx.Response | None = None
        self.fee_cents = 1750

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        host, path, method = request.url.host, request.url.path, request.method
        if host == "catalog.test":
            return self.catalog(path)
        if host == "wallet.test" and path == "/me/wallets":
            available = {"services_no_cap": 3000, "elderly_care": 1000, "fringe_purchase": 5000}
            wallet = {"wallet_id": WALLET_ID, "closed": False, "available_by_category": available}
            if self.fringe is not None:
                wallet["year"] = 2026
            return httpx.Response(200, json=[wallet])
        if host == "wallet.test" and path == "/me/fringe/2026" and self.fringe is not None:
            return httpx.Response(200, json=self.fringe)
        if host == "wallet.test" and path == "/me/family":
            members = [{"member_id": "mother-1", "relationship": "parent"}]
            return httpx.Response(200, json={"employee_id": "b-biella-001", "members": members})
        if host == "vouchers.test" and path == "/vouchers/mine":
            voucher = {
                "voucher_id": VOUCHER_ID,
                "code": "4BMQ-GSAZ-3ABC-HGRK-E",
                "round_id": ROUND_ID,
                "remaining_cents": 2000,
                "held_cents": 500,
                "spendable": True,
                "expires_at": "2027-03-07T19:34:51Z",
            }
            return httpx.Response(200, json=[voucher])
        if host == "vouchers.test" and path == "/rounds":
            services = {
                "round_id": ROUND_ID,
                "kind": "services",
                "service_categories": ["services_no_cap", "elderly_care"],
            }
            return httpx.Response(200, json=[services])
        if host == "vouchers.test" and path == "/vouchers/4BMQ-GSAZ-3ABC-HGRK-E":
            voucher = {
                "voucher_id": VOUCHER_ID,
                "round_id": ROUND_ID,
                "remaining_cents": 2000,
                "held_cents": 0,
                "spendable": True,
                "holder": "b-biella-001",
                "delegate_id": None,
            }
            return httpx.Response(200, json=voucher)
        if host == "vouchers.test" and path == f"/rounds/{ROUND_ID}":
            paying = {"round_id": ROUND_ID, "kind": "services"}
            return httpx.Response(200, json={**paying, "service_categories": ["services_no_cap"]})
        if host == "booking.test":
            return self.booking_api(request, path, method)
        return httpx.Response(404, json={"code": "not_found", "status": 404})

    def catalog(self, path: str) -> httpx.Response:
        parts = path.strip("/").split("/")
        if parts[0] == "offerings" and parts[1] in self.offerings:
            if len(parts) == 3:
                return httpx.Response(200, json=self.slots[parts[1]])
            return httpx.Response(200, json=self.offerings[parts[1]])
        if path == f"/packages/{PACKAGE_ID}":
            return httpx.Response(
                200,
                json={
                    "package_id": PACKAGE_ID,
                    "title": {"it": "Dimissioni protette", "en": "Protected discharge"},
                    "price_cents": 59000,
                    "parts": [
                        {"offering_id": OFFERING_ID, "order": 1, "required": True},
                        {"offering_id": MEALS_ID, "order": 2, "required": False},
                    ],
                },
            )
        if path == "/search":
            item = {"offering_id": OFFERING_ID, "title_it": "Infermiere", "price_cents": 3500}
            return httpx.Response(200, json={"total": 1, "items": [item]})
        if path == "/packages":
            return httpx.Response(200, json=[])
        return httpx.Response(404, json={"code": "not_found", "status": 404})

    def booking_api(self, request: httpx.Request, path: str, method: str) -> httpx.Response:
        if method == "POST" and path == "/bookings":
            if self.refusal is not None:
                return self.refusal
            body = json.loads(request.content)
            self.bookings.setdefault(body["request_id"], body)
            return httpx.Response(
                202, json={"booking_id": BOOKING_ID, "status": "requested", "location": "x"}
            )
        if path == "/bookings/mine":
            return httpx.Response(200, json=[{**self.booking, "created_at": "2026-12-07T20:00Z"}])
        if path == f"/bookings/{BOOKING_ID}":
            return httpx.Response(200, json=self.booking)
        if path == f"/bookings/{BOOKING_ID}/cancellation":
            fee = self.fee_cents
            return httpx.Response(
                200,
                json={
                    "booking_id": BOOKING_ID,
                    "status": "confirmed",
                    "by": "family",
                    "fee_cents": fee,
                    "components": [
                        {
                            "index": 1,
                            "fee_cents": fee,
                            "by_source": {f"wallet:{WALLET_ID}": fee - 250, "co_payment": 250},
                        }
                    ],
                    "at": "2026-12-08T10:00:00Z",
                },
            )
        if method == "POST" and path.startswith(f"/bookings/{BOOKING_ID}/"):
            if self.refusal is not None:
                return self.refusal
            return httpx.Response(200, json=self.booking)
        return httpx.Response(404, json={"code": "not_found", "status": 404})

    def sent(self, path: str, method: str = "POST") -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path == path and r.method == method]


@pytest.fixture
def fake() -> FakeServices:
    return FakeServices()


@pytest.fixture
def portal(tmp_path: Path, fake: FakeServices) -> Iterator[TestClient]:
    settings = portal_settings(
        tmp_path,
        catalog_url="http://catalog.test",
        wallet_url="http://wallet.test",
        booking_url="http://booking.test",
        vouchers_url="http://vouchers.test",
    )
    app = create_app(settings)
    app.state.services = Services.from_settings(settings, transport=httpx.MockTransport(fake))
    with TestClient(app, base_url="http://127.0.0.1") as client:
        client.app_issuer = DevIssuer("biella", settings.keys_dir)  # type: ignore[attr-defined]
        yield client


def sign_in(
    client: TestClient, role: str = "beneficiary", subject: str | None = "b-biella-001"
) -> str:
    issuer: DevIssuer = client.app_issuer  # type: ignore[attr-defined]
    token = issuer.mint(role, subject)
    client.cookies.set(SESSION_COOKIE, token)
    client.cookies.set(CSRF_COOKIE, CSRF)
    return token


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def post(client: TestClient, path: str, **data: Any) -> httpx.Response:
    response: httpx.Response = client.post(
        path, data={"csrf_token": CSRF, **data}, follow_redirects=False
    )
    return response


def test_every_form_carries_the_csrf_token(portal: TestClient, fake: FakeServices) -> None:
    sign_in(portal)
    fake.booking = booking_view("confirmed", "delivered")
    for path in (BASE, f"/me/bookings/{BOOKING_ID}", f"/me/bookings/{BOOKING_ID}/cancel"):
        page = portal.get(path).text
        assert page.count('name="csrf_token"') == page.count("<form"), path
        assert f'name="csrf_token" value="{CSRF}"' in page


def summary_form(page: str) -> dict[str, str]:
    form = page[page.index('action="/book/offering/') :]
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))


BASE = f"/book/offering/{OFFERING_ID}"


def test_an_offering_is_booked_in_four_steps_paid_as_typed(
    portal: TestClient, fake: FakeServices
) -> None:
    token = sign_in(portal)
    first = portal.get(BASE)
    assert first.status_code == 200
    text = text_of(first.text)
    assert "Passo 1 di 4" in text and "Infermiere a domicilio" in text
    assert 'value="s-1"' in first.text and "s-full" not in first.text  # only free slots
    # Step 1 -> 2: the slot is chosen; the payment proposes vouchers first, then the credit.
    chosen = post(portal, BASE, slot_1="s-1")
    assert chosen.status_code == 303
    funding = portal.get(chosen.headers["location"])
    assert funding.status_code == 200
    text = text_of(funding.text)
    assert "15,00 €" in text  # the voucher's 20 € less the 5 € it holds
    assert 'value="15,00"' in funding.text and 'value="20,00"' in funding.text
    assert "Compartecipazione" in text
    # Step 2 -> 3: amounts typed the Italian way.
    voucher_field = f"v_{VOUCHER_ID}"
    typed = post(portal, f"{BASE}/funding", slot_1="s-1", wallet="12,50", **{voucher_field: "10"})
    assert typed.status_code == 303
    assert "wallet=1250" in typed.headers["location"]
    summary = portal.get(typed.headers["location"])
    text = text_of(summary.text)
    assert "Passo 3 di 4" in text
    assert "12,50 €" in text and "10,00 €" in text and "12,50 €" in text
    assert "35,00 €" in text  # the total
    assert "48 ore" in text and "50%" in text  # the cancellation policy
    # Back keeps what was chosen.
    assert f'href="{BASE}/funding?slot_1=s-1&amp;wallet=1250' in summary.text
    back = portal.get(f"{BASE}/funding?slot_1=s-1&wallet=1250&{voucher_field}=1000")
    assert 'value="12,50"' in back.text and 'value="10,00"' in back.text
    # Step 3 -> 4, twice with the same form: one request id, one booking.
    form = summary_form(summary.text)
    for _ in range(2):
        sent = post(
            portal, f"{BASE}/summary", **{k: v for k, v in form.items() if k != "csrf_token"}
        )
        assert sent.status_code == 303
        assert sent.headers["location"] == f"/me/bookings/{BOOKING_ID}/sent"
    calls = fake.sent("/bookings")
    assert len(calls) == 2 and len(fake.bookings) == 1
    body = json.loads(calls[0].content)
    assert calls[0].headers["authorization"] == f"Bearer {token}"
    assert body["components"] == [
        {"offering_id": OFFERING_ID, "slot_id": "s-1", "price_cents": 3500, "order": 1}
    ]
    assert body["funding"]["split"] == [
        {"source": "voucher", "account_id": VOUCHER_ID, "amount_cents": 1000},
        {"source": "wallet", "account_id": WALLET_ID, "amount_cents": 1250},
        {"source": "co_payment", "amount_cents": 1250},
    ]
    assert "beneficiary_id" not in body
    confirmation = portal.get(f"/me/bookings/{BOOKING_ID}/sent")
    text = text_of(confirmation.text)
    assert "Passo 4 di 4" in text and "Richiesta: in attesa delle risposte" in text
    assert 'hx-trigger="every 2s"' in confirmation.text
    assert f'href="/me/bookings/{BOOKING_ID}/sent"' in confirmation.text  # reload without JS


def test_the_co_payment_left_follows_the_amounts_as_they_are_typed(portal: TestClient) -> None:
    sign_in(portal)
    page = portal.get(f"{BASE}/funding?slot_1=s-1")
    assert f'hx-post="{BASE}/funding/left"' in page.text
    left = post(portal, f"{BASE}/funding/left", slot_1="s-1", wallet="12,50")
    assert left.status_code == 200 and left.text.lstrip().startswith('<p id="co-payment"')
    assert 'data-announce="Compartecipazione che resta, da pagare al fornitore: 22,50' in left.text
    wrong = post(portal, f"{BASE}/funding/left", slot_1="s-1", wallet="troppo")
    assert 'data-announce="Controlla gli importi segnalati qui sotto."' in wrong.text


def test_an_employee_books_for_a_family_member_named_in_the_wallet(
    portal: TestClient, fake: FakeServices
) -> None:
    sign_in(portal)
    page = portal.get(BASE)
    assert '<option value="mother-1">mother-1 (genitore)</option>' in page.text
    stranger = post(portal, BASE, slot_1="s-1", member="uncle-9")
    assert stranger.status_code == 422 and "Scegli uno dei familiari" in stranger.text
    chosen = post(portal, BASE, slot_1="s-1", member="mother-1")
    assert "member=mother-1" in chosen.headers["location"]
    to_summary = post(portal, f"{BASE}/funding", slot_1="s-1", member="mother-1", wallet="0")
    summary = portal.get(to_summary.headers["location"])
    assert "Per il tuo familiare mother-1 (genitore)." in text_of(summary.text)
    form = summary_form(summary.text)
    form.pop("csrf_token", None)
    assert post(portal, f"{BASE}/summary", **form).status_code == 303
    assert json.loads(fake.sent("/bookings")[0].content)["for_member_id"] == "mother-1"


def test_no_slot_or_a_bad_amount_is_refused_by_field_and_nothing_is_booked(
    portal: TestClient, fake: FakeServices
) -> None:
    sign_in(portal)
    none = post(portal, BASE)
    assert none.status_code == 422 and "Scegli un orario." in none.text
    full = post(portal, BASE, slot_1="s-full")
    assert full.status_code == 422 and "non è più libero" in full.text
    bad = post(portal, f"{BASE}/funding", slot_1="s-1", wallet="dodici")
    assert bad.status_code == 422
    assert 'aria-invalid="true"' in bad.text and "12,50" in bad.text
    assert 'value="dodici"' in bad.text  # what was typed stays
    over = post(portal, f"{BASE}/funding", slot_1="s-1", wallet="30,01")
    assert over.status_code == 422 and "più di quanto è disponibile" in text_of(over.text)
    assert not fake.sent("/bookings")


def test_a_changed_price_and_a_slot_gone_are_shown_with_the_way_back(
    portal: TestClient, fake: FakeServices
) -> None:
    sign_in(portal)
    fake.refusal = httpx.Response(
        409,
        json={
            "code": "price_changed",
            "status": 409,
            "title": "Price changed",
            "offering_id": OFFERING_ID,
            "price_cents": 3900,
        },
    )
    form = {"slot_1": "s-1", "wallet": "0", "request_id": "a" * 32}
    changed = post(portal, f"{BASE}/summary", **form)
    assert changed.status_code == 409
    text = text_of(changed.text)
    assert "Il prezzo è cambiato" in text and "39,00 €" in text
    assert f'href="{BASE}/funding?slot_1=s-1"' in changed.text
    fake.refusal = None
    fake.slots[OFFERING_ID][0]["available"] = 0  # someone took it meanwhile
    gone = post(portal, f"{BASE}/summary", **form)
    assert gone.status_code == 409
    assert "non è più libero" in text_of(gone.text)
    assert f'href="{BASE}?slot_1=s-1' in gone.text
    assert len(fake.sent("/bookings")) == 1  # only the one refused for its price


def test_a_package_books_one_slot_per_part_and_may_leave_an_optional_part_out(
    portal: TestClient, fake: FakeServices
) -> None:
    sign_in(portal)
    base = f"/book/package/{PACKAGE_ID}"
    page = portal.get(base)
    assert "Parte 1:" in page.text and "Senza questa parte" in page.text
    chosen = post(portal, base, slot_1="s-2", slot_2="none")
    assert chosen.status_code == 303
    to_summary = post(portal, f"{base}/funding", slot_1="s-2", slot_2="none", wallet="")
    summary = portal.get(to_summary.headers["location"])
    assert "Pasti a domicilio" not in text_of(summary.text).split("Chi paga")[0]
    form = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', summary.text))
    form.pop("csrf_token", None)
    form.pop("next", None)
    sent = post(portal, f"{base}/summary", **form)
    assert sent.status_code == 303
    body = json.loads(fake.sent("/bookings")[0].content)
    assert body["package_id"] == PACKAGE_ID
    assert [c["slot_id"] for c in body["components"]] == ["s-2"]
    assert body["funding"]["split"] == [{"source": "co_payment", "amount_cents": 3500}]


def test_my_bookings_and_a_booking_with_its_timeline(
    portal: TestClient, fake: FakeServices
) -> None:
    sign_in(portal)
    listed = portal.get("/me/bookings")
    assert listed.status_code == 200
    text = text_of(listed.text)
    assert "Infermiere a domicilio" in text and "35,00 €" in text
    assert f'href="/me/bookings/{BOOKING_ID}"' in listed.text
    fake.booking = booking_view("confirmed", "booked")
    page = portal.get(f"/me/bookings/{BOOKING_ID}")
    text = text_of(page.text)
    assert (
        "Confermata" in text and "Prenotazione richiesta" in text and "Pagamento riservato" in text
    )
    assert "Credito welfare: 30,00 €" in text and "Compartecipazione della famiglia: 5,00 €" in text
    assert f"/me/bookings/{BOOKING_ID}/cancel" in page.text
    assert f"/me/bookings/{BOOKING_ID}/components/1/reschedule" in page.text


def test_the_status_fragment_is_announced_when_it_changes_and_stops_polling_when_settled(
    portal: TestClient, fake: FakeServices
) -> None:
    sign_in(portal)
    path = f"/me/bookings/{BOOKING_ID}/status"
    same = portal.get(path, params={"seen": "requested"}, headers={"HX-Request": "true"})
    assert same.status_code == 200 and "data-announce" not in same.text
    fake.booking = booking_view("confirmed", "booked")
    done = portal.get(path, params={"seen": "requested"}, headers={"HX-Request": "true"})
    assert done.status_code == 286  # htmx stops polling
    assert 'data-announce="Confermata"' in done.text and "hx-trigger" not in done.text


def test_a_booking_not_confirmed_says_why_and_offers_to_book_again(
    portal: TestClient, fake: FakeServices
) -> None:
    sign_in(portal)
    reason = {"code": "slot_unavailable", "it": "Il posto non è più disponibile.", "en": "Gone."}
    fake.booking = {**booking_view("compensated", "compensated"), "reason": reason}
    page = portal.get(f"/me/bookings/{BOOKING_ID}/sent")
    text = text_of(page.text)
    assert "Non confermata" in text and "Il posto non è più disponibile." in text
    assert f'href="{BASE}"' in page.text and "hx-trigger" not in page.text


def test_cancelling_shows_the_fee_first_and_sends_the_fee_accepted(
    portal: TestClient, fake: FakeServices
) -> None:
    sign_in(portal)
    fake.booking = booking_view("confirmed", "booked")
    page = portal.get(f"/me/bookings/{BOOKING_ID}/cancel")
    text = text_of(page.text)
    assert "Annullare ora costa una penale di 17,50 €" in text
    assert "Credito welfare: 15,00 €" in text and "Compartecipazione della famiglia: 2,50 €" in text
    request_id = re.search(r'name="request_id" value="([^"]+)"', page.text)
    assert request_id
    done = post(
        portal,
        f"/me/bookings/{BOOKING_ID}/cancel",
        request_id=request_id.group(1),
        accept_fee_cents="1750",
    )
    assert done.status_code == 303 and done.headers["location"].endswith("?done=cancelled")
    sent = json.loads(fake.sent(f"/bookings/{BOOKING_ID}/cancel")[0].content)
    assert sent == {"request_id": request_id.group(1), "accept_fee_cents": 1750}
    assert "La prenotazione è annullata" in portal.get(done.headers["location"]).text
    # The free window closed meanwhile: the new fee is shown, nothing is cancelled.
    fake.refusal = httpx.Response(409, json={"code": "fee_changed", "status": 409})
    fake.fee_cents = 3500
    changed = post(
        portal, f"/me/bookings/{BOOKING_ID}/cancel", request_id="b" * 32, accept_fee_cents="0"
    )
    assert changed.status_code == 409
    text = text_of(changed.text)
    assert "La penale è cambiata" in text and "35,00 €" in text


def test_move_confirm_and_dispute(portal: TestClient, fake: FakeServices) -> None:
    sign_in(portal)
    fake.booking = booking_view("confirmed", "booked")
    page = portal.get(f"/me/bookings/{BOOKING_ID}/components/1/reschedule")
    assert 'value="s-2"' in page.text and 'value="s-1"' not in page.text  # not the same slot
    request_id = re.search(r'name="request_id" value="([^"]+)"', page.text)
    assert request_id
    path = f"/me/bookings/{BOOKING_ID}/components/1/reschedule"
    assert post(portal, path, request_id=request_id.group(1), slot_id="nope").status_code == 422
    moved = post(portal, path, request_id=request_id.group(1), slot_id="s-2")
    assert moved.status_code == 303
    sent = json.loads(fake.sent(f"/bookings/{BOOKING_ID}/reschedule")[0].content)
    assert sent == {"request_id": request_id.group(1), "component": 1, "slot_id": "s-2"}
    fake.booking = booking_view("confirmed", "delivered")
    detail = portal.get(f"/me/bookings/{BOOKING_ID}")
    assert "Conferma l'erogazione" in detail.text and "Segnala un problema" in detail.text
    confirmed = post(portal, f"/me/bookings/{BOOKING_ID}/components/1/confirm")
    assert confirmed.status_code == 303
    assert fake.sent(f"/bookings/{BOOKING_ID}/components/1/delivery-confirmation")
    dispute = f"/me/bookings/{BOOKING_ID}/components/1/dispute"
    assert portal.get(dispute).status_code == 200
    short = post(portal, dispute, reason="no")
    assert short.status_code == 422 and 'aria-invalid="true"' in short.text
    assert not fake.sent(f"/bookings/{BOOKING_ID}/components/1/dispute")
    opened = post(portal, dispute, reason="L'operatore non è venuto")
    assert opened.status_code == 303
    body = json.loads(fake.sent(f"/bookings/{BOOKING_ID}/components/1/dispute")[0].content)
    assert body == {"reason": "L'operatore non è venuto"}


def test_a_social_worker_books_for_a_citizen_with_the_consent(
    portal: TestClient, fake: FakeServices
) -> None:
    sign_in(portal, "social_worker", None)
    page = portal.get("/social/book")
    assert page.status_code == 200 and "Prenota per un cittadino" in page.text
    missing = post(portal, "/social/book", what=f"offering:{OFFERING_ID}")
    assert missing.status_code == 422 and page.text.count('aria-invalid="true"') == 0
    assert missing.text.count('aria-invalid="true"') == 2
    started = post(
        portal,
        "/social/book",
        what=f"offering:{OFFERING_ID}",
        consent="PG-2026-114",
        **{"for": "b-biella-001"},
    )
    assert started.status_code == 303
    assert started.headers["location"].startswith(f"{BASE}?for=b-biella-001&consent=PG-2026-114")
    funding = post(portal, BASE, slot_1="s-1", consent="PG-2026-114", **{"for": "b-biella-001"})
    location = funding.headers["location"].replace("/funding?", "/summary?")
    summary = portal.get(location)
    assert "per conto di b-biella-001" in text_of(summary.text)
    form = summary_form(summary.text)
    form.pop("csrf_token", None)
    post(portal, f"{BASE}/summary", **form)
    body = json.loads(fake.sent("/bookings")[0].content)
    assert body["beneficiary_id"] == "b-biella-001"
    assert body["consent_reference"] == "PG-2026-114"
    assert body["funding"]["split"] == [{"source": "co_payment", "amount_cents": 3500}]
    assert not [r for r in fake.requests if r.url.host == "wallet.test"]


def test_a_social_worker_pays_with_the_citizens_voucher_by_its_code(
    portal: TestClient, fake: FakeServices
) -> None:
    sign_in(portal, "social_worker", None)
    who = {"for": "b-biella-001", "consent": "PG-2026-114"}
    page = portal.get(f"{BASE}/funding", params={"slot_1": "s-1", **who})
    assert 'name="code"' in page.text and 'name="wallet"' not in page.text
    wrong = post(portal, f"{BASE}/funding", slot_1="s-1", code="XXXX-0000", **who)
    assert wrong.status_code == 422 and "Nessun buono ha questo codice." in wrong.text
    sign_in(portal, "social_worker", None)
    others = {"for": "b-biella-002", "consent": "PG-2026-115"}
    code = "4bmq-gsaz-3abc-hgrk-e"
    theirs = post(portal, f"{BASE}/funding", slot_1="s-1", code=code, **others)
    assert theirs.status_code == 422 and "Questo buono non è del cittadino." in theirs.text
    over = post(portal, f"{BASE}/funding", slot_1="s-1", code=code, voucher_amount="20,01", **who)
    assert over.status_code == 422 and "più di quanto è disponibile" in text_of(over.text)
    paid = post(portal, f"{BASE}/funding", slot_1="s-1", code=code, voucher_amount="10", **who)
    assert paid.status_code == 303
    summary = portal.get(paid.headers["location"])
    text = text_of(summary.text)
    assert "Buono servizio 10,00 €" in text and "Compartecipazione della famiglia 25,00 €" in text
    form = summary_form(summary.text)
    form.pop("csrf_token", None)
    assert post(portal, f"{BASE}/summary", **form).status_code == 303
    body = json.loads(fake.sent("/bookings")[0].content)
    assert body["funding"]["split"] == [
        {"source": "voucher", "account_id": VOUCHER_ID, "amount_cents": 1000},
        {"source": "co_payment", "amount_cents": 2500},
    ]
    assert not [r for r in fake.requests if r.url.host == "wallet.test"]


def test_who_may_see_the_booking_pages(portal: TestClient, fake: FakeServices) -> None:
    anonymous = portal.get("/me/bookings", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    assert portal.get(BASE, follow_redirects=False).status_code == 303
    sign_in(portal, "merchant", "m-biella-001")
    assert portal.get("/me/bookings").status_code == 403
    assert portal.get(BASE).status_code == 403
    sign_in(portal, "beneficiary", "b-biella-001")
    assert portal.get("/social/book").status_code == 403
    no_csrf = portal.post(BASE, data={"slot_1": "s-1"}, follow_redirects=False)
    assert no_csrf.status_code == 403
    assert not fake.sent("/bookings")


def test_the_book_buttons_on_the_offering_and_package_pages(tmp_path: Path) -> None:
    templates = Path(__file__).parents[2] / "src" / "portal" / "templates"
    assert "/book/offering/" in (templates / "offering.html").read_text()
    assert "/book/package/" in (templates / "package.html").read_text()


# --- the fringe-benefit cap (TUIR art. 51 c. 3) ------------------------------------------------

LAUNDRY = f"/book/offering/{LAUNDRY_ID}"


def fringe_year(used: int, *, taxable: bool = False, cap: int | None = 100_000) -> dict[str, Any]:
    return {
        "employee_id": "b-biella-001",
        "year": 2026,
        "cap_cents": cap,
        "fringe_cents": used,
        "taxable": taxable,
        "taxable_cents": used if taxable else 0,
    }


def test_the_summary_warns_only_when_the_credit_takes_the_fringe_year_over_the_cap(
    portal: TestClient, fake: FakeServices
) -> None:
    sign_in(portal)
    fake.fringe = fringe_year(99_000)
    over = portal.get(f"{LAUNDRY}/summary?slot_1=l-1&wallet=1200")
    assert over.status_code == 200
    text = text_of(over.text)
    assert "Oltre il tetto esente dei tuoi fringe benefit" in text
    assert "Già usati nel 2026: 990,00 €" in text
    assert "Questa prenotazione, pagata con il credito welfare: 12,00 €" in text
    assert "Totale dell'anno: 1.002,00 €" in text and "Tetto esente: 1.000,00 €" in text
    assert "l'INTERO importo dell'anno" in text
    assert 'name="accept_taxable"' in over.text and "Accetto che i miei fringe benefit" in text
    assert len(fake.sent("/me/fringe/2026", "GET")) == 1
    # Up to the cap exactly: still tax-free, no warning.
    fake.fringe = fringe_year(98_800)
    at_cap = portal.get(f"{LAUNDRY}/summary?slot_1=l-1&wallet=1200")
    assert "fringe-warning" not in at_cap.text and "accept_taxable" not in at_cap.text
    # Less of it on the credit (the rest a co-payment): under the cap.
    fake.fringe = fringe_year(99_000)
    less = portal.get(f"{LAUNDRY}/summary?slot_1=l-1&wallet=1000")
    assert "fringe-warning" not in less.text
    # A year already over the cap: taxable already, said so, nothing to accept.
    fake.fringe = fringe_year(110_000, taxable=True)
    taxed = portal.get(f"{LAUNDRY}/summary?slot_1=l-1&wallet=1200")
    assert "hanno già superato il tetto esente di 1.000,00 €" in text_of(taxed.text)
    assert "accept_taxable" not in taxed.text
    # No fringe year yet (no cap known): the wallet decides; no credit, or not a fringe
    # service: the fringe year is not even asked.
    fake.fringe = fringe_year(0, cap=None)
    assert "fringe-warning" not in portal.get(f"{LAUNDRY}/summary?slot_1=l-1&wallet=1200").text
    fake.fringe = fringe_year(99_000)
    asked = len(fake.sent("/me/fringe/2026", "GET"))
    assert "fringe-warning" not in portal.get(f"{LAUNDRY}/summary?slot_1=l-1&wallet=0").text
    assert "fringe-warning" not in portal.get(f"{BASE}/summary?slot_1=s-1&wallet=1200").text
    assert len(fake.sent("/me/fringe/2026", "GET")) == asked


def test_over_the_cap_nothing_is_sent_without_the_tick_and_confirm_taxable_with_it(
    portal: TestClient, fake: FakeServices
) -> None:
    sign_in(portal)
    fake.fringe = fringe_year(99_000)
    summary = portal.get(f"{LAUNDRY}/summary?slot_1=l-1&wallet=1200")
    form = {k: v for k, v in summary_form(summary.text).items() if k != "csrf_token"}
    refused = post(portal, f"{LAUNDRY}/summary", **form)
    assert refused.status_code == 422
    text = text_of(refused.text)
    assert "Spunta la casella per accettare che diventi imponibile." in text
    assert 'aria-invalid="true"' in refused.text and "f-accept_taxable-error" in refused.text
    assert fake.sent("/bookings") == []  # nothing sent
    ticked = post(portal, f"{LAUNDRY}/summary", accept_taxable="yes", **form)
    assert ticked.status_code == 303
    assert ticked.headers["location"] == f"/me/bookings/{BOOKING_ID}/sent"
    (call,) = fake.sent("/bookings")
    funding = json.loads(call.content)["funding"]
    assert funding["wallet"] == {
        "wallet_id": WALLET_ID,
        "available_cents": 1200,
        "confirm_taxable": True,
    }
    assert funding["split"] == [{"source": "wallet", "account_id": WALLET_ID, "amount_cents": 1200}]
    # Under the cap: no box, and no confirmation sent.
    fake.fringe = fringe_year(10_000)
    under = portal.get(f"{LAUNDRY}/summary?slot_1=l-1&wallet=1200")
    form = {k: v for k, v in summary_form(under.text).items() if k != "csrf_token"}
    assert post(portal, f"{LAUNDRY}/summary", **form).status_code == 303
    assert "wallet" not in json.loads(fake.sent("/bookings")[-1].content)["funding"]


def test_a_booking_the_wallet_refused_over_the_cap_says_why_and_links_back_to_the_summary(
    portal: TestClient, fake: FakeServices
) -> None:
    sign_in(portal)
    fake.fringe = fringe_year(99_000)
    refused = booking_view("compensated", "compensated")
    component = {
        **refused["components"][0],
        "offering_id": LAUNDRY_ID,
        "slot_id": "l-1",
        "price_cents": 1200,
        "category": "fringe_purchase",
    }
    reason = {"code": "funds_refused", "it": "Pagamento non autorizzato.", "en": "Refused."}
    fake.booking = {
        **refused,
        "reason": {**reason, "detail": "fringe_cap_warning"},
        "split": {f"wallet:{WALLET_ID}": 1200},
        "components": [component],
    }
    page = portal.get(f"/me/bookings/{BOOKING_ID}/sent")
    text = text_of(page.text)
    assert "porterebbe i tuoi fringe benefit dell'anno oltre il tetto esente" in text
    assert f'href="/book/again/{BOOKING_ID}"' in page.text
    back = portal.get(f"/book/again/{BOOKING_ID}", follow_redirects=False)
    assert back.status_code == 303
    assert back.headers["location"] == f"{LAUNDRY}/summary?slot_1=l-1&wallet=1200"
    summary = portal.get(back.headers["location"])
    assert 'name="accept_taxable"' in summary.text
    # Another refusal keeps its own way back (another slot), not this one.
    fake.booking = {**fake.booking, "reason": reason}
    assert "/book/again/" not in portal.get(f"/me/bookings/{BOOKING_ID}/sent").text
    # Only the employee goes back through it.
    sign_in(portal, "social_worker", None)
    assert portal.get(f"/book/again/{BOOKING_ID}", follow_redirects=False).status_code == 403
