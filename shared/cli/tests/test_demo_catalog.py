"""The Biella demo catalogue loads through the catalog API and shows what a visitor, a family and
the operator expect to find: bilingual offerings with future slots, a multi-provider package, the
voucher shops, providers' contacts, the operator's review queue, and nothing of a provider that
has only applied."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from benecomune_cli import demo, demo_catalog
from catalog.service import DEFINITION
from catalog.settings import CatalogSettings
from fastapi.testclient import TestClient
from servicekit.auth import DevIssuer
from servicekit.http import create_http_app
from servicekit.italian_ids import validate_fiscal_code, validate_vat_number
from servicekit.service import ServiceRuntime


@dataclass
class Loaded:
    client: TestClient
    issuer: DevIssuer
    provider_ids: list[str]
    seconds: float

    def get(self, path: str, **params: Any) -> Any:
        """Anonymously, as any visitor of the marketplace."""
        response = self.client.get(path, params=params)
        assert response.status_code == 200, response.text
        return response.json()

    def search(self, **params: Any) -> dict[str, Any]:
        found: dict[str, Any] = self.get("/search", page_size=100, **params)
        return found

    def as_operator(self, path: str, **params: Any) -> Any:
        token = self.issuer.mint("operator")
        response = self.client.get(
            path, params=params, headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loaded]:
    """One catalogue loaded for the whole module: the load is what is under test, once."""
    root: Path = tmp_path_factory.mktemp("catalog")
    settings = CatalogSettings(data_dir=root / "data", keys_dir=root / "keys")
    issuer = DevIssuer(settings.territory, settings.keys_dir)
    runtime = ServiceRuntime(DEFINITION, settings)
    with TestClient(create_http_app(runtime, with_workers=False)) as client:
        started = time.monotonic()
        provider_ids = demo_catalog.load(client, issuer)
        yield Loaded(client, issuer, provider_ids, time.monotonic() - started)


def test_every_demo_vat_number_and_fiscal_code_is_valid_and_belongs_to_one_party() -> None:
    vats = [p.vat_number for p in demo_catalog.PROVIDERS if p.vat_number]
    vats += [shop.vat_number for shop in demo.SHOPS]
    assert [validate_vat_number(v) for v in vats] == vats
    codes = [p.fiscal_code for p in demo_catalog.PROVIDERS if p.fiscal_code]
    assert codes and [validate_fiscal_code(c) for c in codes] == codes
    assert len(set(vats + codes)) == len(vats) + len(codes)


def test_the_demo_loads_quickly_and_returns_every_provider_and_shop_it_created(
    loaded: Loaded,
) -> None:
    assert loaded.seconds < 20
    expected = [p.provider_id for p in demo_catalog.PROVIDERS]
    expected += [shop.merchant_id for shop in demo.SHOPS]
    assert loaded.provider_ids == expected
    kinds = {loaded.as_operator(f"/providers/{pid}")["kind"] for pid in loaded.provider_ids}
    assert kinds == {"coop_a", "coop_b", "association", "company", "shop"}


def test_every_provider_is_accredited_but_the_one_left_for_the_operator_to_review(
    loaded: Loaded,
) -> None:
    queue = loaded.as_operator("/providers", status="applied", sort="applied")
    assert [p["provider_id"] for p in queue["items"]] == ["coop-trama"]
    public = loaded.get("/providers", page_size=100)
    assert {p["provider_id"] for p in public["items"]} == set(loaded.provider_ids) - {"coop-trama"}
    assert all(p["status"] == "accredited" for p in public["items"])
    assert loaded.client.get("/providers/coop-trama").status_code == 404


def test_every_demo_provider_shows_its_seat_switchboard_and_website_to_anyone(
    loaded: Loaded,
) -> None:
    for spec in demo_catalog.PROVIDERS:
        if not spec.accredited:
            continue
        page = loaded.get(f"/providers/{spec.provider_id}")
        contacts = page["contacts"]
        assert contacts["address"]["municipality_istat"] == spec.seat.municipality
        assert contacts["address"]["municipality_istat"] in spec.municipalities
        assert contacts["phone"].startswith("+39015000")
        assert contacts["website"].endswith(".example")
        assert page["restricted"] is None
        assert spec.contact.name not in str(page)


def test_the_operator_sees_each_contact_person_and_the_meals_cooperatives_new_one(
    loaded: Loaded,
) -> None:
    filo = loaded.as_operator("/providers/coop-il-filo")["restricted"]["contact_person"]
    assert filo["name"] == "Chiara Bellardone"
    assert filo["phone"] == "+390150000201"
    mucrone = loaded.as_operator("/providers/coop-mucrone")
    assert mucrone["restricted"]["contact_person"]["name"] == "Giorgio Botta"
    assert mucrone["contacts"]["phone"] == "+390150000113"
    history = loaded.as_operator("/providers/coop-mucrone/history")
    assert [h["event"] for h in history] == ["applied", "accredited", "contacts_updated"]
    assert history[-1]["details"] == {"changed": ["phone", "contact_person"]}
    assert "Elena Boggio" not in str(history)


def test_the_suspension_and_reinstatement_are_in_the_transport_cooperatives_history(
    loaded: Loaded,
) -> None:
    history = loaded.as_operator("/providers/coop-valle-cervo/history")
    assert [h["event"] for h in history] == ["applied", "accredited", "suspended", "reinstated"]
    assert history[2]["details"]["reason_code"] == "insurance_expired"


def test_a_certification_recorded_after_accreditation_is_on_the_provider(loaded: Loaded) -> None:
    provider = loaded.get("/providers/coop-il-filo")
    assert provider["certifications"] == [
        "UNI EN ISO 9001:2015",
        "UNI/PdR 58:2019",
        "UNI/PdR 125:2022",
    ]


@pytest.mark.parametrize(
    "words",
    [
        "fisioterapia",
        "physiotherapy",
        "assistenza domiciliare",
        "home care",
        "doposcuola",
        "after-school",
        "teleassistenza",
        "tele-assistance",
        "pasti a domicilio",
        "meals",
        "centro estivo",
        "summer camp",
    ],
)
def test_anonymous_search_finds_the_offerings_in_italian_and_in_english(
    loaded: Loaded, words: str
) -> None:
    assert loaded.search(q=words)["total"] >= 1


def test_every_welfare_category_and_delivery_mode_has_something_on_offer(loaded: Loaded) -> None:
    items = loaded.search()["items"]
    assert {i["category"] for i in items} == {
        "services_no_cap",
        "education_childcare",
        "elderly_care",
        "transport",
        "fringe_purchase",
    }
    assert {i["delivery_mode"] for i in items} == {"at_provider", "at_home", "remote"}
    assert all(isinstance(i["price_cents"], int) and i["price_cents"] > 0 for i in items)


def test_the_offerings_of_a_town_are_found_by_its_istat_code(loaded: Loaded) -> None:
    valdilana = loaded.search(municipality=demo_catalog.VALDILANA)["items"]
    assert {i["provider_id"] for i in valdilana} == {"coop-valle-cervo", "telecura-biellese"}


def test_the_home_care_price_change_shows_in_its_history(loaded: Loaded) -> None:
    (hit,) = loaded.search(q="assistenza domiciliare", provider_id="coop-il-filo")["items"]
    offering = loaded.get(f"/offerings/{hit['offering_id']}")
    assert [(p["price_cents"], p["unit"]) for p in offering["price_history"]] == [
        (2_350, "hour"),
        (2_450, "hour"),
    ]
    assert offering["price_cents"] == hit["price_cents"] == 2_450


def slot_starts(loaded: Loaded, offering_id: str) -> list[datetime]:
    slots = loaded.get(f"/offerings/{offering_id}/slots")
    assert slots and all(s["available"] == s["capacity"] > 0 for s in slots)
    return [datetime.fromisoformat(s["starts_at"]) for s in slots]


def test_every_published_service_has_free_slots_in_each_of_the_coming_weeks(
    loaded: Loaded,
) -> None:
    now = datetime.now(UTC)
    items = loaded.search()["items"]
    assert len(items) == 12
    for item in items:
        if item["title_en"] == demo_catalog.SUMMER_CAMP.title_en:
            continue  # next summer's: see below
        starts = slot_starts(loaded, item["offering_id"])
        assert all(start > now for start in starts), item["title_en"]
        # Something to book in the weeks ahead: a week may lose its days to national holidays
        # (1 and 6 January take both of a Tuesday-and-Thursday class), never two.
        weeks = {(start - now) // timedelta(weeks=1) for start in starts}
        assert len(weeks & {0, 1, 2, 3}) >= 3, item["title_en"]


def test_the_summer_camp_runs_six_weeks_from_monday_to_friday_next_summer(
    loaded: Loaded,
) -> None:
    (camp,) = loaded.search(q="summer camp")["items"]
    starts = [
        s.astimezone(demo_catalog.LOCAL_TIME) for s in slot_starts(loaded, camp["offering_id"])
    ]
    assert len(starts) == 6
    assert starts[0] > datetime.now(UTC)
    assert all(s.weekday() == 0 and s.hour == 8 and s.minute == 30 for s in starts)
    assert all(later - earlier == timedelta(weeks=1) for earlier, later in pairwise(starts))
    assert starts[0].month == 6 and starts[-1].month in (7, 8)


def test_a_search_for_a_date_weeks_ahead_still_finds_the_weekly_services(loaded: Loaded) -> None:
    in_three_weeks = date.today() + timedelta(weeks=3)
    found = loaded.search(q="physiotherapy", available_from=in_three_weeks.isoformat())
    assert found["total"] == 2


def test_the_protected_discharge_package_spans_three_providers_with_its_rules(
    loaded: Loaded,
) -> None:
    (listed,) = loaded.get("/packages")
    assert listed["title_it"].startswith("Dimissioni protette")
    assert listed["provider_ids"] == ["coop-il-filo", "coop-mucrone", "telecura-biellese"]
    package = loaded.get(f"/packages/{listed['package_id']}")
    assert package["price_cents"] == 59_000 and package["own_price"]
    rules = [
        (p["provider_id"], p["order"], p["offset_days"], p["duration_days"], p["required"])
        for p in package["parts"]
    ]
    assert rules == [
        ("coop-il-filo", 1, 0, 14, True),
        ("telecura-biellese", 2, 0, 30, True),
        ("coop-mucrone", 3, 1, 29, False),
    ]


def test_the_voucher_shops_are_merchants_with_the_vouchers_demo_vat_numbers(
    loaded: Loaded,
) -> None:
    merchants = {m["merchant_id"]: m for m in loaded.get("/merchants")}
    assert set(merchants) == {"m-biella-001", "m-biella-002", "m-biella-003"}
    for shop in demo.SHOPS:
        assert merchants[shop.merchant_id]["legal_name"] == shop.name
        assert merchants[shop.merchant_id]["goods_categories"] == sorted(shop.goods_categories)
        assert loaded.get(f"/providers/{shop.merchant_id}")["vat_number"] == shop.vat_number
    pharmacies = loaded.get("/merchants", goods_category="medicines")
    assert [m["merchant_id"] for m in pharmacies] == ["m-biella-003"]


def test_the_offerings_of_a_provider_that_only_applied_are_not_found(loaded: Loaded) -> None:
    assert loaded.search(q="musicoterapia")["total"] == 0
    assert loaded.search(q="music therapy")["total"] == 0
    assert loaded.search(provider_id="coop-trama")["total"] == 0


def test_the_reinstated_cooperative_is_found_again(loaded: Loaded) -> None:
    assert loaded.get("/providers/coop-valle-cervo")["status"] == "accredited"
    found = loaded.search(provider_id="coop-valle-cervo")["items"]
    assert {i["title_en"] for i in found} == {
        "Social transport and accompaniment",
        "Laundry and ironing with home pick-up",
    }


def test_a_refused_call_stops_the_load_with_the_api_answer(loaded: Loaded) -> None:
    # A second load collides on the first provider's id: nothing half-done, a clear message.
    with pytest.raises(demo_catalog.CatalogDemoError) as refused:
        demo_catalog.load(loaded.client, loaded.issuer)
    message = str(refused.value)
    assert "POST /providers as provider:coop-il-filo -> 409" in message
    assert "already registered" in message


def test_weekly_availability_skips_the_national_holidays() -> None:
    home_care = demo_catalog.HOME_CARE.slots
    assert isinstance(home_care, demo_catalog.Weekly)
    body = demo_catalog.weekly_body(home_care, date(2026, 12, 20))
    assert (body["from_date"], body["to_date"]) == ("2026-12-21", "2027-01-17")
    assert body["except_dates"] == ["2026-12-25", "2026-12-26", "2027-01-01", "2027-01-06"]


def test_the_summer_camp_loaded_in_july_is_next_summers() -> None:
    camp = demo_catalog.SUMMER_CAMP.slots
    assert isinstance(camp, demo_catalog.Periods)
    first = demo_catalog.period_bodies(camp, date(2026, 7, 10))[0]
    # Monday 21 June 2027, 8:30 in Biella (summer time): 6:30 UTC.
    assert first["starts_at"] == "2027-06-21T06:30:00+00:00"
    assert first["ends_at"] == "2027-06-25T14:30:00+00:00"
