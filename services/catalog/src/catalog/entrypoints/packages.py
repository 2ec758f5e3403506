"""Packages: the operator composes them; anyone lists them and reads one with its price."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Depends, status
from servicekit.auth import Principal, require_roles

from catalog.application import commands as cmd
from catalog.application.app import CatalogApplication
from catalog.entrypoints.access import catalog_app
from catalog.entrypoints.responses import Created

router = APIRouter(prefix="/packages", tags=["packages"])


@router.post("", status_code=status.HTTP_201_CREATED, summary="Compose a multi-provider package")
def compose(
    command: cmd.ComposePackage,
    app: CatalogApplication = Depends(catalog_app),
    principal: Principal = Depends(require_roles("operator")),
) -> Created:
    return Created(id=str(app.compose_package(command, principal.subject)))


@router.get("", summary="Packages on offer (public)")
def list_packages(app: CatalogApplication = Depends(catalog_app)) -> list[dict[str, Any]]:
    return app.packages()


@router.get("/{package_id}", summary="A package with its parts and price (public)")
def get_package(package_id: UUID, app: CatalogApplication = Depends(catalog_app)) -> dict[str, Any]:
    package = app.get_package(package_id)
    return {
        "package_id": str(package.id),
        "title": package.title,
        "description": package.description,
        "status": package.status,
        "price_cents": app.package_price_cents(package),
        "own_price": package.price_cents is not None,
        "parts": [p.as_dict() for p in package.parts],
    }
