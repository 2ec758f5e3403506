"""Providers over HTTP: the operator's review queue and the public list, a provider's page with
its public and restricted parts, its contacts and its history — each seen by whom it may be."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from servicekit.auth import DevIssuer

from ..conftest import VAT_BOTTEGA, VAT_IL_SOLE, VAT_LA_RETE, as_

PERSONAL = ("Maria Rossi", "+393331234567", "maria@larete.example", "RSSMRA85T10A562S")


def body(provider_id: str, kind: str, municipalities: list[str], **extra: Any) -> dict[str, Any]:
    return {
        "provider_id": provider_id,
        "legal_name": f"{provider_id.replace('-', ' ').title()} Società Cooperativa",
        "kind": kind,
        "municipalities": municipalities,
        **extra,
    }


LA_RETE = body(
    "coop-la-rete",
    "coop_a",
    ["096004", "096020"],
    vat_number=VAT_LA_RETE,
    contact_email="info@larete.example",
    phone="015 252 3456",
    website="https://www.larete.example",
    address={"street": "Via Italia 12", "municipality_istat": "096004", "postcode": "13900"},
    contact_person={
        "name": "Maria Rossi",
        "role": "coordinatrice",
        "phone": "333 123 4567",
        "email": "maria@larete.example",
    },
)
IL_SOLE = body("coop-il-sole", "coop_b", ["096004"], vat_number=VAT_IL_SOLE)
BOTTEGA = body("bottega-solidale", "shop", ["096020"], vat_number=VAT_BOTTEGA)
AMICI = body(
    "amici-aps",
    "association",
    ["096012"],
    fiscal_code="RSSMRA85T10A562S",  # a volunteer's personal fiscal code: personal data
    phone="333 000 1111",
)


class Territory:
    """The providers of these tests, made through the API as their roles would."""

    def __init__(self, client: TestClient, issuer: DevIssuer) -> None:
        self.client = client
        self.issuer = issuer
        self.operator = as_(issuer, "operator")
        self.auditor = as_(issuer, "auditor")
        self.family = as_(issuer, "beneficiary", "b-001")

    def provider(self, provider_id: str) -> dict[str, str]:
        return as_(self.issuer, "provider", provider_id)

    def post(self, path: str, json: Any, headers: dict[str, str], expect: int = 200) -> Any:
        response = self.client.post(path, json=json, headers=headers)
        assert response.status_code == expect, response.text
        return response.json()

    def apply(self, application: dict[str, Any]) -> str:
        pid = str(application["provider_id"])
        self.post("/providers", application, self.provider(pid), expect=201)
        return pid

    def get(self, path: str, headers: dict[str, str] | None = None, **params: Any) -> Any:
        response = self.client.get(path, params=params, headers=headers or {})
        assert response.status_code == 200, response.text
        return response.json()

    def ids(self, headers: dict[str, str] | None = None, **params: Any) -> list[str]:
        return [p["provider_id"] for p in self.get("/providers", headers, **params)["items"]]


@pytest.fixture
def territory(client: TestClient, issuer: DevIssuer) -> Territory:
    """La Rete accredited, Il Sole only applied, the shop accredited then suspended, the
    association accredited: applied in this order."""
    t = Territory(client, issuer)
    for application in (LA_RETE, IL_SOLE, BOTTEGA, AMICI):
        t.apply(application)
    for pid in ("coop-la-rete", "bottega-solidale", "amici-aps"):
        t.post(f"/providers/{pid}/accreditation", None, t.operator)
    t.post(
        "/providers/bottega-solidale/suspension",
        {"reason_code": "hygiene_inspection", "reason": "Esito ASL negativo"},
        t.operator,
    )
    return t


# --- the list ------------------------------------------------------------------------------------


def test_the_operators_review_queue_lists_the_applications_oldest_first(
    territory: Territory,
) -> None:
    territory.apply(body("coop-trama", "coop_a", ["096088"], vat_number="02685300960"))
    queue = territory.get("/providers", territory.operator, status="applied", sort="applied")
    assert [p["provider_id"] for p in queue["items"]] == ["coop-il-sole", "coop-trama"]
    assert queue["total"] == 2
    first, second = (datetime.fromisoformat(p["applied_at"]) for p in queue["items"])
    assert first < second


def test_anyone_lists_the_accredited_providers_with_their_public_contacts_only(
    territory: Territory,
) -> None:
    listed = territory.client.get("/providers")
    assert listed.status_code == 200
    items = listed.json()["items"]
    assert [p["provider_id"] for p in items] == ["amici-aps", "coop-la-rete"]  # by name
    rete = items[1]
    assert rete["contacts"] == {
        "email": "info@larete.example",
        "phone": "+390152523456",
        "website": "https://www.larete.example",
        "address": {"street": "Via Italia 12", "municipality_istat": "096004", "postcode": "13900"},
    }
    assert rete["status"] == "accredited" and rete["applied_at"] is None
    for secret in PERSONAL:
        assert secret not in listed.text
    assert territory.ids(territory.family) == ["amici-aps", "coop-la-rete"]


@pytest.mark.parametrize("role", [None, "beneficiary", "social_worker"])
def test_only_the_operator_and_auditors_list_providers_that_are_not_accredited(
    territory: Territory, role: str | None
) -> None:
    headers = (
        as_(territory.issuer, role, "b-001" if role == "beneficiary" else None) if role else {}
    )
    for status_ in ("applied", "suspended"):
        response = territory.client.get("/providers", params={"status": status_}, headers=headers)
        assert response.status_code == 403
        assert "only the operator and auditors" in response.json()["detail"]
    every = {"amici-aps", "bottega-solidale", "coop-il-sole", "coop-la-rete"}
    assert set(territory.ids(territory.operator)) == every
    assert set(territory.ids(territory.auditor)) == every
    assert territory.ids(territory.auditor, status="suspended") == ["bottega-solidale"]


def test_a_provider_listing_the_providers_sees_only_itself(territory: Territory) -> None:
    mine = territory.get("/providers", territory.provider("coop-il-sole"))
    assert [p["provider_id"] for p in mine["items"]] == ["coop-il-sole"]
    assert mine["items"][0]["status"] == "applied"
    assert mine["items"][0]["applied_at"] is not None
    assert territory.ids(territory.provider("coop-il-sole"), status="accredited") == []


def test_providers_are_filtered_by_kind_municipality_and_name_and_paged(
    territory: Territory,
) -> None:
    op = territory.operator
    assert territory.ids(op, kind="shop") == ["bottega-solidale"]
    assert territory.ids(op, municipality="096020") == ["bottega-solidale", "coop-la-rete"]
    assert territory.ids(op, municipality="096004", status="accredited") == ["coop-la-rete"]
    assert territory.ids(op, q="RETE") == ["coop-la-rete"]
    assert territory.ids(op, kind="coop_b", municipality="096020") == []
    first = territory.get("/providers", op, page_size=3)
    second = territory.get("/providers", op, page_size=3, page=2)
    assert first["total"] == second["total"] == 4
    names = [p["provider_id"] for p in first["items"] + second["items"]]
    assert names == ["amici-aps", "bottega-solidale", "coop-il-sole", "coop-la-rete"]


@pytest.mark.parametrize(
    "params",
    [
        {"status": "closed"},
        {"kind": "bank"},
        {"municipality": "96004"},
        {"sort": "vat"},
        {"page": 0},
        {"page_size": 101},
    ],
)
def test_a_bad_filter_is_a_clear_422(territory: Territory, params: dict[str, Any]) -> None:
    response = territory.client.get("/providers", params=params, headers=territory.operator)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"].split(".")[-1] in params


def test_the_list_follows_accreditation_suspension_and_contact_changes(
    territory: Territory,
) -> None:
    op = territory.operator
    shop = territory.get("/providers", op, kind="shop")["items"][0]
    assert shop["status"] == "suspended"
    assert datetime.fromisoformat(shop["status_since"]) > datetime.fromisoformat(shop["applied_at"])
    territory.post("/providers/bottega-solidale/reinstatement", None, op)
    assert "bottega-solidale" in territory.ids()
    response = territory.client.patch(
        "/providers/bottega-solidale/contacts",
        json={"phone": "015 777 1234"},
        headers=territory.provider("bottega-solidale"),
    )
    assert response.status_code == 200, response.text
    (shop,) = territory.get("/providers", None, kind="shop")["items"]
    assert shop["contacts"]["phone"] == "+390157771234"


# --- one provider --------------------------------------------------------------------------------


def test_a_visitor_sees_an_accredited_provider_without_its_restricted_part(
    territory: Territory,
) -> None:
    for headers in ({}, territory.family, territory.provider("coop-il-sole"), territory.auditor):
        response = territory.client.get("/providers/coop-la-rete", headers=headers)
        assert response.status_code == 200
        page = response.json()
        assert page["contacts"]["website"] == "https://www.larete.example"
        assert page["restricted"] is None
        for secret in PERSONAL:
            assert secret not in response.text
    amici = territory.client.get("/providers/amici-aps")
    assert "RSSMRA85T10A562S" not in amici.text


@pytest.mark.parametrize("who", ["operator", "itself"])
def test_the_operator_and_the_provider_itself_see_the_contact_person_and_fiscal_code(
    territory: Territory, who: str
) -> None:
    headers = territory.operator if who == "operator" else territory.provider("coop-la-rete")
    restricted = territory.get("/providers/coop-la-rete", headers)["restricted"]
    assert restricted["contact_person"] == {
        "name": "Maria Rossi",
        "role": "coordinatrice",
        "phone": "+393331234567",
        "email": "maria@larete.example",
    }
    assert restricted["contact_person_erased"] is False
    assert datetime.fromisoformat(restricted["applied_at"])
    amici = territory.get("/providers/amici-aps", territory.operator)["restricted"]
    assert amici["fiscal_code"] == "RSSMRA85T10A562S"
    assert amici["contact_person"] is None


def test_a_provider_that_is_not_accredited_is_not_found_by_the_public(
    territory: Territory,
) -> None:
    for pid in ("coop-il-sole", "bottega-solidale"):
        for headers in ({}, territory.family, territory.provider("coop-la-rete")):
            response = territory.client.get(f"/providers/{pid}", headers=headers)
            assert response.status_code == 404
            assert response.json()["code"] == "not_found"
        assert territory.get(f"/providers/{pid}", territory.operator)["provider_id"] == pid
        assert territory.get(f"/providers/{pid}", territory.auditor)["restricted"] is None
        mine = territory.get(f"/providers/{pid}", territory.provider(pid))
        assert mine["restricted"] is not None


# --- contacts ------------------------------------------------------------------------------------


def test_a_provider_updates_its_own_contacts_and_no_one_elses(territory: Territory) -> None:
    change = {"website": "larete-biella.example"}
    path = "/providers/coop-la-rete/contacts"
    assert territory.client.patch(path, json=change).status_code == 401
    for headers in (territory.provider("coop-il-sole"), territory.family, territory.auditor):
        assert territory.client.patch(path, json=change, headers=headers).status_code == 403
    response = territory.client.patch(path, json=change, headers=territory.provider("coop-la-rete"))
    assert response.status_code == 200
    assert response.json()["contacts"]["website"] == "https://larete-biella.example"
    assert response.json()["restricted"]["contact_person"]["name"] == "Maria Rossi"
    new_person = {"contact_person": {"name": "Luca Bianchi", "phone": "340 555 1234"}}
    response = territory.client.patch(path, json=new_person, headers=territory.operator)
    assert response.status_code == 200
    assert response.json()["restricted"]["contact_person"]["phone"] == "+393405551234"


@pytest.mark.parametrize(
    ("change", "error", "words"),
    [
        ({"phone": "12345"}, "invalid_contact", "not an Italian phone number"),
        ({"contact_email": "info@"}, "invalid_contact", "not an e-mail address"),
        (
            {
                "address": {
                    "street": "Via Roma 1",
                    "municipality_istat": "096004",
                    "postcode": "139",
                }
            },
            "invalid_contact",
            "5 digits",
        ),
        (
            {
                "address": {
                    "street": "Via Roma 1",
                    "municipality_istat": "001272",
                    "postcode": "10100",
                }
            },
            "unknown_municipality",
            "001272 is not part of territory biella",
        ),
        (
            {"contact_person": {"name": "Luca Bianchi"}},
            "invalid_contact",
            "phone number or an e-mail",
        ),
    ],
)
def test_a_bad_contact_is_a_clear_422_and_changes_nothing(
    territory: Territory, change: dict[str, Any], error: str, words: str
) -> None:
    mine = territory.provider("coop-la-rete")
    before = territory.get("/providers/coop-la-rete", mine)
    history = territory.get("/providers/coop-la-rete/history", mine)
    response = territory.client.patch("/providers/coop-la-rete/contacts", json=change, headers=mine)
    assert response.status_code == 422
    assert response.json()["code"] == error
    assert words in response.json()["detail"]
    assert territory.get("/providers/coop-la-rete", mine) == before
    assert territory.get("/providers/coop-la-rete/history", mine) == history


@pytest.mark.parametrize("change", [{}, {"fax": "015 000 000"}, {"phone": 152523456}])
def test_a_malformed_contacts_update_is_refused_at_the_edge(
    territory: Territory, change: dict[str, Any]
) -> None:
    response = territory.client.patch(
        "/providers/coop-la-rete/contacts", json=change, headers=territory.operator
    )
    assert response.status_code == 422


def test_an_application_with_a_bad_postcode_is_a_clear_422_and_registers_nothing(
    territory: Territory,
) -> None:
    application = body(
        "coop-nuova",
        "coop_a",
        ["096004"],
        vat_number="02685300960",
        address={"street": "Via Roma 1", "municipality_istat": "096004", "postcode": "00000"},
    )
    response = territory.client.post(
        "/providers", json=application, headers=territory.provider("coop-nuova")
    )
    assert response.status_code == 422
    assert "not an Italian postcode" in response.json()["detail"]
    missing = territory.client.get("/providers/coop-nuova", headers=territory.operator)
    assert missing.status_code == 404
    assert "coop-nuova" not in territory.ids(territory.operator)


# --- history -------------------------------------------------------------------------------------


def test_a_providers_history_tells_its_lifecycle_with_who_and_when(territory: Territory) -> None:
    op, mine = territory.operator, territory.provider("coop-la-rete")
    territory.post("/providers/coop-la-rete/certifications", {"certification": "UNI 11034"}, mine)
    response = territory.client.patch(
        "/providers/coop-la-rete/contacts",
        json={"phone": "015 999 0000", "contact_person": None},
        headers=mine,
    )
    assert response.status_code == 200
    territory.post(
        "/providers/coop-la-rete/suspension",
        {"reason_code": "insurance_expired", "reason": "Polizza RC scaduta"},
        op,
    )
    territory.post("/providers/coop-la-rete/reinstatement", None, op)
    history = territory.get("/providers/coop-la-rete/history", territory.auditor)
    assert [(h["event"], h["by"]) for h in history] == [
        ("applied", "provider:coop-la-rete"),
        ("accredited", "operator"),
        ("certification_added", "provider:coop-la-rete"),
        ("contacts_updated", "provider:coop-la-rete"),
        ("suspended", "operator"),
        ("reinstated", "operator"),
    ]
    assert [h["version"] for h in history] == [1, 2, 3, 4, 5, 6]
    moments = [datetime.fromisoformat(h["at"]) for h in history]
    assert moments == sorted(moments) and all(m.tzinfo is not None for m in moments)
    assert history[0]["details"] == {"kind": "coop_a", "municipalities": ["096004", "096020"]}
    assert history[2]["details"] == {"certification": "UNI 11034"}
    assert history[3]["details"] == {"changed": ["phone", "contact_person"]}
    assert history[4]["details"] == {
        "reason_code": "insurance_expired",
        "reason": "Polizza RC scaduta",
    }
    raw = territory.client.get("/providers/coop-la-rete/history", headers=op).text
    for secret in (*PERSONAL, "0159990000"):
        assert secret not in raw


def test_the_history_is_for_the_operator_auditors_and_the_provider_itself(
    territory: Territory,
) -> None:
    path = "/providers/coop-il-sole/history"
    assert territory.client.get(path).status_code == 401
    for headers in (territory.family, territory.provider("coop-la-rete")):
        assert territory.client.get(path, headers=headers).status_code == 403
    for headers in (territory.operator, territory.auditor, territory.provider("coop-il-sole")):
        assert [h["event"] for h in territory.get(path, headers)] == ["applied"]
    unknown = territory.client.get("/providers/coop-nessuna/history", headers=territory.operator)
    assert unknown.status_code == 404


def test_the_new_provider_endpoints_are_documented_in_the_openapi_page(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {"get"} <= set(paths["/providers"])
    assert {"get"} <= set(paths["/providers/{provider_id}/history"])
    assert {"patch"} <= set(paths["/providers/{provider_id}/contacts"])
    listed = {p["name"] for p in paths["/providers"]["get"]["parameters"]}
    assert {"status", "kind", "municipality", "q", "sort", "page", "page_size"} <= listed
