"""The providers' list (the operator's review queue, the public list) and the shops of the
voucher programme, by name ignoring case and accents (a folded copy of the name, ``name_key``).

The providers table holds the organisation's contacts, never the contact person (personal data,
sealed in the vault and read from the aggregate only).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from servicekit.projection import ReadModelStore
from sqlalchemy import Row, and_, exists, func, or_, select, true
from sqlalchemy.sql.elements import ColumnElement

from catalog.adapters.read_model.search_text import search_terms
from catalog.adapters.read_model.tables import provider_municipalities, providers

ProviderSort = Literal["name", "applied", "recent"]
MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class ProviderQuery:
    """Filters of the providers' list. ``provider_id`` restricts it to one provider (a provider
    sees only itself); ``text`` matches the legal name or the id."""

    status: str | None = None
    kind: str | None = None
    municipality: str | None = None
    provider_id: str | None = None
    text: str = ""
    sort: ProviderSort = "name"
    page: int = 1
    page_size: int = 20


@dataclass(frozen=True)
class ProviderRow:
    provider_id: str
    legal_name: str
    kind: str
    status: str
    status_since: datetime
    applied_at: datetime
    vat_number: str | None
    municipalities: list[str]
    certifications: list[str]
    goods_categories: list[str]
    email: str | None
    phone: str | None
    website: str | None
    address: dict[str, str] | None


@dataclass(frozen=True)
class ProviderPage:
    total: int
    page: int
    page_size: int
    items: list[ProviderRow] = field(default_factory=list)


def providers_page(rm: ReadModelStore, query: ProviderQuery) -> ProviderPage:
    """One page of the providers the query selects, and how many it selects in all."""
    p = providers
    where = and_(true(), *_filters(query))
    order = {
        "name": [p.c.name_key.asc(), p.c.provider_id.asc()],
        "applied": [p.c.applied_at.asc(), p.c.provider_id.asc()],  # the review queue
        "recent": [p.c.status_since.desc(), p.c.provider_id.asc()],
    }[query.sort]
    page_size = max(1, min(query.page_size, MAX_PAGE_SIZE))
    page = max(1, query.page)
    with rm.engine.connect() as connection:
        total = connection.execute(select(func.count()).select_from(p).where(where)).scalar_one()
        rows = connection.execute(
            select(p).where(where).order_by(*order).limit(page_size).offset((page - 1) * page_size)
        ).all()
    items = [_provider_row(r) for r in rows]
    return ProviderPage(total=int(total), page=page, page_size=page_size, items=items)


def _filters(query: ProviderQuery) -> list[ColumnElement[bool]]:
    p = providers
    conditions: list[ColumnElement[bool]] = []
    if query.status:
        conditions.append(p.c.status == query.status)
    if query.kind:
        conditions.append(p.c.kind == query.kind)
    if query.provider_id:
        conditions.append(p.c.provider_id == query.provider_id)
    if query.municipality:
        m = provider_municipalities
        conditions.append(
            exists().where(m.c.provider_id == p.c.provider_id, m.c.istat == query.municipality)
        )
    for term in search_terms(query.text):
        pattern = f"%{term}%"
        conditions.append(
            or_(func.lower(p.c.legal_name).like(pattern), p.c.provider_id.like(pattern))
        )
    return conditions


def _provider_row(r: Row[Any]) -> ProviderRow:
    address = (
        {"street": r.street, "municipality_istat": r.address_istat, "postcode": r.postcode}
        if r.street
        else None
    )
    return ProviderRow(
        provider_id=r.provider_id,
        legal_name=r.legal_name,
        kind=r.kind,
        status=r.status,
        status_since=r.status_since,
        applied_at=r.applied_at,
        vat_number=r.vat_number,
        municipalities=r.municipalities.split(),
        certifications=[c for c in r.certifications.split("\n") if c],
        goods_categories=r.goods_categories.split(),
        email=r.email,
        phone=r.phone,
        website=r.website,
        address=address,
    )


def merchants(rm: ReadModelStore, goods_category: str | None = None) -> list[dict[str, Any]]:
    """The accredited shops of the voucher programme (those selling ``goods_category``)."""
    p = providers
    condition = and_(p.c.merchant.is_(True), p.c.status == "accredited")
    with rm.engine.connect() as connection:
        rows = connection.execute(
            select(p).where(condition).order_by(p.c.name_key, p.c.provider_id)
        ).all()
    return [
        {
            "merchant_id": r.provider_id,
            "legal_name": r.legal_name,
            "goods_categories": r.goods_categories.split(),
            "municipalities": r.municipalities.split(),
        }
        for r in rows
        if goods_category is None or goods_category in r.goods_categories.split()
    ]
