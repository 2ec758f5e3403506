"""The operator's calls: providers to accredit, suspend, reinstate (catalog service); funds and
voucher rounds (vouchers service); stuck and disputed bookings, and a dispute's decision
(booking service)."""

from __future__ import annotations

from typing import Any

from portal.clients import Services


async def providers(services: Services, token: str, status: str | None) -> Any:
    params: dict[str, str | int] = {"sort": "applied", "page_size": 100}
    if status:
        params["status"] = status
    return await services.catalog.get("/providers", token, params=params)


async def decide_provider(
    services: Services, token: str, provider_id: str, action: str, body: dict[str, Any] | None
) -> Any:
    """``accreditation``, ``suspension`` (a reason code and a reason) or ``reinstatement``."""
    return await services.catalog.post(f"/providers/{provider_id}/{action}", token, json=body)


async def funds(services: Services, token: str) -> list[Any]:
    found: list[Any] = await services.vouchers.get("/funds", token)
    return found


async def rounds(services: Services, token: str) -> list[Any]:
    found: list[Any] = await services.vouchers.get("/rounds", token)
    return found


async def open_round(services: Services, token: str, body: dict[str, Any]) -> Any:
    return await services.vouchers.post("/rounds", token, json=body)


async def bookings(services: Services, token: str, view: str) -> list[Any]:
    """``stuck`` or ``disputed`` bookings."""
    found: list[Any] = await services.booking.get(
        "/operator/bookings", token, params={"view": view, "limit": 100}
    )
    return found


async def booking(services: Services, token: str, booking_id: str) -> Any:
    """A booking as the operator sees it: its components with the family's dispute, if any."""
    return await services.booking.get(f"/bookings/{booking_id}", token)


async def resolve(
    services: Services, token: str, booking_id: str, index: int, body: dict[str, Any]
) -> Any:
    return await services.booking.post(
        f"/bookings/{booking_id}/components/{index}/resolution", token, json=body
    )
