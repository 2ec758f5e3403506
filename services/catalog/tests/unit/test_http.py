from __future__ import annotations

from datetime import UTC, datetime, timedelta

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
