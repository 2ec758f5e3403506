"""Over HTTP: nobody can pass for a booking (request ids starting with ``booking:`` are the
booking saga's, and a booking's hold is settled by its events only), and a provider sets its
offering's booking terms — instant or the acceptance deadline, the cancellation policy — which
are published with the offering and fixed from then on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from benecomune_contracts import catalog as c
from catalog.application import commands as cmd
from catalog.application.app import CatalogApplication
from catalog.domain.errors import InvalidOffering, InvalidTransition
from catalog.domain.terms import BookingTerms
from fastapi.testclient import TestClient
from servicekit.auth import DevIssuer

from ..booking_messages import Booking, deliver, published
from ..conftest import VAT_LA_RETE, as_, offer, register, slot
from .test_http import OFFERING, accredited

BOOKING_ID = "0b6f1b52-9f0e-4d3c-8a4e-2f1f6f0d9a11"


def an_offering(client: TestClient, issuer: DevIssuer, publish: bool = True, **body: Any) -> str:
    accredited(client, issuer, "coop-la-rete", VAT_LA_RETE)
    mine = as_(issuer, "provider", "coop-la-rete")
    response = client.post(
        "/providers/coop-la-rete/offerings", json={**OFFERING, **body}, headers=mine
    )
    assert response.status_code == 201, response.text
    offering_id = str(response.json()["offering_id"])
    if publish:
        assert client.post(f"/offerings/{offering_id}/publication", headers=mine).status_code == 200
    return offering_id


def a_slot(client: TestClient, issuer: DevIssuer, offering_id: str) -> str:
    starts = datetime.now(UTC).replace(microsecond=0) + timedelta(days=5)
    response = client.post(
        f"/offerings/{offering_id}/slots",
        json={
            "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=1)).isoformat(),
            "capacity": 2,
        },
        headers=as_(issuer, "provider", "coop-la-rete"),
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def test_an_http_hold_with_a_booking_request_id_is_refused_with_422(
    client: TestClient, issuer: DevIssuer
) -> None:
    slot_id = a_slot(client, issuer, an_offering(client, issuer))
    response = client.post(
        f"/slots/{slot_id}/holds",
        json={"request_id": f"booking:{BOOKING_ID}:c1:slot"},
        headers=as_(issuer, "beneficiary", "b-001"),
    )
    assert response.status_code == 422
    assert "booking saga's own" in response.text


def test_a_bookings_hold_cannot_be_confirmed_or_released_over_http_even_by_its_provider(
    client: TestClient, issuer: DevIssuer
) -> None:
    offering_id = an_offering(client, issuer)
    slot_id = a_slot(client, issuer, offering_id)
    app = client.app.state.application  # type: ignore[attr-defined]
    booking = Booking(slot_id, UUID(offering_id), "coop-la-rete")
    assert deliver(app, booking.hold())
    for who in (as_(issuer, "provider", "coop-la-rete"), as_(issuer, "operator")):
        for step in ("confirmation", "release"):
            response = client.post(
                f"/slots/{slot_id}/holds/{booking.request_id}/{step}", headers=who
            )
            assert response.status_code == 403, response.text
            assert response.json()["code"] == "booking_hold"


def test_an_offering_is_drafted_with_its_booking_terms_and_shows_them(
    client: TestClient, issuer: DevIssuer
) -> None:
    terms = {"instant": True, "free_until_hours": 24, "fee_percent": 30}
    offering_id = an_offering(client, issuer, terms=terms)
    shown = client.get(f"/offerings/{offering_id}").json()["terms"]
    assert shown == {
        "instant": True,
        "acceptance_hours": 0,
        "free_until_hours": 24,
        "fee_percent": 30,
        "no_show_fee_percent": 100,
    }


def test_an_offering_without_terms_has_the_defaults(client: TestClient, issuer: DevIssuer) -> None:
    shown = client.get(f"/offerings/{an_offering(client, issuer)}").json()["terms"]
    assert shown == {
        "instant": False,
        "acceptance_hours": 24,
        "free_until_hours": 48,
        "fee_percent": 50,
        "no_show_fee_percent": 100,
    }


@pytest.mark.parametrize(
    "terms",
    [
        {"instant": True, "acceptance_hours": 24},
        {"acceptance_hours": 0},
        {"acceptance_hours": 73},
        {"fee_percent": 101},
        {"free_until_hours": -1},
        {"no_show_fee_percent": "100"},
    ],
)
def test_terms_that_make_no_sense_are_refused_with_422(
    client: TestClient, issuer: DevIssuer, terms: dict[str, Any]
) -> None:
    accredited(client, issuer, "coop-la-rete", VAT_LA_RETE)
    response = client.post(
        "/providers/coop-la-rete/offerings",
        json={**OFFERING, "terms": terms},
        headers=as_(issuer, "provider", "coop-la-rete"),
    )
    assert response.status_code == 422, response.text


def test_terms_given_at_publication_replace_the_drafts_and_are_then_fixed(
    client: TestClient, issuer: DevIssuer
) -> None:
    offering_id = an_offering(client, issuer, publish=False)
    mine = as_(issuer, "provider", "coop-la-rete")
    path = f"/offerings/{offering_id}/publication"
    body = {"terms": {"acceptance_hours": 12, "fee_percent": 80}}
    response = client.post(path, json=body, headers=mine)
    assert response.status_code == 200, response.text
    assert response.json()["terms"]["acceptance_hours"] == 12
    assert client.post(path, json=body, headers=mine).status_code == 200  # the same: no change
    again = client.post(path, json={"terms": {"instant": True}}, headers=mine)
    assert again.status_code == 409
    assert "fixed" in again.json()["detail"]


def test_offering_published_carries_its_terms_category_and_price(app: CatalogApplication) -> None:
    provider = register(app)
    offering_id = app.draft_offering(
        provider,
        cmd.DraftOffering(
            title_it="Fisioterapia",
            description_it="A domicilio",
            category="services_no_cap",
            delivery_mode="at_home",
            price_cents=4500,
            unit="session",
            terms=cmd.TermsInput(instant=True, free_until_hours=72),
        ),
    )
    app.publish_offering(offering_id)
    (event,) = [e for e in published(app) if isinstance(e, c.OfferingPublished)]
    assert (event.category, event.price_cents, event.unit) == ("services_no_cap", 4500, "session")
    assert event.terms == c.OfferingTerms(
        instant=True,
        acceptance_hours=0,
        free_until_hours=72,
        fee_percent=50,
        no_show_fee_percent=100,
    )


def test_terms_are_checked_by_the_domain_too() -> None:
    with pytest.raises(InvalidOffering, match="instant"):
        BookingTerms.of(instant=True, acceptance_hours=5)
    with pytest.raises(InvalidOffering, match="1 to 72"):
        BookingTerms(acceptance_hours=0)
    assert BookingTerms.of(instant=True).acceptance_hours == 0


def test_a_published_offerings_terms_do_not_change(app: CatalogApplication) -> None:
    offering = app.get_offering(offer(app, register(app)))
    offering.publish(offering.terms)  # the same terms: nothing happens
    with pytest.raises(InvalidTransition, match="fixed"):
        offering.publish(BookingTerms(fee_percent=10))
    assert slot(app, offering.id)  # still bookable
