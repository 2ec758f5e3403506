"""The marketplace search: visible offerings (published, their provider accredited) filtered,
matched by free text (:mod:`catalog.adapters.read_model.full_text`), sorted and paged.

Sorting by title ignores case and accents (a folded copy of the title, ``title_key``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Literal

from servicekit.projection import ReadModelStore
from sqlalchemy import Row, and_, exists, func, select
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from catalog.adapters.read_model.full_text import text_match
from catalog.adapters.read_model.search_text import search_terms
from catalog.adapters.read_model.slots_query import has_free_slot
from catalog.adapters.read_model.tables import offering_municipalities, offerings

Sort = Literal["relevance", "price_asc", "price_desc", "newest", "title"]
MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class SearchQuery:
    text: str = ""
    municipality: str | None = None
    category: str | None = None
    delivery_mode: str | None = None
    min_price_cents: int | None = None
    max_price_cents: int | None = None
    available_from: date | None = None
    provider_id: str | None = None
    sort: Sort | None = None
    page: int = 1
    page_size: int = 20


@dataclass(frozen=True)
class OfferingHit:
    offering_id: str
    provider_id: str
    title_it: str
    title_en: str
    description_it: str
    description_en: str
    category: str
    delivery_mode: str
    price_cents: int
    unit: str
    municipalities: list[str]


@dataclass(frozen=True)
class SearchPage:
    total: int
    page: int
    page_size: int
    items: list[OfferingHit] = field(default_factory=list)


def search(rm: ReadModelStore, query: SearchQuery, now: datetime | None = None) -> SearchPage:
    """One page of the visible offerings the query finds, and how many it finds in all."""
    terms = search_terms(query.text)
    match = text_match(rm, terms)
    where = and_(*_filters(query, now or datetime.now(UTC)), *match.conditions)
    sort = query.sort or ("relevance" if terms else "newest")
    page_size = max(1, min(query.page_size, MAX_PAGE_SIZE))
    page = max(1, query.page)
    with rm.engine.connect() as connection:
        total = connection.execute(
            select(func.count()).select_from(match.counted).where(where)
        ).scalar_one()
        rows = connection.execute(
            select(offerings)
            .select_from(match.source)
            .where(where)
            .order_by(*_order(sort, match.rank))
            .limit(page_size)
            .offset((page - 1) * page_size)
        ).all()
        served = _municipalities(connection, [r.offering_id for r in rows])
    items = [_hit(r, served.get(r.offering_id, [])) for r in rows]
    return SearchPage(total=int(total), page=page, page_size=page_size, items=items)


def _filters(query: SearchQuery, now: datetime) -> list[ColumnElement[bool]]:
    o = offerings
    conditions: list[ColumnElement[bool]] = [o.c.visible.is_(True)]
    if query.category:
        conditions.append(o.c.category == query.category)
    if query.delivery_mode:
        conditions.append(o.c.delivery_mode == query.delivery_mode)
    if query.min_price_cents is not None:
        conditions.append(o.c.price_cents >= query.min_price_cents)
    if query.max_price_cents is not None:
        conditions.append(o.c.price_cents <= query.max_price_cents)
    if query.provider_id:
        conditions.append(o.c.provider_id == query.provider_id)
    if query.municipality:
        m = offering_municipalities
        conditions.append(
            exists().where(m.c.offering_id == o.c.offering_id, m.c.istat == query.municipality)
        )
    if query.available_from is not None:
        conditions.append(has_free_slot(query.available_from, now))
    return conditions


def _order(sort: Sort, rank: ColumnElement[Any] | None) -> list[Any]:
    o = offerings
    if sort == "price_asc":
        return [o.c.price_cents.asc(), o.c.row_id.asc()]
    if sort == "price_desc":
        return [o.c.price_cents.desc(), o.c.row_id.asc()]
    if sort == "title":
        return [o.c.title_key.asc(), o.c.row_id.asc()]
    if sort == "relevance" and rank is not None:
        return [rank.asc(), o.c.row_id.asc()]
    # newest, and relevance without a rank (the LIKE fallback)
    return [o.c.published_at.desc(), o.c.row_id.desc()]


def _municipalities(connection: Connection, offering_ids: list[str]) -> dict[str, list[str]]:
    if not offering_ids:
        return {}
    m = offering_municipalities
    found: dict[str, list[str]] = {}
    for offering_id, istat in connection.execute(
        select(m.c.offering_id, m.c.istat)
        .where(m.c.offering_id.in_(offering_ids))
        .order_by(m.c.offering_id, m.c.istat)
    ):
        found.setdefault(offering_id, []).append(istat)
    return found


def _hit(r: Row[Any], municipalities: list[str]) -> OfferingHit:
    return OfferingHit(
        offering_id=r.offering_id,
        provider_id=r.provider_id,
        title_it=r.title_it,
        title_en=r.title_en,
        description_it=r.description_it,
        description_en=r.description_en,
        category=r.category,
        delivery_mode=r.delivery_mode,
        price_cents=r.price_cents,
        unit=r.unit,
        municipalities=municipalities,
    )
