"""The catalog's public HTTP API as the portal reads it: the marketplace search, an offering
and its slots. The user's token goes along when there is one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from portal.clients.base import ServiceClient, ServiceUnavailable

CATEGORIES = (
    "services_no_cap",
    "education_childcare",
    "elderly_care",
    "transport",
    "fringe_purchase",
)
DELIVERY_MODES = ("at_provider", "at_home", "remote")


class CatalogUnavailable(Exception):
    """The catalog did not answer (down, or an error of its own)."""


class OfferingNotFound(Exception):
    """No such offering (or package), or it was withdrawn."""


@dataclass(frozen=True)
class SearchFilters:
    q: str = ""
    municipality: str | None = None
    category: str | None = None
    delivery_mode: str | None = None
    min_price_cents: int | None = None
    max_price_cents: int | None = None
    page: int = 1

    def params(self) -> dict[str, str | int]:
        params: dict[str, str | int] = {"q": self.q, "page": self.page, "page_size": 20}
        for name in ("municipality", "category", "delivery_mode"):
            value = getattr(self, name)
            if value:
                params[name] = value
        if self.min_price_cents is not None:
            params["min_price_cents"] = self.min_price_cents
        if self.max_price_cents is not None:
            params["max_price_cents"] = self.max_price_cents
        return params


class CatalogClient:
    def __init__(
        self,
        base_url: str,
        timeout: float = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._service = ServiceClient("catalog", base_url, timeout, transport)

    async def close(self) -> None:
        await self._service.close()

    async def _get(self, path: str, token: str | None, params: Any = None) -> httpx.Response:
        try:
            return await self._service.request("GET", path, token, params=params)
        except ServiceUnavailable as error:
            raise CatalogUnavailable(str(error)) from None

    async def search(self, filters: SearchFilters, token: str | None = None) -> dict[str, Any]:
        response = await self._get("/search", token, filters.params())
        if response.status_code != 200:
            # A filter the catalog refuses (422): no results rather than an error page.
            return {"total": 0, "page": filters.page, "page_size": 20, "items": []}
        result: dict[str, Any] = response.json()
        return result

    async def offering(self, offering_id: str, token: str | None = None) -> dict[str, Any]:
        response = await self._get(f"/offerings/{offering_id}", token)
        if response.status_code in (404, 410, 422):
            raise OfferingNotFound(offering_id)
        if response.status_code != 200:
            raise CatalogUnavailable(f"catalog answered {response.status_code}")
        result: dict[str, Any] = response.json()
        return result

    async def slots(self, offering_id: str, token: str | None = None) -> list[dict[str, Any]]:
        response = await self._get(f"/offerings/{offering_id}/slots", token)
        if response.status_code in (404, 410, 422):
            return []
        if response.status_code != 200:
            raise CatalogUnavailable(f"catalog answered {response.status_code}")
        result: list[dict[str, Any]] = response.json()
        return result

    async def packages(self, token: str | None = None) -> list[dict[str, Any]]:
        """The packages on offer (several providers' offerings sold together)."""
        response = await self._get("/packages", token)
        if response.status_code != 200:
            raise CatalogUnavailable(f"catalog answered {response.status_code}")
        result: list[dict[str, Any]] = response.json()
        return result

    async def package(self, package_id: str, token: str | None = None) -> dict[str, Any]:
        response = await self._get(f"/packages/{package_id}", token)
        if response.status_code in (404, 410, 422):
            raise OfferingNotFound(package_id)
        if response.status_code != 200:
            raise CatalogUnavailable(f"catalog answered {response.status_code}")
        result: dict[str, Any] = response.json()
        return result
