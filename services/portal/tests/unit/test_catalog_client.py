"""The catalog client: the filters as the catalog's query, the user's token passed on, and
the catalog's answers (refused filter, missing offering, its own failure) told apart."""

from __future__ import annotations

import httpx
import pytest
from portal.clients.catalog import (
    CatalogClient,
    CatalogUnavailable,
    OfferingNotFound,
    SearchFilters,
)

OFFERING = "5f0c7a35-9d7e-4a53-8f51-3d2c8f1f2b11"


def catalog_answering(status: int, body: object, seen: list[httpx.Request]) -> CatalogClient:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(status, json=body)

    return CatalogClient("http://catalog.test", transport=httpx.MockTransport(handler))


async def test_the_filters_become_the_catalogs_query_with_the_users_token() -> None:
    seen: list[httpx.Request] = []
    client = catalog_answering(200, {"total": 0, "page": 1, "page_size": 20, "items": []}, seen)
    filters = SearchFilters(
        q="assistenza",
        municipality="096004",
        category="elderly_care",
        delivery_mode="at_home",
        min_price_cents=0,
        max_price_cents=2500,
    )
    await client.search(filters, token="tok")
    await client.close()
    (request,) = seen
    assert request.url.path == "/search"
    assert dict(request.url.params) == {
        "q": "assistenza",
        "page": "1",
        "page_size": "20",
        "municipality": "096004",
        "category": "elderly_care",
        "delivery_mode": "at_home",
        "min_price_cents": "0",
        "max_price_cents": "2500",
    }
    assert request.headers["authorization"] == "Bearer tok"


async def test_a_visitor_calls_without_a_token_and_a_refused_filter_finds_nothing() -> None:
    seen: list[httpx.Request] = []
    client = catalog_answering(422, {"title": "invalid"}, seen)
    result = await client.search(SearchFilters(q="x"))
    await client.close()
    assert result["items"] == [] and "authorization" not in seen[0].headers


async def test_a_missing_offering_and_a_failing_catalog_are_told_apart() -> None:
    missing = catalog_answering(404, {"title": "not found"}, [])
    with pytest.raises(OfferingNotFound):
        await missing.offering(OFFERING)
    assert await missing.slots(OFFERING) == []
    await missing.close()
    failing = catalog_answering(500, {"title": "boom"}, [])
    with pytest.raises(CatalogUnavailable):
        await failing.offering(OFFERING)
    with pytest.raises(CatalogUnavailable):
        await failing.search(SearchFilters())
    await failing.close()
