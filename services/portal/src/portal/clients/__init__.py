"""The services' HTTP APIs as the portal calls them: one ``ServiceClient`` per service, shared by
all requests; each area of the portal keeps its calls in its own module here."""

from __future__ import annotations

from dataclasses import dataclass, fields

import httpx
from fastapi import Request

from portal.clients.base import ServiceClient
from portal.settings import PortalSettings


@dataclass
class Services:
    catalog: ServiceClient
    wallet: ServiceClient
    booking: ServiceClient
    vouchers: ServiceClient
    notifications: ServiceClient

    @classmethod
    def from_settings(
        cls, settings: PortalSettings, transport: httpx.AsyncBaseTransport | None = None
    ) -> Services:
        timeout = settings.http_timeout_seconds
        return cls(
            **{
                field.name: ServiceClient(
                    field.name, getattr(settings, f"{field.name}_url"), timeout, transport
                )
                for field in fields(cls)
            }
        )

    async def close(self) -> None:
        for field in fields(self):
            await getattr(self, field.name).close()


def services_of(request: Request) -> Services:
    """The portal's clients of the services (built once, at start)."""
    services: Services = request.app.state.services
    return services
