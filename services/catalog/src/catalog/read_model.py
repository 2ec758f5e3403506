"""The search read model: the catalog's own events projected into SQL tables (SQLAlchemy).

The event store stays the truth; these tables are a disposable view of it, rebuilt from the
notification log at any time (delete the file and it comes back). The projector reads the log
from the position it recorded, applies each event, and records the new position **in the same
transaction** as the rows it changed, with a conditional update: two processes projecting at
once cannot both apply the same events (the second one's transaction is rolled back).

Free text is bilingual (Italian and English titles and descriptions). On SQLite it uses an FTS5
index (``unicode61`` tokenizer without diacritics, so "attivita" finds "attività"; prefix
matching, so "fisio" finds "fisioterapia"; ranked by BM25 with titles weighing five times the
descriptions). Other databases fall back to ``LIKE`` matching.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from functools import singledispatchmethod
from typing import Any, Literal
from uuid import UUID

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Dialect,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    and_,
    column,
    create_engine,
    event,
    exists,
    func,
    insert,
    literal_column,
    or_,
    select,
    table,
    text,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from catalog.domain.offering import Offering
from catalog.domain.package import Package
from catalog.domain.provider import Provider
from catalog.domain.slot import Slot

PROJECTION = "catalog-search"
BATCH = 500


class UtcDateTime(TypeDecorator[datetime]):
    """Aware datetimes stored as naive UTC (SQLite keeps no zone), read back as aware UTC."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the read model")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


metadata = MetaData()

providers = Table(
    "providers",
    metadata,
    Column("provider_id", String(64), primary_key=True),
    Column("aggregate_id", String(36), nullable=False, unique=True),
    Column("legal_name", String(200), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("status", String(20), nullable=False),
    Column("municipalities", Text, nullable=False),  # space-separated ISTAT codes
    Column("goods_categories", Text, nullable=False, default=""),
    Column("merchant", Boolean, nullable=False, default=False),
)

offerings = Table(
    "offerings",
    metadata,
    Column("row_id", Integer, primary_key=True, autoincrement=True),
    Column("offering_id", String(36), nullable=False, unique=True),
    Column("provider_id", String(64), nullable=False, index=True),
    Column("status", String(20), nullable=False),
    # published AND its provider accredited: the only offerings anyone finds
    Column("visible", Boolean, nullable=False),
    Column("category", String(40), nullable=False),
    Column("delivery_mode", String(20), nullable=False),
    Column("price_cents", Integer, nullable=False),
    Column("unit", String(10), nullable=False),
    Column("title_it", String(200), nullable=False),
    Column("title_en", String(200), nullable=False),
    Column("description_it", Text, nullable=False),
    Column("description_en", Text, nullable=False),
    Column("published_at", UtcDateTime, nullable=True),
    Index("ix_offerings_visible_category_price", "visible", "category", "price_cents"),
    Index("ix_offerings_visible_price", "visible", "price_cents"),
    Index("ix_offerings_visible_published", "visible", "published_at"),
)

offering_municipalities = Table(
    "offering_municipalities",
    metadata,
    Column("offering_id", String(36), primary_key=True),
    Column("istat", String(6), primary_key=True),
    Index("ix_offering_municipalities_istat", "istat", "offering_id"),
)

slots = Table(
    "slots",
    metadata,
    Column("slot_id", String(36), primary_key=True),
    Column("offering_id", String(36), nullable=False),
    Column("starts_at", UtcDateTime, nullable=False),
    Column("ends_at", UtcDateTime, nullable=False),
    Column("capacity", Integer, nullable=False),
    Index("ix_slots_offering_start", "offering_id", "starts_at"),
)

slot_holds = Table(
    "slot_holds",
    metadata,
    Column("slot_id", String(36), primary_key=True),
    Column("request_id", String(128), primary_key=True),
    Column("quantity", Integer, nullable=False),
    Column("status", String(20), nullable=False),
    Column("expires_at", UtcDateTime, nullable=True),
)

packages = Table(
    "packages",
    metadata,
    Column("package_id", String(36), primary_key=True),
    Column("title_it", String(200), nullable=False),
    Column("title_en", String(200), nullable=False),
    Column("price_cents", Integer, nullable=True),
    Column("status", String(20), nullable=False),
    Column("provider_ids", Text, nullable=False),
    Column("offering_ids", Text, nullable=False),
)

positions = Table(
    "projection_positions",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("position", Integer, nullable=False),
)

offering_text = table("offering_text", column("rowid", Integer))
FTS_DDL = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS offering_text USING fts5("
    "title_it, title_en, description_it, description_en, "
    "tokenize = 'unicode61 remove_diacritics 2')"
)
# BM25 weights per column: titles count five times the descriptions.
FTS_RANK = "bm25(offering_text, 10.0, 10.0, 2.0, 2.0)"
MAX_TERMS = 8
FTS_MAX_HITS = 1_000_000
_WORD = re.compile(r"\w+", re.UNICODE)

Sort = Literal["relevance", "price_asc", "price_desc", "newest", "title"]


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


def search_terms(text_query: str) -> list[str]:
    """The words of a free-text query (punctuation and FTS syntax dropped), at most eight."""
    return [w.lower() for w in _WORD.findall(text_query)][:MAX_TERMS]


def _enable_sqlite_pragmas(dbapi_connection: Any, _: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


NotificationSource = Callable[[int, int], list[tuple[int, object]]]
"""(start, limit) → the (notification id, domain event) pairs from ``start`` on."""


class ReadModel:
    def __init__(self, url: str) -> None:
        self.engine: Engine = create_engine(url)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        if self.is_sqlite:
            event.listen(self.engine, "connect", _enable_sqlite_pragmas)
        self._lock = threading.Lock()
        self.create()

    def create(self) -> None:
        metadata.create_all(self.engine)
        with self.engine.begin() as connection:
            if self.is_sqlite:
                connection.execute(text(FTS_DDL))
            found = connection.execute(
                select(positions.c.position).where(positions.c.name == PROJECTION)
            ).first()
            if found is None:
                connection.execute(insert(positions).values(name=PROJECTION, position=0))

    def close(self) -> None:
        self.engine.dispose()

    # --- projection -----------------------------------------------------------------------------

    def position(self) -> int:
        with self.engine.connect() as connection:
            return int(
                connection.execute(
                    select(positions.c.position).where(positions.c.name == PROJECTION)
                ).scalar_one()
            )

    def catch_up(self, source: NotificationSource, up_to: int, max_batches: int = 10_000) -> int:
        """Apply every event after the recorded position up to notification ``up_to``; returns
        how many were applied by this call."""
        applied = 0
        with self._lock:
            for _ in range(max_batches):
                start = self.position()
                if start >= up_to:
                    break
                batch = source(start + 1, BATCH)
                if not batch:
                    break
                with self.engine.begin() as connection:
                    for _id, domain_event in batch:
                        self.apply(domain_event, connection)
                    moved = connection.execute(
                        update(positions)
                        .where(positions.c.name == PROJECTION, positions.c.position == start)
                        .values(position=batch[-1][0])
                    ).rowcount
                    if moved != 1:
                        connection.rollback()  # another process projected these first
                        continue
                applied += len(batch)
        return applied

    @singledispatchmethod
    def apply(self, domain_event: object, connection: Connection) -> None:
        """Events the search does not need (refused holds, index entries) are skipped."""

    @apply.register
    def _(self, e: Provider.Applied, connection: Connection) -> None:
        connection.execute(
            insert(providers).values(
                provider_id=e.provider_id,
                aggregate_id=str(e.originator_id),
                legal_name=e.legal_name,
                kind=e.kind,
                status="applied",
                municipalities=" ".join(e.municipalities),
                goods_categories="",
                merchant=False,
            )
        )

    @apply.register
    def _(self, e: Provider.Accredited, connection: Connection) -> None:
        self._provider_status(connection, e.originator_id, "accredited")

    @apply.register
    def _(self, e: Provider.Reinstated, connection: Connection) -> None:
        self._provider_status(connection, e.originator_id, "accredited")

    @apply.register
    def _(self, e: Provider.Suspended, connection: Connection) -> None:
        self._provider_status(connection, e.originator_id, "suspended")

    @apply.register
    def _(self, e: Provider.MerchantAffiliated, connection: Connection) -> None:
        provider_id = self._provider_id(connection, e.originator_id)
        connection.execute(
            update(providers)
            .where(providers.c.provider_id == provider_id)
            .values(goods_categories=" ".join(e.goods_categories), merchant=True)
        )

    @staticmethod
    def _provider_id(connection: Connection, aggregate_id: UUID) -> str:
        return str(
            connection.execute(
                select(providers.c.provider_id).where(providers.c.aggregate_id == str(aggregate_id))
            ).scalar_one()
        )

    def _provider_status(self, connection: Connection, aggregate_id: UUID, status: str) -> None:
        provider_id = self._provider_id(connection, aggregate_id)
        connection.execute(
            update(providers).where(providers.c.provider_id == provider_id).values(status=status)
        )
        connection.execute(
            update(offerings)
            .where(offerings.c.provider_id == provider_id)
            .values(visible=offerings.c.status == "published" if status == "accredited" else False)
        )

    @apply.register
    def _(self, e: Offering.Drafted, connection: Connection) -> None:
        offering_id = str(e.originator_id)
        row_id = connection.execute(
            insert(offerings).values(
                offering_id=offering_id,
                provider_id=e.provider_id,
                status="draft",
                visible=False,
                category=e.category,
                delivery_mode=e.delivery_mode,
                price_cents=e.price_cents,
                unit=e.unit,
                title_it=e.title.get("it", ""),
                title_en=e.title.get("en", ""),
                description_it=e.description.get("it", ""),
                description_en=e.description.get("en", ""),
            )
        ).inserted_primary_key
        assert row_id is not None
        if e.municipalities:
            connection.execute(
                insert(offering_municipalities),
                [{"offering_id": offering_id, "istat": m} for m in e.municipalities],
            )
        if self.is_sqlite:
            connection.execute(
                text(
                    "INSERT INTO offering_text(rowid, title_it, title_en, description_it, "
                    "description_en) VALUES (:rowid, :ti, :te, :di, :de)"
                ),
                {
                    "rowid": row_id[0],
                    "ti": e.title.get("it", ""),
                    "te": e.title.get("en", ""),
                    "di": e.description.get("it", ""),
                    "de": e.description.get("en", ""),
                },
            )

    @apply.register
    def _(self, e: Offering.Published, connection: Connection) -> None:
        offering_id = str(e.originator_id)
        provider_status = select(providers.c.status).where(
            providers.c.provider_id == offerings.c.provider_id
        )
        connection.execute(
            update(offerings)
            .where(offerings.c.offering_id == offering_id)
            .values(
                status="published",
                published_at=e.timestamp,
                visible=provider_status.scalar_subquery() == "accredited",
            )
        )

    @apply.register
    def _(self, e: Offering.PriceChanged, connection: Connection) -> None:
        connection.execute(
            update(offerings)
            .where(offerings.c.offering_id == str(e.originator_id))
            .values(price_cents=e.price_cents, unit=e.unit)
        )

    @apply.register
    def _(self, e: Offering.Withdrawn, connection: Connection) -> None:
        connection.execute(
            update(offerings)
            .where(offerings.c.offering_id == str(e.originator_id))
            .values(status="withdrawn", visible=False)
        )

    @apply.register
    def _(self, e: Slot.Opened, connection: Connection) -> None:
        connection.execute(
            insert(slots).values(
                slot_id=str(e.originator_id),
                offering_id=str(e.offering_id),
                starts_at=e.starts_at,
                ends_at=e.ends_at,
                capacity=e.capacity,
            )
        )

    @apply.register
    def _(self, e: Slot.Held, connection: Connection) -> None:
        connection.execute(
            insert(slot_holds).values(
                slot_id=str(e.originator_id),
                request_id=e.request_id,
                quantity=e.quantity,
                status="held",
                expires_at=e.expires_at,
            )
        )

    @apply.register
    def _(self, e: Slot.HoldConfirmed, connection: Connection) -> None:
        self._hold_status(connection, e.originator_id, e.request_id, "confirmed")

    @apply.register
    def _(self, e: Slot.Released, connection: Connection) -> None:
        self._hold_status(connection, e.originator_id, e.request_id, "released")

    def _hold_status(
        self, connection: Connection, slot_id: UUID, request_id: str, status: str
    ) -> None:
        connection.execute(
            update(slot_holds)
            .where(slot_holds.c.slot_id == str(slot_id), slot_holds.c.request_id == request_id)
            .values(status=status)
        )

    @apply.register
    def _(self, e: Package.Composed, connection: Connection) -> None:
        connection.execute(
            insert(packages).values(
                package_id=str(e.originator_id),
                title_it=e.title.get("it", ""),
                title_en=e.title.get("en", ""),
                price_cents=e.price_cents,
                status="composed",
                provider_ids=" ".join(sorted({str(p["provider_id"]) for p in e.parts})),
                offering_ids=" ".join(str(p["offering_id"]) for p in e.parts),
            )
        )

    @apply.register
    def _(self, e: Package.Withdrawn, connection: Connection) -> None:
        connection.execute(
            update(packages)
            .where(packages.c.package_id == str(e.originator_id))
            .values(status="withdrawn")
        )

    # --- queries --------------------------------------------------------------------------------

    def search(self, query: SearchQuery, now: datetime | None = None) -> SearchPage:
        at = now or datetime.now(UTC)
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
            conditions.append(self._has_free_slot(query.available_from, at))
        terms = search_terms(query.text)
        rank: ColumnElement[Any] | None = None
        source: Any = o
        if terms and self.is_sqlite:
            match = " ".join(f'"{t}"*' for t in terms)
            # The full-text index drives: its hits (with their BM25 rank) are computed once, in
            # a subquery the planner cannot flatten (LIMIT), then joined to the offerings.
            # Joined directly, SQLite may scan the offerings and re-run MATCH for every row.
            hits = (
                select(
                    offering_text.c.rowid.label("row_id"), literal_column(FTS_RANK).label("rank")
                )
                .where(literal_column("offering_text").op("MATCH", is_comparison=True)(match))
                .limit(FTS_MAX_HITS)
                .subquery("hits")
            )
            source = o.join(hits, hits.c.row_id == o.c.row_id)
            rank = hits.c.rank
        elif terms:
            conditions.extend(self._like_terms(terms))
        where = and_(*conditions)
        with self.engine.connect() as connection:
            total = connection.execute(
                select(func.count()).select_from(source).where(where)
            ).scalar_one()
            sort = query.sort or ("relevance" if terms else "newest")
            order = self._order(sort, rank)
            page_size = max(1, min(query.page_size, 100))
            page = max(1, query.page)
            rows = connection.execute(
                select(o)
                .select_from(source)
                .where(where)
                .order_by(*order)
                .limit(page_size)
                .offset((page - 1) * page_size)
            ).all()
            served = self._municipalities(connection, [r.offering_id for r in rows])
        return SearchPage(
            total=int(total),
            page=page,
            page_size=page_size,
            items=[
                OfferingHit(
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
                    municipalities=served.get(r.offering_id, []),
                )
                for r in rows
            ],
        )

    def _order(self, sort: Sort, rank: ColumnElement[Any] | None) -> list[Any]:
        o = offerings
        if sort == "price_asc":
            return [o.c.price_cents.asc(), o.c.row_id.asc()]
        if sort == "price_desc":
            return [o.c.price_cents.desc(), o.c.row_id.asc()]
        if sort == "title":
            return [o.c.title_it.asc(), o.c.row_id.asc()]
        if sort == "relevance" and rank is not None:
            return [rank.asc(), o.c.row_id.asc()]
        if sort == "relevance":  # LIKE fallback: a title hit first
            return [o.c.published_at.desc(), o.c.row_id.desc()]
        return [o.c.published_at.desc(), o.c.row_id.desc()]

    @staticmethod
    def _like_terms(terms: list[str]) -> Iterator[ColumnElement[bool]]:
        o = offerings
        for term in terms:
            pattern = f"%{term}%"
            yield or_(
                func.lower(o.c.title_it).like(pattern),
                func.lower(o.c.title_en).like(pattern),
                func.lower(o.c.description_it).like(pattern),
                func.lower(o.c.description_en).like(pattern),
            )

    @staticmethod
    def _has_free_slot(day: date, now: datetime) -> ColumnElement[bool]:
        s, h = slots, slot_holds
        taken = (
            select(func.coalesce(func.sum(h.c.quantity), 0))
            .where(
                h.c.slot_id == s.c.slot_id,
                or_(
                    h.c.status == "confirmed",
                    and_(h.c.status == "held", h.c.expires_at > now),
                ),
            )
            .scalar_subquery()
        )
        start = max(datetime.combine(day, time.min, tzinfo=UTC), now)
        return exists().where(
            s.c.offering_id == offerings.c.offering_id,
            s.c.starts_at >= start,
            s.c.capacity > taken,
        )

    @staticmethod
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

    def slots_for(self, offering_id: str, day: date, now: datetime) -> list[dict[str, Any]]:
        s, h = slots, slot_holds
        taken = (
            select(func.coalesce(func.sum(h.c.quantity), 0))
            .where(
                h.c.slot_id == s.c.slot_id,
                or_(h.c.status == "confirmed", and_(h.c.status == "held", h.c.expires_at > now)),
            )
            .scalar_subquery()
        )
        start = max(datetime.combine(day, time.min, tzinfo=UTC), now)
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(s, taken.label("taken"))
                .where(s.c.offering_id == offering_id, s.c.starts_at >= start)
                .order_by(s.c.starts_at)
                .limit(500)
            ).all()
        return [
            {
                "slot_id": r.slot_id,
                "starts_at": r.starts_at,
                "ends_at": r.ends_at,
                "capacity": r.capacity,
                "available": r.capacity - int(r.taken),
            }
            for r in rows
        ]

    def merchants(self, goods_category: str | None = None) -> list[dict[str, Any]]:
        p = providers
        condition = and_(p.c.merchant.is_(True), p.c.status == "accredited")
        with self.engine.connect() as connection:
            rows = connection.execute(select(p).where(condition).order_by(p.c.legal_name)).all()
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

    def packages(self) -> list[dict[str, Any]]:
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(packages)
                .where(packages.c.status == "composed")
                .order_by(packages.c.title_it)
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
