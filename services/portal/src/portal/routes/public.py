"""Public pages: the territory's home, the marketplace search, an offering with its free slots,
the territory's theme and logo, and the language switch. Each works without JavaScript; with
htmx the search updates its results in place."""

from __future__ import annotations

import asyncio
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import FileResponse, RedirectResponse

from portal import i18n
from portal.clients.catalog import (
    CATEGORIES,
    DELIVERY_MODES,
    CatalogUnavailable,
    OfferingNotFound,
    SearchFilters,
)
from portal.rendering import render
from portal.security import bearer_token, check_csrf, set_cookie

router = APIRouter()
ONE_YEAR = 365 * 24 * 3600
FIRST_SLOTS = 3  # free slots shown per part of a package


def safe_next(target: str | None) -> str:
    """A local path to go back to (never another site: no scheme, no '//')."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def euro_to_cents(value: str | None) -> int | None:
    if not value or not value.strip():
        return None
    try:
        amount = Decimal(value.strip().replace(",", "."))
    except InvalidOperation:
        return None
    if amount < 0 or amount > 1_000_000:
        return None
    return int(amount * 100)


@router.get("/", include_in_schema=False)
async def home(request: Request) -> Response:
    token = bearer_token(request, request.app.state.verifier)
    try:
        packages = await request.app.state.catalog.packages(token)
    except CatalogUnavailable:
        packages = []  # the home page stands without the catalog
    return render(request, "home.html", {"packages": packages})


@router.get("/theme.css", include_in_schema=False)
async def theme(request: Request) -> Response:
    return Response(
        request.app.state.theme_css,
        media_type="text/css",
        headers={"Cache-Control": "public, max-age=300"},
    )


@router.get("/logo.svg", include_in_schema=False)
async def logo(request: Request) -> Response:
    territory = request.app.state.territory
    if territory.branding.logo_is_url:
        return RedirectResponse(territory.branding.logo, status_code=302)
    base: Path = request.app.state.settings.territories_dir.resolve()
    path = (base / territory.branding.logo).resolve()
    if not path.is_relative_to(base) or not path.is_file():
        return Response(status_code=404)
    return FileResponse(path, media_type="image/svg+xml")


@router.post("/language", include_in_schema=False)
async def switch_language(
    request: Request,
    language: Annotated[str, Form()],
    csrf_token: Annotated[str | None, Form()] = None,
    next: Annotated[str | None, Form()] = None,
) -> Response:
    check_csrf(request, csrf_token)
    response = RedirectResponse(safe_next(next), status_code=303)
    if language in i18n.offered(request.app.state.territory):
        set_cookie(request, response, i18n.LANGUAGE_COOKIE, language, max_age=ONE_YEAR)
    return response


@router.get("/search", include_in_schema=False)
async def search(
    request: Request,
    q: Annotated[str, Query(max_length=200)] = "",
    municipality: str = "",
    category: str = "",
    delivery_mode: str = "",
    min_price: str = "",
    max_price: str = "",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    territory = request.app.state.territory
    filters = SearchFilters(
        q=q.strip(),
        municipality=municipality if territory.covers(municipality) else None,
        category=category if category in CATEGORIES else None,
        delivery_mode=delivery_mode if delivery_mode in DELIVERY_MODES else None,
        min_price_cents=euro_to_cents(min_price),
        max_price_cents=euro_to_cents(max_price),
        page=page,
    )
    token = bearer_token(request, request.app.state.verifier)
    unavailable = False
    try:
        result = await request.app.state.catalog.search(filters, token)
    except CatalogUnavailable:
        result = {"total": 0, "page": page, "page_size": 20, "items": []}
        unavailable = True
    page_size = int(result.get("page_size") or 20)
    query = {
        "q": filters.q,
        "municipality": filters.municipality or "",
        "category": filters.category or "",
        "delivery_mode": filters.delivery_mode or "",
        "min_price": min_price,
        "max_price": max_price,
    }
    pages = {
        "previous": urlencode({**query, "page": page - 1}) if page > 1 else None,
        "next": urlencode({**query, "page": page + 1})
        if page * page_size < int(result.get("total") or 0)
        else None,
    }
    context = {
        "pages": pages,
        "filters": filters,
        "form": {"min_price": min_price, "max_price": max_price},
        "result": result,
        "unavailable": unavailable,
        "categories": CATEGORIES,
        "delivery_modes": DELIVERY_MODES,
    }
    # htmx asks for the results alone (swapped in place, announced by aria-live); restoring a
    # page from history (htmx 2.0's HX-History-Restore-Request) needs the whole page.
    partial = (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )
    template = "_results.html" if partial else "search.html"
    status = 503 if unavailable and not partial else 200
    response = render(request, template, context, status=status)
    response.headers["Vary"] = "HX-Request, HX-History-Restore-Request, Accept-Language, Cookie"
    return response


@router.get("/offerings/{offering_id}", include_in_schema=False)
async def offering(request: Request, offering_id: str) -> Response:
    catalog = request.app.state.catalog
    token = bearer_token(request, request.app.state.verifier)
    try:
        found = await catalog.offering(offering_id, token)
        slots = await catalog.slots(offering_id, token)
    except OfferingNotFound:
        return render(request, "error.html", {"problem": "not_found"}, status=404)
    except CatalogUnavailable:
        return render(request, "error.html", {"problem": "unavailable"}, status=503)
    free = [slot for slot in slots if slot.get("available", 0) > 0]
    return render(request, "offering.html", {"offering": found, "slots": free})


@router.get("/packages/{package_id}", include_in_schema=False)
async def package(request: Request, package_id: str) -> Response:
    """A package: its parts in order, each with its offering and the first free slots."""
    catalog = request.app.state.catalog
    token = bearer_token(request, request.app.state.verifier)
    try:
        found = await catalog.package(package_id, token)
        parts = sorted(found.get("parts", []), key=lambda part: part.get("order", 0))
        offerings = await asyncio.gather(
            *(catalog.offering(part["offering_id"], token) for part in parts)
        )
        slots = await asyncio.gather(*(catalog.slots(part["offering_id"], token) for part in parts))
    except OfferingNotFound:
        return render(request, "error.html", {"problem": "not_found"}, status=404)
    except CatalogUnavailable:
        return render(request, "error.html", {"problem": "unavailable"}, status=503)
    rows = [
        {
            "part": part,
            "offering": offering,
            "free": [slot for slot in listed if slot.get("available", 0) > 0][:FIRST_SLOTS],
        }
        for part, offering, listed in zip(parts, offerings, slots, strict=True)
    ]
    return render(request, "package.html", {"package": found, "rows": rows})
