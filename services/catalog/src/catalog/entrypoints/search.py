"""The public search of the marketplace, and the shops of the voucher programme."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Query

from catalog.adapters.read_model import SearchQuery
from catalog.application.app import CatalogApplication
from catalog.entrypoints.access import QueryDate, catalog_app
from catalog.entrypoints.responses import SearchResult

router = APIRouter(tags=["search"])


@router.get("/merchants", tags=["merchants"], summary="Shops affiliated to the voucher programme")
def merchants(
    goods_category: str | None = None, app: CatalogApplication = Depends(catalog_app)
) -> list[dict[str, Any]]:
    return app.merchants(goods_category)


@router.get("/search", summary="Search the marketplace (public)")
def search_offerings(
    q: str = Query("", max_length=200, description="Free text, Italian or English"),
    territory: str | None = Query(None, description="Default: this instance's territory"),
    municipality: str | None = Query(None, pattern=r"^\d{6}$"),
    category: str | None = None,
    delivery_mode: Literal["at_provider", "at_home", "remote"] | None = None,
    min_price_cents: int | None = Query(None, ge=0),
    max_price_cents: int | None = Query(None, ge=0),
    available_from: QueryDate | None = None,
    provider_id: str | None = None,
    sort: Literal["relevance", "price_asc", "price_desc", "newest", "title"] | None = None,
    page: int = Query(1, ge=1, le=10_000),
    page_size: int = Query(20, ge=1, le=100),
    app: CatalogApplication = Depends(catalog_app),
) -> SearchResult:
    if territory is not None and territory != app.territory.id:
        return SearchResult(total=0, page=page, page_size=page_size, items=[])
    found = app.search(
        SearchQuery(
            text=q,
            municipality=municipality,
            category=category,
            delivery_mode=delivery_mode,
            min_price_cents=min_price_cents,
            max_price_cents=max_price_cents,
            available_from=available_from,
            provider_id=provider_id,
            sort=sort,
            page=page,
            page_size=page_size,
        )
    )
    return SearchResult(
        total=found.total,
        page=found.page,
        page_size=found.page_size,
        items=[vars(hit) for hit in found.items],
    )
