"""What the API accepts, the relay can publish: the HTTP models declare their fields with the
contract events' own types, and text people type holds nothing invisible (issue 15, A1 and
C12)."""

from __future__ import annotations

from typing import Any

import pytest
from catalog.adapters.contract_mapping import to_contract
from catalog.application.app import CatalogApplication
from catalog.domain.errors import InvalidOffering, InvalidProvider
from catalog.domain.provider import Provider
from fastapi.testclient import TestClient
from servicekit.auth import DevIssuer

from ..conftest import VAT_LA_RETE, as_


def runtime_app(client: TestClient) -> CatalogApplication:
    app = client.app.state.application  # type: ignore[attr-defined]
    assert isinstance(app, CatalogApplication)
    return app


def every_event_maps(app: CatalogApplication) -> list[str]:
    """The contract types of every stored event that leaves the service; a failure to map
    raises, as it would in the relay."""
    published = []
    for notification in app.recorder.select_notifications(start=1, limit=10_000):
        contract = to_contract(app.mapper.to_domain_event(notification))
        if contract is not None:
            published.append(type(contract).__name__)
    return published


def provider(**extra: Any) -> dict[str, Any]:
    return {
        "provider_id": "coop-la-rete",
        "legal_name": "Cooperativa Sociale La Rete",
        "kind": "coop_a",
        "vat_number": VAT_LA_RETE,
        "municipalities": ["096004"],
        **extra,
    }


def test_a_certification_longer_than_the_contract_allows_is_refused_when_the_provider_applies(
    client: TestClient, issuer: DevIssuer
) -> None:
    operator = as_(issuer, "operator")
    response = client.post(
        "/providers", json=provider(certifications=["c" * 150]), headers=operator
    )
    assert response.status_code == 422
    assert response.json()["code"] == "validation_failed"
    assert response.json()["errors"][0]["field"] == "body.certifications.0"
    assert client.get("/providers/coop-la-rete", headers=operator).status_code == 404
    later = client.post(
        "/providers/coop-la-rete/certifications",
        json={"certification": "c" * 101},
        headers=operator,
    )
    assert later.status_code == 422


def test_the_longest_texts_the_api_accepts_all_reach_kafka(
    client: TestClient, issuer: DevIssuer
) -> None:
    operator = as_(issuer, "operator")
    mine = as_(issuer, "provider", "coop-la-rete")
    certifications = [f"{n:02d}" + "c" * 98 for n in range(20)]
    registered = client.post(
        "/providers", json=provider(certifications=certifications), headers=mine
    )
    assert registered.status_code == 201, registered.json()
    assert client.post("/providers/coop-la-rete/accreditation", headers=operator).status_code == 200
    offering = client.post(
        "/providers/coop-la-rete/offerings",
        json={
            "title_it": "t" * 200,
            "title_en": "e" * 200,
            "description_it": "d" * 4000,
            "category": "elderly_care",
            "delivery_mode": "at_home",
            "price_cents": 10_000_000,
            "unit": "hour",
        },
        headers=mine,
    )
    assert offering.status_code == 201, offering.json()
    offering_id = offering.json()["offering_id"]
    assert client.post(f"/offerings/{offering_id}/publication", headers=mine).status_code == 200
    assert every_event_maps(runtime_app(client)) == ["ProviderAccredited", "OfferingPublished"]


def test_the_domain_refuses_a_certification_the_contract_could_not_carry(
    app: CatalogApplication,
) -> None:
    with pytest.raises(InvalidProvider, match="at most 100 characters"):
        Provider.apply(
            "coop-la-rete", "La Rete", "coop_a", VAT_LA_RETE, None, ["096004"], ["c" * 150]
        )


INVISIBLE = {
    "NUL": "Coop\x00erativa",
    "a control character": "Coop\x1berativa",
    "a right-to-left override": "Coop\u202eavitarepooC",
    "a bidi isolate": "Coop\u2066erativa",
}


@pytest.mark.parametrize("text", list(INVISIBLE.values()), ids=list(INVISIBLE))
@pytest.mark.parametrize(
    "field",
    ["legal_name", "certification", "street", "contact_person"],
)
def test_a_provider_name_certification_or_address_with_invisible_characters_is_refused(
    client: TestClient, issuer: DevIssuer, field: str, text: str
) -> None:
    body = {
        "legal_name": provider(legal_name=text),
        "certification": provider(certifications=[text]),
        "street": provider(
            address={"street": text, "municipality_istat": "096004", "postcode": "13900"}
        ),
        "contact_person": provider(contact_person={"name": text, "phone": "333 123 4567"}),
    }[field]
    response = client.post("/providers", json=body, headers=as_(issuer, "operator"))
    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "validation_failed"
    assert "is not allowed" in problem["errors"][0]["message"]
    assert "U+" in problem["detail"]


@pytest.mark.parametrize("text", list(INVISIBLE.values()), ids=list(INVISIBLE))
@pytest.mark.parametrize("field", ["title_it", "title_en", "description_it"])
def test_an_offering_title_or_description_with_invisible_characters_is_refused(
    client: TestClient, issuer: DevIssuer, field: str, text: str
) -> None:
    mine = as_(issuer, "provider", "coop-la-rete")
    assert client.post("/providers", json=provider(), headers=mine).status_code == 201
    offering = {
        "title_it": "Assistenza domiciliare",
        "description_it": "OSS a domicilio",
        "category": "elderly_care",
        "delivery_mode": "at_home",
        "price_cents": 2200,
        "unit": "hour",
        field: text,
    }
    response = client.post("/providers/coop-la-rete/offerings", json=offering, headers=mine)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == f"body.{field}"


def test_a_description_may_have_several_lines_but_a_title_may_not(
    client: TestClient, issuer: DevIssuer
) -> None:
    mine = as_(issuer, "provider", "coop-la-rete")
    assert client.post("/providers", json=provider(), headers=mine).status_code == 201
    offering = {
        "title_it": "Assistenza domiciliare",
        "description_it": "Operatori socio-sanitari.\nTutti i giorni,\tanche festivi.",
        "category": "elderly_care",
        "delivery_mode": "at_home",
        "price_cents": 2200,
        "unit": "hour",
    }
    path = "/providers/coop-la-rete/offerings"
    assert client.post(path, json=offering, headers=mine).status_code == 201
    two_lines = {**offering, "title_it": "Assistenza\ndomiciliare"}
    assert client.post(path, json=two_lines, headers=mine).status_code == 422


def test_the_domain_refuses_invisible_characters_in_an_offering_title(
    app: CatalogApplication,
) -> None:
    from catalog.domain.offering import Offering

    with pytest.raises(InvalidOffering, match="U\\+202E"):
        Offering.draft(
            "coop-la-rete",
            {"it": "Assistenza\u202e"},
            {"it": "OSS"},
            "elderly_care",
            "at_home",
            2200,
            "hour",
            ["096004"],
        )
