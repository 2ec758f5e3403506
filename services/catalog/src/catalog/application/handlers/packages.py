"""Packages: the operator bundles published offerings of several providers for one need."""

from __future__ import annotations

from uuid import UUID

from catalog.application import commands as cmd
from catalog.application.store import CatalogStore
from catalog.domain.errors import InvalidPackage
from catalog.domain.package import Package, PackagePart


def compose_package(store: CatalogStore, command: cmd.ComposePackage, by: str) -> UUID:
    parts = [_part(store, part) for part in command.parts]
    package = Package.compose(
        command.titles(), command.descriptions(), command.price_cents, parts, by
    )
    store.save(package)
    return package.id


def _part(store: CatalogStore, part: cmd.PackagePartInput) -> PackagePart:
    try:
        offering_id = UUID(part.offering_id)
    except ValueError:
        raise InvalidPackage(f"{part.offering_id!r} is not an offering id") from None
    offering = store.get_offering(offering_id)
    provider = store.get_provider(offering.provider_id)
    return PackagePart.of(
        offering, provider, part.order, part.offset_days, part.duration_days, part.required
    )
