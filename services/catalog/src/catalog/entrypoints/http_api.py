"""HTTP routes of the catalog service, one module per area: they only translate HTTP into the
application's commands and queries (who may call what: :mod:`catalog.entrypoints.access`;
what they answer: :mod:`catalog.entrypoints.responses`)."""

from __future__ import annotations

from fastapi import APIRouter

from catalog.entrypoints import offerings, packages, providers, search, slots


def routers() -> list[APIRouter]:
    """Every router of the service, in the order OpenAPI lists them."""
    return [providers.router, offerings.router, slots.router, packages.router, search.router]
