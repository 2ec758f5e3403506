"""A booking takes its offerings' facts from the catalog's events: the client sends the ids,
the booking keeps the price in force when it was made, and a price the client saw that is no
longer the catalog's is refused. Facts in the request are not trusted in production."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from benecomune_contracts import booking as contract
from benecomune_contracts import catalog
from booking.application.app import BookingApplication
from booking.service import DEFINITION
from booking.settings import BookingSettings
from fastapi.testclient import TestClient
from servicekit.auth import DevIssuer
from servicekit.http import create_http_app
from servicekit.service import ServiceRuntime

from ..answers import at
from .test_http_api import Api

STARTS = datetime.now(UTC).replace(microsecond=0) + timedelta(days=6)


@pytest.fixture
def strict(tmp_path: Path) -> Iterator[Api]:
    """The service as in production: no facts from the request."""
    settings = BookingSettings(data_dir=tmp_path / "data", keys_dir=tmp_path / "keys")
    runtime = ServiceRuntime(DEFINITION, settings)
    with TestClient(create_http_app(runtime, with_workers=False)) as client:
        application = runtime.application
        assert isinstance(application, BookingApplication)
        yield Api(client, DevIssuer(settings.territory, settings.keys_dir), application)


def publish(api: Api, n: int, provider: str, price: int, **terms: Any) -> None:
    api.feed(catalog.OfferingPublished(
        offering_id=f"o-{n}", provider_id=provider, title_it="Servizio", category="elderly_care",
        delivery_mode="at_home", price_cents=price, unit="hour", municipalities=["096004"],
        published_at=at(),
        terms=catalog.OfferingTerms(**{
            "instant": False, "acceptance_hours": 12, "free_until_hours": 24, "fee_percent": 30,
            "no_show_fee_percent": 80, **terms,
        }),
    ))  # fmt: skip
    api.feed(catalog.SlotOpened(
        slot_id=f"s-{n}", offering_id=f"o-{n}", provider_id=provider, starts_at=STARTS,
        ends_at=STARTS + timedelta(hours=1), capacity=3, opened_at=at(),
    ))  # fmt: skip


def book(api: Api, *components: dict[str, Any], request_id: str = "r-1") -> Any:
    payload = {
        "request_id": request_id,
        "components": list(components),
        "funding": {"wallet": {"wallet_id": "w-1", "available_cents": 100_000}},
    }
    return api.call("POST", "/bookings", "beneficiary", "b-1", json=payload)


def test_a_booking_names_ids_and_gets_the_catalogs_facts(strict: Api) -> None:
    publish(strict, 1, "p-1", 4_500)
    publish(strict, 2, "p-2", 3_000, instant=True, acceptance_hours=0)
    r = book(
        strict, {"offering_id": "o-1", "slot_id": "s-1"}, {"offering_id": "o-2", "slot_id": "s-2"}
    )
    assert r.status_code == 202, r.text
    view = strict.call("GET", r.headers["Location"], "beneficiary", "b-1").json()
    assert view["total_cents"] == 7_500
    first, second = view["components"]
    assert (first["provider_id"], first["price_cents"], first["instant"]) == ("p-1", 4_500, False)
    assert first["cancellation"] == {
        "free_until_hours": 24, "fee_percent": 30, "no_show_fee_percent": 80
    }  # fmt: skip
    assert datetime.fromisoformat(first["starts_at"]) == STARTS
    assert (second["provider_id"], second["instant"]) == ("p-2", True)


def test_the_price_the_client_saw_must_still_be_the_catalogs(strict: Api) -> None:
    publish(strict, 1, "p-1", 4_500)
    strict.feed(catalog.OfferingPriceChanged(
        offering_id="o-1", provider_id="p-1", previous_price_cents=4_500, price_cents=5_000,
        unit="hour", effective_from=at() - timedelta(minutes=1), changed_at=at(),
    ))  # fmt: skip
    r = book(strict, {"offering_id": "o-1", "slot_id": "s-1", "price_cents": 4_500})
    assert r.status_code == 409 and r.json()["code"] == "price_changed"
    assert r.json()["price_cents"] == 5_000
    r = book(strict, {"offering_id": "o-1", "slot_id": "s-1", "price_cents": 5_000})
    assert r.status_code == 202, r.text
    # a change from next month leaves the booking's price as it was
    strict.feed(catalog.OfferingPriceChanged(
        offering_id="o-1", provider_id="p-1", previous_price_cents=5_000, price_cents=9_000,
        unit="hour", effective_from=at() + timedelta(days=30), changed_at=at(),
    ))  # fmt: skip
    view = strict.call("GET", r.headers["Location"], "beneficiary", "b-1").json()
    assert view["total_cents"] == 5_000
    again = book(strict, {"offering_id": "o-1", "slot_id": "s-1"}, request_id="r-2")
    assert (
        strict.call("GET", again.headers["Location"], "beneficiary", "b-1").json()["total_cents"]
        == 5_000
    )


def test_unknown_or_withdrawn_offerings_and_made_up_facts_are_refused(strict: Api) -> None:
    made_up = {
        "offering_id": "o-7", "slot_id": "s-7", "provider_id": "p-7", "price_cents": 1,
        "category": "elderly_care", "starts_at": STARTS.isoformat(),
        "ends_at": (STARTS + timedelta(hours=1)).isoformat(),
    }  # fmt: skip
    r = book(strict, made_up)
    assert r.status_code == 422 and r.json()["code"] == "offering_unknown"
    publish(strict, 1, "p-1", 4_500)
    publish(strict, 2, "p-2", 4_500)
    r = book(strict, {"offering_id": "o-1", "slot_id": "s-2"})
    assert r.status_code == 422 and r.json()["code"] == "offering_mismatch"
    strict.feed(catalog.OfferingWithdrawn(offering_id="o-1", provider_id="p-1", withdrawn_at=at()))
    r = book(strict, {"offering_id": "o-1", "slot_id": "s-1"})
    assert r.status_code == 410 and r.json()["code"] == "offering_withdrawn"


def test_a_move_goes_to_a_slot_of_the_same_offering_at_the_catalogs_times(strict: Api) -> None:
    publish(strict, 1, "p-1", 4_500, instant=True, acceptance_hours=0)
    publish(strict, 2, "p-2", 4_500)
    later = STARTS + timedelta(days=1)
    strict.feed(catalog.SlotOpened(
        slot_id="s-1b", offering_id="o-1", provider_id="p-1", starts_at=later,
        ends_at=later + timedelta(hours=1), capacity=1, opened_at=at(),
    ))  # fmt: skip
    r = book(strict, {"offering_id": "o-1", "slot_id": "s-1"})
    assert r.status_code == 202, r.text
    strict.hold_everything()
    path = r.headers["Location"]
    assert strict.call("GET", path, "beneficiary", "b-1").json()["status"] == "confirmed"
    wrong = {"request_id": "m-0", "component": 1, "slot_id": "s-2"}
    moved = strict.call("POST", f"{path}/reschedule", "beneficiary", "b-1", json=wrong)
    assert moved.status_code == 422 and moved.json()["code"] == "offering_mismatch"
    move = {"request_id": "m-1", "component": 1, "slot_id": "s-1b"}
    moved = strict.call("POST", f"{path}/reschedule", "beneficiary", "b-1", json=move)
    assert moved.status_code == 202, moved.text
    [asked] = [a for a in strict.published(contract.SlotHoldRequested) if a.slot_id == "s-1b"]
    assert asked.offering_id == "o-1"
    view = strict.call("GET", path, "beneficiary", "b-1").json()
    assert view["components"][0]["moving_to_slot"] == "s-1b"
