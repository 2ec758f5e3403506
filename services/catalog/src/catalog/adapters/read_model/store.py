"""The catalog's read model: its tables and position in one database (the kit's
:class:`~servicekit.projection.ReadModelStore` with :class:`CatalogProjection`), and the
queries it answers.

Where it lives: a SQLite file beside the SQLite event store, or, with the PostgreSQL store, the
same database and schema as the events (``CatalogSettings.read_model_database_url``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from servicekit.projection import ReadModelStore

from catalog.adapters.read_model.packages_query import packages_on_offer
from catalog.adapters.read_model.projection import CatalogProjection
from catalog.adapters.read_model.providers_query import (
    ProviderPage,
    ProviderQuery,
    merchants,
    providers_page,
)
from catalog.adapters.read_model.search_query import SearchPage, SearchQuery, search
from catalog.adapters.read_model.slots_query import slots_for


class ReadModel(ReadModelStore):
    """The catalog's tables with their position, and the queries on them. Callers catch it up
    first (``CatalogApplication.catch_up``, which the views do)."""

    def __init__(self, url: str, schema: str | None = None) -> None:
        """``url``: a SQLAlchemy URL; ``schema``: the PostgreSQL schema of the tables (it must
        exist; default: the connection's search path)."""
        super().__init__(CatalogProjection(), url, schema)

    def search(self, query: SearchQuery, now: datetime | None = None) -> SearchPage:
        return search(self, query, now)

    def providers(self, query: ProviderQuery) -> ProviderPage:
        return providers_page(self, query)

    def merchants(self, goods_category: str | None = None) -> list[dict[str, Any]]:
        return merchants(self, goods_category)

    def packages(self) -> list[dict[str, Any]]:
        return packages_on_offer(self)

    def slots_for(self, offering_id: str, day: date, now: datetime) -> list[dict[str, Any]]:
        return slots_for(self, offering_id, day, now)
