"""The packages on offer (composed, not withdrawn), by Italian title."""

from __future__ import annotations

from typing import Any

from servicekit.projection import ReadModelStore
from sqlalchemy import select

from catalog.adapters.read_model.tables import packages


def packages_on_offer(rm: ReadModelStore) -> list[dict[str, Any]]:
    with rm.engine.connect() as connection:
        rows = connection.execute(
            select(packages).where(packages.c.status == "composed").order_by(packages.c.title_it)
        ).all()
    return [
        {
            "package_id": r.package_id,
            "title_it": r.title_it,
            "title_en": r.title_en,
            "price_cents": r.price_cents,
            "provider_ids": r.provider_ids.split(),
            "offering_ids": r.offering_ids.split(),
        }
        for r in rows
    ]
