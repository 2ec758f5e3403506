from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from servicekit.auth import DevIssuer

from ..conftest import VAT_IL_SOLE, VAT_LA_RETE, as_


def provider_body(provider_id: str, vat: str) -> dict[str, object]:
    return {
        "provider_id": provider_id,
        "legal_name": "Cooperativa Sociale La Rete",
        "kind": "coop_a",
        "vat_number": vat,
        "municipalities": ["096004"],
    }


OFFERING = {
    "title_it": "Assistenza domiciliare",
    "title_en": "Home care",
    "description_it": "OSS a domicilio",
    "category": "elderly_care",
    "delivery_mode": "at_home",
    "price_cents": 2200,
    "unit": "hour",
}


def accredited(client: TestClient, issuer: DevIssuer, provider_id: str, vat: str) -> None:
    mine = as_(issuer, "provider", provider_id)
    assert (
        client.post("/providers", json=provider_body(provider_id, vat), headers=mine).status_code
        == 201
    )
    operator = as_(issuer, "operator")
    assert (
        client.post(f"/providers/{provider_id}/accreditation", headers=operator).status_code == 200
    )


def test_changing_anything_without_a_token_is_refused_with_401(client: TestClient) -> None:
    response = client.post("/providers", json=provider_body("coop-la-rete", VAT_LA_RETE))
    assert response.status_code == 401


def test_only_the_operator_accredits_a_provider(client: TestClient, issuer: DevIssuer) -> None:
    mine = as_(issuer, "provider", "coop-la-rete")
    client.post("/providers", json=provider_body("coop-la-rete", VAT_LA_RETE), headers=mine)
    response = client.post("/providers/coop-la-rete/accreditation", headers=mine)
    assert response.status_code == 403
    operator = as_(issuer, "operator")
    response = client.post("/providers/coop-la-rete/accreditation", headers=operator)
    assert response.status_code == 200
    assert response.json()["status"] == "accredited"


def test_a_provider_cannot_apply_in_another_providers_name(
    client: TestClient, issuer: DevIssuer
) -> None:
    response = client.post(
        "/providers",
        json=provider_body("coop-la-rete", VAT_LA_RETE),
        headers=as_(issuer, "provider", "coop-altra"),
    )
    assert response.status_code == 403


def test_a_bad_vat_number_is_a_clear_422(client: TestClient, issuer: DevIssuer) -> None:
    response = client.post(
        "/providers",
        json=provider_body("coop-la-rete", "01114601007"),
        headers=as_(issuer, "operator"),
    )
    assert response.status_code == 422
    assert "check digit" in response.json()["detail"]


def test_providers_manage_only_their_own_offerings(client: TestClient, issuer: DevIssuer) -> None:
    accredited(client, issuer, "coop-la-rete", VAT_LA_RETE)
    accredited(client, issuer, "coop-il-sole", VAT_IL_SOLE)
    mine = as_(issuer, "provider", "coop-la-rete")
    theirs = as_(issuer, "provider", "coop-il-sole")
    assert (
        client.post("/providers/coop-la-rete/offerings", json=OFFERING, headers=theirs).status_code
        == 403
    )
    created = client.post("/providers/coop-la-rete/offerings", json=OFFERING, headers=mine)
    assert created.status_code == 201
    offering_id = created.json()["offering_id"]
    assert client.post(f"/offerings/{offering_id}/publication", headers=theirs).status_code == 403
    assert client.post(f"/offerings/{offering_id}/publication", headers=mine).status_code == 200
    starts = datetime.now(UTC) + timedelta(days=2)
    body = {
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=1)).isoformat(),
        "capacity": 1,
    }
    assert (
        client.post(f"/offerings/{offering_id}/slots", json=body, headers=theirs).status_code == 403
    )
    slot = client.post(f"/offerings/{offering_id}/slots", json=body, headers=mine)
    assert slot.status_code == 201


def test_anyone_searches_and_a_hold_is_idempotent_over_http(
    client: TestClient, issuer: DevIssuer
) -> None:
    accredited(client, issuer, "coop-la-rete", VAT_LA_RETE)
    mine = as_(issuer, "provider", "coop-la-rete")
    offering_id = client.post(
        "/providers/coop-la-rete/offerings", json=OFFERING, headers=mine
    ).json()["offering_id"]
    client.post(f"/offerings/{offering_id}/publication", headers=mine)
    starts = datetime.now(UTC) + timedelta(days=2)
    body = {
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=1)).isoformat(),
        "capacity": 1,
    }
    slot_id = client.post(f"/offerings/{offering_id}/slots", json=body, headers=mine).json()["id"]

    found = client.get("/search", params={"q": "home care"})
    assert found.status_code == 200
    assert [i["offering_id"] for i in found.json()["items"]] == [offering_id]

    family = as_(issuer, "beneficiary", "b-001")
    hold = {"request_id": "booking-7/part-1", "quantity": 1}
    first = client.post(f"/slots/{slot_id}/holds", json=hold, headers=family)
    again = client.post(f"/slots/{slot_id}/holds", json=hold, headers=family)
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    other = client.post(
        f"/slots/{slot_id}/holds", json={"request_id": "booking-8/part-1"}, headers=family
    )
    assert other.status_code == 409
    assert other.json()["code"] == "slot_full"
    assert (
        client.post(
            f"/slots/{slot_id}/holds", json=hold, headers=as_(issuer, "auditor")
        ).status_code
        == 403
    )


def published_slot(client: TestClient, issuer: DevIssuer, capacity: int = 5) -> tuple[str, str]:
    """An accredited provider's published offering with one slot: (offering id, slot id)."""
    accredited(client, issuer, "coop-la-rete", VAT_LA_RETE)
    mine = as_(issuer, "provider", "coop-la-rete")
    offering_id = client.post(
        "/providers/coop-la-rete/offerings", json=OFFERING, headers=mine
    ).json()["offering_id"]
    client.post(f"/offerings/{offering_id}/publication", headers=mine)
    starts = datetime.now(UTC) + timedelta(days=2)
    body = {
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=1)).isoformat(),
        "capacity": capacity,
    }
    slot_id = client.post(f"/offerings/{offering_id}/slots", json=body, headers=mine).json()["id"]
    return offering_id, slot_id


def test_another_citizen_using_the_same_request_id_gets_a_hold_of_their_own(
    client: TestClient, issuer: DevIssuer
) -> None:
    _, slot_id = published_slot(client, issuer)
    anna = as_(issuer, "beneficiary", "b-anna")
    bruno = as_(issuer, "beneficiary", "b-bruno")
    held = client.post(
        f"/slots/{slot_id}/holds", json={"request_id": "booking-1", "quantity": 2}, headers=anna
    )
    assert held.status_code == 200
    # Bruno sends Anna's request id: a new hold of his, never Anna's (nor her quantity).
    for quantity in (1, 1):
        his = client.post(
            f"/slots/{slot_id}/holds",
            json={"request_id": "booking-1", "quantity": quantity},
            headers=bruno,
        )
        assert his.status_code == 200
        assert his.json()["quantity"] == 1
        assert his.json()["expires_at"] != held.json()["expires_at"]
    other_quantity = client.post(
        f"/slots/{slot_id}/holds", json={"request_id": "booking-1", "quantity": 3}, headers=bruno
    )
    assert other_quantity.status_code == 409
    assert other_quantity.json()["code"] == "request_mismatch"
    assert "2" not in other_quantity.json()["detail"]  # Anna's quantity is not revealed
    # Bruno cannot confirm or release Anna's hold with her request id: he settles his own.
    path = f"/slots/{slot_id}/holds/booking-1"
    assert client.post(f"{path}/release", headers=bruno).json()["quantity"] == 1
    again = client.post(
        f"/slots/{slot_id}/holds", json={"request_id": "booking-1", "quantity": 2}, headers=anna
    )
    assert again.json() == held.json()
    assert client.post(f"{path}/confirmation", headers=anna).json()["status"] == "confirmed"


def test_the_provider_settles_a_hold_naming_its_holder_when_request_ids_are_shared(
    client: TestClient, issuer: DevIssuer
) -> None:
    _, slot_id = published_slot(client, issuer)
    mine = as_(issuer, "provider", "coop-la-rete")
    for who in ("b-anna", "b-bruno"):
        held = client.post(
            f"/slots/{slot_id}/holds",
            json={"request_id": "r-1"},
            headers=as_(issuer, "beneficiary", who),
        )
        assert held.status_code == 200
    path = f"/slots/{slot_id}/holds/r-1/release"
    ambiguous = client.post(path, headers=mine)
    assert ambiguous.status_code == 409
    assert ambiguous.json()["holders"] == ["beneficiary:b-anna", "beneficiary:b-bruno"]
    released = client.post(path, params={"holder": "beneficiary:b-anna"}, headers=mine)
    assert released.status_code == 200
    assert released.json()["status"] == "released"
    # Anna's released hold still carries the request id: Bruno's is settled by naming him.
    bruno = client.post(
        f"/slots/{slot_id}/holds/r-1/confirmation",
        params={"holder": "beneficiary:b-bruno"},
        headers=mine,
    )
    assert bruno.json()["status"] == "confirmed"
    stranger = as_(issuer, "beneficiary", "b-carla")
    refused = client.post(path, params={"holder": "beneficiary:b-bruno"}, headers=stranger)
    assert refused.status_code == 403


@pytest.mark.parametrize(
    ("starts", "ends", "words"),
    [
        ("2019-05-06T09:00:00+00:00", "2019-05-06T10:00:00+00:00", "in the past"),
        ("2020-12-31T09:00:00+01:00", "2020-12-31T10:00:00+01:00", "in the past"),
        ("+800d", "+800d1h", "days ahead"),
        ("+2d", "+2d-1h", "end after it starts"),
        ("+2d", "+40d", "at most 744 hours"),
    ],
)
def test_an_implausible_slot_time_is_refused_with_a_clear_422(
    client: TestClient, issuer: DevIssuer, starts: str, ends: str, words: str
) -> None:
    offering_id, _ = published_slot(client, issuer)
    now = datetime.now(UTC).replace(microsecond=0)

    def moment(value: str) -> str:
        if not value.startswith("+"):
            return value
        days, _, hours = value[1:].partition("d")
        return (now + timedelta(days=int(days), hours=int(hours.rstrip("h") or 0))).isoformat()

    body = {"starts_at": moment(starts), "ends_at": moment(ends), "capacity": 2}
    response = client.post(
        f"/offerings/{offering_id}/slots",
        json=body,
        headers=as_(issuer, "provider", "coop-la-rete"),
    )
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_slot"
    assert words in response.json()["detail"]


def test_weekly_slots_from_a_past_date_are_refused(client: TestClient, issuer: DevIssuer) -> None:
    offering_id, _ = published_slot(client, issuer)
    body = {
        "from_date": "2020-01-06",
        "to_date": "2020-02-06",
        "weekly": [{"weekday": 0, "start": "09:00", "duration_minutes": 60}],
        "capacity": 2,
    }
    response = client.post(
        f"/offerings/{offering_id}/weekly-slots",
        json=body,
        headers=as_(issuer, "provider", "coop-la-rete"),
    )
    assert response.status_code == 422
    assert "in the past" in response.json()["detail"]


def test_a_withdrawn_offerings_slot_list_says_it_was_withdrawn_instead_of_free_places(
    client: TestClient, issuer: DevIssuer
) -> None:
    offering_id, _ = published_slot(client, issuer)
    listed = client.get(f"/offerings/{offering_id}/slots")
    assert [s["available"] for s in listed.json()] == [5]
    withdrawn = client.post(
        f"/offerings/{offering_id}/withdrawal",
        json={"reason": "servizio sospeso"},
        headers=as_(issuer, "provider", "coop-la-rete"),
    )
    assert withdrawn.status_code == 200
    gone = client.get(f"/offerings/{offering_id}/slots")
    assert gone.status_code == 410
    assert gone.json()["code"] == "offering_withdrawn"
    assert "withdrawn" in gone.json()["detail"]
    documented = client.get("/openapi.json").json()["paths"]["/offerings/{offering_id}/slots"]
    assert "410" in documented["get"]["responses"]


def test_the_public_provider_pages_do_not_require_a_token_in_openapi(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/providers", "/providers/{provider_id}"):
        security = paths[path]["get"].get("security", [])
        assert security == [] or {} in security, (path, security)
    # A route that needs a token still says so.
    assert {} not in paths["/providers/{provider_id}/history"]["get"]["security"]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (
            "slots",
            {"starts_at": "9999-12-31T23:00:00-05:00", "ends_at": "9999-12-31T23:30:00-05:00"},
        ),
        (
            "price",
            {"price_cents": 2400, "unit": "hour", "effective_from": "9999-12-31T23:00-05:00"},
        ),
        ("price", {"price_cents": 2400, "unit": "hour", "effective_from": "2999-01-01T00:00Z"}),
        ("slots", {"starts_at": "9999-05-06T09:00:00+00:00", "ends_at": "9999-05-06T10:00Z"}),
    ],
)
def test_a_date_at_the_end_of_time_is_a_clear_422_not_a_server_error(
    client: TestClient, issuer: DevIssuer, path: str, body: dict[str, Any]
) -> None:
    offering_id, _ = published_slot(client, issuer)
    response = client.post(
        f"/offerings/{offering_id}/{path}",
        json={"capacity": 2, **body} if path == "slots" else body,
        headers=as_(issuer, "provider", "coop-la-rete"),
    )
    assert response.status_code == 422
    assert response.json()["code"] == "validation_failed"
    assert "2100" in response.json()["detail"] or "out of range" in response.json()["detail"]


def test_a_price_change_more_than_two_years_ahead_is_refused(
    client: TestClient, issuer: DevIssuer
) -> None:
    offering_id, _ = published_slot(client, issuer)
    far = (datetime.now(UTC) + timedelta(days=800)).isoformat()
    response = client.post(
        f"/offerings/{offering_id}/price",
        json={"price_cents": 2400, "unit": "hour", "effective_from": far},
        headers=as_(issuer, "provider", "coop-la-rete"),
    )
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_price"
    assert "days ahead" in response.json()["detail"]
