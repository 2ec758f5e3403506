"""The provider's pages in-process, the services faked: the requests to accept or decline with
their deadline in local time, a decline needs a reason, deliveries to mark, the offerings with
their slots and places taken, opening a slot (local time sent with its offset), the statement
with its totals; who may see them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from ..conftest import CSRF, RecordingServices, sign_in

PROVIDER = "coop-il-filo"
BOOKING = "6f1c2d3e-0000-4000-8000-000000000001"
OFFERING = "317dbf23-65d6-4bfc-8312-b487453f455b"
SOON = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
PAST = (datetime.now(UTC) - timedelta(minutes=5)).replace(microsecond=0)


def part(stage: str, acceptance: str, starts: datetime, index: int = 1) -> dict[str, Any]:
    return {
        "index": index,
        "provider_id": PROVIDER,
        "offering_id": OFFERING,
        "slot_id": "s1",
        "starts_at": starts.isoformat(),
        "price_cents": 3500,
        "acceptance": acceptance,
        "stage": stage,
    }


def row(*parts: dict[str, Any], booking_id: str = BOOKING) -> dict[str, Any]:
    return {
        "booking_id": booking_id,
        "status": "requested",
        "beneficiary_id": "b-biella-001",
        "requested_by": "beneficiary",
        "reason_code": None,
        "stuck_reason": None,
        "total_cents": 3500,
        "disputed_components": 0,
        "created_at": PAST.isoformat(),
        "updated_at": PAST.isoformat(),
        "components": list(parts),
    }


class FakeServices(RecordingServices):
    """The services as the pages of this module use them."""

    def __init__(self) -> None:
        super().__init__()
        self.pending = [row(part("booking", "requested", SOON))]
        self.to_deliver = [row(part("booked", "accepted", PAST))]
        self.deadline = datetime(2026, 12, 9, 15, 30, tzinfo=UTC)
        self.slots: list[dict[str, Any]] = [
            {
                "slot_id": "s1",
                "starts_at": SOON.isoformat(),
                "ends_at": (SOON + timedelta(hours=1)).isoformat(),
                "capacity": 3,
                "available": 1,
            }
        ]

    def answer(self, service: str, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if (service, path) == ("booking", f"/providers/{PROVIDER}/bookings"):
            which = request.url.params["queue"]
            return httpx.Response(200, json=self.pending if which == "pending" else self.to_deliver)
        if (service, path) == ("booking", f"/bookings/{BOOKING}") and request.method == "GET":
            deadline = {"key": "acceptance:1", "due_at": self.deadline.isoformat(), "fired": False}
            return httpx.Response(200, json={"booking_id": BOOKING, "deadlines": [deadline]})
        if service == "booking" and request.method == "POST":
            return httpx.Response(200, json={"booking_id": BOOKING})
        if (service, path) == ("catalog", "/search"):
            item = {
                "offering_id": OFFERING,
                "provider_id": PROVIDER,
                "title_it": "Infermiere a domicilio",
                "title_en": "Nurse visits at home",
                "category": "services_no_cap",
                "delivery_mode": "at_home",
                "price_cents": 3500,
                "unit": "session",
                "municipalities": ["096004"],
            }
            return httpx.Response(
                200, json={"total": 1, "page": 1, "page_size": 100, "items": [item]}
            )
        if (service, path) == ("catalog", f"/offerings/{OFFERING}/slots"):
            if request.method == "POST":
                return httpx.Response(201, json={"id": "new-slot"})
            return httpx.Response(200, json=self.slots)
        if (service, path) == ("booking", f"/providers/{PROVIDER}/statement"):
            return httpx.Response(
                200,
                json={
                    "provider_id": PROVIDER,
                    "since": "2026-11-07T00:00:00Z",
                    "until": "2026-12-08T00:00:00Z",
                    "captured_cents": 2450,
                    "co_payment_due_cents": 500,
                    "lines": [
                        {
                            "booking_id": BOOKING,
                            "index": 1,
                            "offering_id": OFFERING,
                            "settled_at": "2026-12-01T10:00:00Z",
                            "captured_cents": 2450,
                            "co_payment_due_cents": 500,
                            "co_payment_paid": False,
                        }
                    ],
                },
            )
        return super().answer(service, request)


@pytest.fixture
def fake() -> FakeServices:
    return FakeServices()


def test_no_session_goes_to_the_login_and_another_role_is_refused(
    portal: TestClient, tmp_path: Path, fake: FakeServices
) -> None:
    for path in ("/provider/bookings", "/provider/offerings", "/provider/statement"):
        gone = portal.get(path, follow_redirects=False)
        assert gone.status_code == 303 and gone.headers["location"].startswith("/login?next=")
    sign_in(portal, tmp_path, "beneficiary", "b-biella-001")
    for path in ("/provider/bookings", "/provider/offerings", "/provider/statement"):
        assert portal.get(path).status_code == 403
    refused = portal.post(
        f"/provider/bookings/{BOOKING}/1/accept", data={"csrf_token": CSRF}, follow_redirects=False
    )
    assert refused.status_code == 403
    assert fake.posts() == []


def test_the_pending_request_shows_its_deadline_in_local_time(
    portal: TestClient, tmp_path: Path, fake: FakeServices
) -> None:
    token = sign_in(portal, tmp_path, "provider", PROVIDER)
    page = portal.get("/provider/bookings")
    assert page.status_code == 200
    assert "Infermiere a domicilio" in page.text
    # 15:30 UTC on 9 December is 16:30 in Rome
    assert "mercoledì 9 dicembre 2026, 16:30" in page.text
    assert "Europe/Rome" in page.text
    assert "Segna come erogato" in page.text  # the delivery, its slot started
    # every form of the area carries the visitor's CSRF token (accept, decline, delivered)
    assert page.text.count(f'name="csrf_token" value="{CSRF}"') >= 3 + 2  # + language, logout
    assert 'name="csrf_token" value=""' not in page.text
    queues = [r.url.params["queue"] for s, _m, p, _b, r in fake.sent if p.endswith("/bookings")]
    assert sorted(queues) == ["pending", "to_deliver"]
    assert all(r.headers["authorization"] == f"Bearer {token}" for *_x, r in fake.sent)


def test_accepting_posts_to_the_booking_service_and_says_so(
    portal: TestClient, tmp_path: Path, fake: FakeServices
) -> None:
    sign_in(portal, tmp_path, "provider", PROVIDER)
    done = portal.post(
        f"/provider/bookings/{BOOKING}/1/accept", data={"csrf_token": CSRF}, follow_redirects=False
    )
    assert (
        done.status_code == 303 and done.headers["location"] == "/provider/bookings?done=accepted"
    )
    assert fake.posts() == [("booking", f"/bookings/{BOOKING}/components/1/accept", {})]
    assert "La richiesta è stata accettata" in portal.get(done.headers["location"]).text


def test_a_decline_needs_a_reason_and_sends_it(
    portal: TestClient, tmp_path: Path, fake: FakeServices
) -> None:
    sign_in(portal, tmp_path, "provider", PROVIDER)
    path = f"/provider/bookings/{BOOKING}/1/decline"
    empty = portal.post(path, data={"csrf_token": CSRF, "note": "  "})
    assert empty.status_code == 422
    assert "Scrivi perché rifiuti" in empty.text and 'aria-invalid="true"' in empty.text
    assert fake.posts() == []
    done = portal.post(
        path, data={"csrf_token": CSRF, "note": "Nessun operatore libero"}, follow_redirects=False
    )
    assert done.status_code == 303
    assert fake.posts() == [
        (
            "booking",
            f"/bookings/{BOOKING}/components/1/decline",
            {"note": "Nessun operatore libero"},
        )
    ]


def test_a_refusal_of_the_service_is_shown_on_the_page(
    portal: TestClient, tmp_path: Path, fake: FakeServices
) -> None:
    sign_in(portal, tmp_path, "provider", PROVIDER)
    path = f"/bookings/{BOOKING}/components/1/delivered"
    fake.answers[("booking", "POST", path)] = lambda _r: httpx.Response(
        409,
        json={
            "code": "invalid_transition",
            "title": "Not now",
            "detail": "component 1 is captured",
        },
    )
    page = portal.post(
        f"/provider/bookings/{BOOKING}/1/delivered", data={"csrf_token": CSRF, "note": "Fatto"}
    )
    assert page.status_code == 409
    assert "component 1 is captured" in page.text and "Fatto" in page.text


def test_a_post_without_the_csrf_token_changes_nothing(
    portal: TestClient, tmp_path: Path, fake: FakeServices
) -> None:
    sign_in(portal, tmp_path, "provider", PROVIDER)
    refused = portal.post(f"/provider/bookings/{BOOKING}/1/accept", data={"csrf_token": "x" * 43})
    assert refused.status_code == 403
    assert fake.posts() == []


def test_offerings_list_their_slots_with_the_places_taken(
    portal: TestClient, tmp_path: Path, fake: FakeServices
) -> None:
    sign_in(portal, tmp_path, "provider", PROVIDER, lang="en")
    page = portal.get("/provider/offerings")
    assert page.status_code == 200
    assert "Nurse visits at home" in page.text
    cells = [c.strip() for c in page.text.split('<td class="num">')[1:4]]
    assert [c.split("<")[0] for c in cells] == ["3", "2", "1"]  # places, taken, free


def test_opening_a_slot_sends_local_time_with_its_offset(
    portal: TestClient, tmp_path: Path, fake: FakeServices
) -> None:
    sign_in(portal, tmp_path, "provider", PROVIDER)
    done = portal.post(
        f"/provider/offerings/{OFFERING}/slots",
        data={
            "csrf_token": CSRF,
            "day": "2027-01-15",
            "start": "09:30",
            "minutes": "90",
            "capacity": "2",
        },
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert fake.posts() == [
        (
            "catalog",
            f"/offerings/{OFFERING}/slots",
            {
                "starts_at": "2027-01-15T09:30:00+01:00",
                "ends_at": "2027-01-15T11:00:00+01:00",
                "capacity": 2,
            },
        )
    ]


def test_a_slot_form_with_mistakes_is_shown_by_field_and_sends_nothing(
    portal: TestClient, tmp_path: Path, fake: FakeServices
) -> None:
    sign_in(portal, tmp_path, "provider", PROVIDER)
    page = portal.post(
        f"/provider/offerings/{OFFERING}/slots",
        data={"csrf_token": CSRF, "day": "", "start": "9 e mezza", "minutes": "0", "capacity": "x"},
    )
    assert page.status_code == 422
    for field in ("day", "start", "minutes", "capacity"):
        assert f'id="slot-{OFFERING}-{field}-error"' in page.text
    assert "9 e mezza" in page.text
    assert fake.posts() == []


def test_a_slot_the_catalog_refuses_is_explained(
    portal: TestClient, tmp_path: Path, fake: FakeServices
) -> None:
    sign_in(portal, tmp_path, "provider", PROVIDER)
    fake.answers[("catalog", "POST", f"/offerings/{OFFERING}/slots")] = lambda _r: httpx.Response(
        422,
        json={
            "code": "invalid_slot",
            "title": "Invalid slot",
            "detail": "a slot starts in the future",
        },
    )
    page = portal.post(
        f"/provider/offerings/{OFFERING}/slots",
        data={
            "csrf_token": CSRF,
            "day": "2020-01-01",
            "start": "09:00",
            "minutes": "60",
            "capacity": "1",
        },
    )
    assert page.status_code == 422 and "a slot starts in the future" in page.text


def test_the_statement_shows_its_totals_and_period(
    portal: TestClient, tmp_path: Path, fake: FakeServices
) -> None:
    sign_in(portal, tmp_path, "provider", PROVIDER)
    page = portal.get("/provider/statement?first=2026-11-01&last=2026-11-30")
    assert page.status_code == 200
    assert "24,50\xa0€" in page.text and "5,00\xa0€" in page.text
    assert "Infermiere a domicilio" in page.text
    sent = next(r for s, _m, p, _b, r in fake.sent if p.endswith("/statement"))
    assert sent.url.params["from"] == "2026-11-01" and sent.url.params["to"] == "2026-11-30"
    wrong = portal.get("/provider/statement?first=2026-12-01&last=2026-11-01")
    assert wrong.status_code == 422 and 'id="st-last-error"' in wrong.text


def test_withdrawing_needs_the_box_ticked(
    portal: TestClient, tmp_path: Path, fake: FakeServices
) -> None:
    sign_in(portal, tmp_path, "provider", PROVIDER)
    path = f"/provider/offerings/{OFFERING}/withdrawal"
    unticked = portal.post(path, data={"csrf_token": CSRF, "reason": "Servizio chiuso"})
    assert unticked.status_code == 422
    assert f'id="withdraw-{OFFERING}-understood-error"' in unticked.text
    assert "Servizio chiuso" in unticked.text
    assert fake.posts() == []
    fake.answers[("catalog", "POST", path.removeprefix("/provider"))] = lambda _r: httpx.Response(
        200, json={}
    )
    done = portal.post(
        path,
        data={"csrf_token": CSRF, "reason": "Servizio chiuso", "understood": "yes"},
        follow_redirects=False,
    )
    assert done.headers["location"] == "/provider/offerings?done=withdrawn"
    assert fake.posts() == [
        ("catalog", f"/offerings/{OFFERING}/withdrawal", {"reason": "Servizio chiuso"})
    ]


def test_a_co_payment_is_recorded_as_paid_and_the_period_kept(
    portal: TestClient, tmp_path: Path, fake: FakeServices
) -> None:
    sign_in(portal, tmp_path, "provider", PROVIDER)
    page = portal.get("/provider/statement?first=2026-11-01&last=2026-11-30")
    assert f"/provider/statement/{BOOKING}/1/co-payment-paid" in page.text
    done = portal.post(
        f"/provider/statement/{BOOKING}/1/co-payment-paid",
        data={"csrf_token": CSRF, "first": "2026-11-01", "last": "2026-11-30"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert done.headers["location"] == (
        "/provider/statement?first=2026-11-01&last=2026-11-30&done=co_payment"
    )
    assert fake.posts() == [("booking", f"/bookings/{BOOKING}/components/1/co-payment-paid", None)]
    assert "La quota è registrata come pagata" in portal.get(done.headers["location"]).text
