"""The provider's calls: its booking queues and answers (booking service), its statement, its
offerings and their slots (catalog service). Every call carries the provider's own token: the
services check that the subject is the provider the path names."""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from typing import Any

from portal.clients import Services

QUEUE_PAGE = 100  # the booking service's largest page


async def queue(services: Services, token: str, provider_id: str, which: str) -> list[Any]:
    """``pending`` (to accept or decline) or ``to_deliver`` (confirmed, not delivered yet)."""
    rows: list[Any] = await services.booking.get(
        f"/providers/{provider_id}/bookings",
        token,
        params={"queue": which, "limit": QUEUE_PAGE},
    )
    return rows


async def bookings(services: Services, token: str, booking_ids: list[str]) -> dict[str, Any]:
    """Each booking as the provider may see it (its own components, their deadlines)."""
    views = await asyncio.gather(
        *(services.booking.get(f"/bookings/{booking_id}", token) for booking_id in booking_ids)
    )
    return dict(zip(booking_ids, views, strict=True))


async def answer(
    services: Services, token: str, booking_id: str, index: int, what: str, note: str | None
) -> Any:
    """``accept``, ``decline`` (with a note: the reason) or ``delivered`` a component."""
    body: dict[str, Any] = {} if what == "accept" else ({"note": note} if note else {})
    return await services.booking.post(
        f"/bookings/{booking_id}/components/{index}/{what}", token, json=body
    )


async def statement(
    services: Services, token: str, provider_id: str, first: date | None, last: date | None
) -> Any:
    params: dict[str, str | int] = {"limit": QUEUE_PAGE}
    if first is not None:
        params["from"] = first.isoformat()
    if last is not None:
        params["to"] = last.isoformat()
    return await services.booking.get(f"/providers/{provider_id}/statement", token, params=params)


async def offerings(services: Services, token: str, provider_id: str) -> list[Any]:
    """The provider's published offerings (the catalog's search, by provider)."""
    found = await services.catalog.get(
        "/search", token, params={"provider_id": provider_id, "page_size": 100, "sort": "title"}
    )
    items: list[Any] = found.get("items", [])
    return items


async def slots(services: Services, token: str, offering_ids: list[str]) -> dict[str, list[Any]]:
    listed = await asyncio.gather(
        *(services.catalog.get(f"/offerings/{oid}/slots", token) for oid in offering_ids)
    )
    return dict(zip(offering_ids, listed, strict=True))


async def offering(services: Services, token: str, offering_id: str) -> Any:
    return await services.catalog.get(f"/offerings/{offering_id}", token)


async def open_slot(
    services: Services,
    token: str,
    offering_id: str,
    starts_at: datetime,
    ends_at: datetime,
    capacity: int,
) -> Any:
    body = {
        "starts_at": starts_at.isoformat(),
        "ends_at": ends_at.isoformat(),
        "capacity": capacity,
    }
    return await services.catalog.post(f"/offerings/{offering_id}/slots", token, json=body)


async def withdraw(services: Services, token: str, offering_id: str, reason: str) -> Any:
    return await services.catalog.post(
        f"/offerings/{offering_id}/withdrawal", token, json={"reason": reason}
    )


async def co_payment_paid(services: Services, token: str, booking_id: str, index: int) -> Any:
    return await services.booking.post(
        f"/bookings/{booking_id}/components/{index}/co-payment-paid", token
    )
