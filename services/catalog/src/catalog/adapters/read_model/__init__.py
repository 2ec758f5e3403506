"""The catalog's read model: its own events projected into SQL tables (SQLAlchemy), for the
search and every list query, kept by the kit (:mod:`servicekit.projection`).

- ``tables``: the tables and the schema version;
- ``projection``: how each event changes them;
- ``search_text`` and ``full_text``: the tokens both databases index, and how each searches them;
- ``search_query``, ``providers_query`` (and merchants), ``slots_query``, ``packages_query``: the
  queries;
- ``store``: :class:`ReadModel`, the tables with their position and the queries on them.
"""

from catalog.adapters.read_model.providers_query import ProviderPage, ProviderQuery, ProviderRow
from catalog.adapters.read_model.search_query import OfferingHit, SearchPage, SearchQuery
from catalog.adapters.read_model.store import ReadModel
from catalog.adapters.read_model.tables import PROJECTION, SCHEMA_ROW, SCHEMA_VERSION

__all__ = [
    "PROJECTION",
    "SCHEMA_ROW",
    "SCHEMA_VERSION",
    "OfferingHit",
    "ProviderPage",
    "ProviderQuery",
    "ProviderRow",
    "ReadModel",
    "SearchPage",
    "SearchQuery",
]
