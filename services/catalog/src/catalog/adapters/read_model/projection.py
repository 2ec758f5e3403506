"""The search read model: the catalog's own events projected into SQL tables (SQLAlchemy).

The event store stays the truth; these tables are a disposable view of it, rebuilt from the
notification log at any time (delete the file and it comes back). The kit's
:mod:`servicekit.projection` keeps them: the position recorded in the same transaction as the
rows, catch-up before each query, drop and refill when ``SCHEMA_VERSION`` changes; this module
holds the tables, the handlers (:class:`SearchProjection`) and the search SQL (:class:`ReadModel`).

Where it lives: a SQLite file beside the SQLite event store, or, with the PostgreSQL store, the
same database and schema as the events (``CatalogSettings.read_model_database_url``).

Free text is bilingual (Italian and English titles and descriptions, and the names of the
offering's category), with the same behaviour on both databases, because both index the same
tokens made in Python (:mod:`catalog.search_text`): accents ignored ("attivita" finds
"attività"), prefixes matched ("fisio" finds "fisioterapia"), Italian and English stems
("anziano" finds "anziani", "homes" finds "home"), every word of the query required, titles
weighing five times the descriptions in the relevance order. Sorting by title ignores case and
accents (a folded copy of the title, ``title_key``).

- SQLite: an FTS5 index of the stemmed tokens (``unicode61`` tokenizer), ranked by BM25.
- PostgreSQL: a ``tsvector`` per offering (GIN index) of the same tokens (``simple``
  configuration: no extension, no server-side dictionary needed), titles with weight A,
  descriptions B, category names C; ranked by ``ts_rank``.
- Other databases fall back to ``LIKE`` matching.

The providers table serves the operator's review queue and the public list of providers
(:meth:`ReadModel.providers`): the organisation's contacts are here, never the contact person
(personal data, sealed in the vault and read from the aggregate only).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from functools import reduce, singledispatchmethod
from typing import Any, Literal
from uuid import UUID

from servicekit.projection import Projection, ReadModelStore
from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Dialect,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    and_,
    column,
    exists,
    func,
    insert,
    literal_column,
    or_,
    select,
    table,
    text,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement, Grouping

from catalog.domain.offering import Offering
from catalog.domain.package import Package
from catalog.domain.provider import Provider
from catalog.domain.slot import Slot
from catalog.search_text import (
    category_text,
    fts5_match,
    index_text,
    query_words,
    search_terms,
    sort_key,
)

PROJECTION = "catalog-search"
# Bump when a table changes: a read model of another version is dropped and rebuilt from the log.
SCHEMA_VERSION = 3
SCHEMA_ROW = f"{PROJECTION}:schema-version"  # where the kit records the version


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
    Column("vat_number", String(16), nullable=True),
    Column("certifications", Text, nullable=False, default=""),  # one per line
    # The organisation's contacts (public); the contact person is never here.
    Column("email", String(254), nullable=True),
    Column("phone", String(20), nullable=True),
    Column("website", String(200), nullable=True),
    Column("street", String(200), nullable=True),
    Column("address_istat", String(6), nullable=True),
    Column("postcode", String(5), nullable=True),
    Column("applied_at", UtcDateTime, nullable=False),
    Column("status_since", UtcDateTime, nullable=False),
    Index("ix_providers_status_name", "status", "legal_name"),
    Index("ix_providers_status_applied", "status", "applied_at"),
)

provider_municipalities = Table(
    "provider_municipalities",
    metadata,
    Column("provider_id", String(64), primary_key=True),
    Column("istat", String(6), primary_key=True),
    Index("ix_provider_municipalities_istat", "istat", "provider_id"),
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
    # The Italian title folded (lower case, no accents): the order of sort=title.
    Column("title_key", String(200), nullable=False),
    Column("description_it", Text, nullable=False),
    Column("description_en", Text, nullable=False),
    Column("published_at", UtcDateTime, nullable=True),
    Index("ix_offerings_visible_title", "visible", "title_key"),
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
    # A request id is its holder's own: two holders may use the same one.
    Column("holder", String(140), primary_key=True),
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

# PostgreSQL only: the text of each offering as a tsvector (see the module's docstring).
pg_metadata = MetaData()
offering_vectors = Table(
    "offering_vectors",
    pg_metadata,
    Column("row_id", Integer, primary_key=True, autoincrement=False),
    Column("document", TSVECTOR, nullable=False),
    Index("ix_offering_vectors_document", "document", postgresql_using="gin"),
)
# ts_rank weights for D, C (category names), B (descriptions) and A (titles): titles count
# five times.
PG_RANK_WEIGHTS = "'{0.1, 0.2, 0.2, 1.0}'::float4[]"

offering_text = table("offering_text", column("rowid", Integer))
# Each column holds the tokens of catalog.search_text.index_text (words and their stems).
FTS_DDL = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS offering_text USING fts5("
    "title_it, title_en, description_it, description_en, category, "
    "tokenize = 'unicode61 remove_diacritics 2')"
)
# BM25 weights per column: titles count five times the descriptions and category names.
FTS_RANK = "bm25(offering_text, 10.0, 10.0, 2.0, 2.0, 2.0)"
FTS_MAX_HITS = 1_000_000

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


ProviderSort = Literal["name", "applied", "recent"]


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


def _regconfig(name: str) -> ColumnElement[Any]:
    # A constant ("simple"), never user input.
    return literal_column(f"'{name}'::regconfig")


def pg_document(
    title: dict[str, str], description: dict[str, str], category: str
) -> ColumnElement[Any]:
    """The tsvector of an offering: the indexed tokens of its texts, weighted."""
    parts: list[ColumnElement[Any]] = []
    for value, weight in (
        (index_text(f"{title.get('it', '')} {title.get('en', '')}"), "A"),
        (index_text(f"{description.get('it', '')} {description.get('en', '')}"), "B"),
        (category_text(category), "C"),
    ):
        parts.append(
            func.setweight(
                func.to_tsvector(_regconfig("simple"), value), literal_column(f"'{weight}'")
            )
        )
    return reduce(lambda a, b: _binary(a, "||", b), parts)


def _binary(left: ColumnElement[Any], operator: str, right: ColumnElement[Any]) -> Any:
    """``(left operator right)``, parenthesised: PostgreSQL gives its text-search operators one
    precedence, so ``v @@ a || b`` would read as ``(v @@ a) || b``."""
    return Grouping(left.op(operator)(right))


def pg_query(terms: list[str]) -> ColumnElement[Any] | None:
    """The tsquery of the query's words (:func:`catalog.search_text.query_words`): any of a
    word's alternatives, every word required."""
    words = query_words(terms)
    if not words:
        return None
    per_word = [
        reduce(
            lambda a, b: _binary(a, "||", b),
            [
                func.to_tsquery(_regconfig("simple"), f"{token}:*" if prefix else token)
                for token, prefix in options
            ],
        )
        for options in words
    ]
    return reduce(lambda a, b: _binary(a, "&&", b), per_word)


class SearchProjection(Projection):
    """How the catalog's events change the search tables (the kit keeps the position)."""

    name = PROJECTION
    version = SCHEMA_VERSION
    metadata = metadata

    def create_extra(self, connection: Connection) -> None:
        if connection.dialect.name == "postgresql":
            pg_metadata.create_all(connection)
        elif connection.dialect.name == "sqlite":
            connection.execute(text(FTS_DDL))

    def drop_extra(self, connection: Connection) -> None:
        if connection.dialect.name == "postgresql":
            pg_metadata.drop_all(connection)
        elif connection.dialect.name == "sqlite":
            connection.execute(text("DROP TABLE IF EXISTS offering_text"))

    # Its own dispatcher: ``Projection.apply.register`` would add these handlers to the one
    # registry every projection of the process shares.
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
                vat_number=e.vat_number,
                certifications="\n".join(e.certifications),
                applied_at=e.timestamp,
                status_since=e.timestamp,
                **_contact_columns(e.contact_email, e.phone, e.website, e.address),
            )
        )
        if e.municipalities:
            connection.execute(
                insert(provider_municipalities),
                [{"provider_id": e.provider_id, "istat": m} for m in sorted(set(e.municipalities))],
            )

    @apply.register
    def _(self, e: Provider.Accredited, connection: Connection) -> None:
        self._provider_status(connection, e.originator_id, "accredited", e.timestamp)

    @apply.register
    def _(self, e: Provider.Reinstated, connection: Connection) -> None:
        self._provider_status(connection, e.originator_id, "accredited", e.timestamp)

    @apply.register
    def _(self, e: Provider.Suspended, connection: Connection) -> None:
        self._provider_status(connection, e.originator_id, "suspended", e.timestamp)

    @apply.register
    def _(self, e: Provider.CertificationAdded, connection: Connection) -> None:
        provider_id = self._provider_id(connection, e.originator_id)
        current = connection.execute(
            select(providers.c.certifications).where(providers.c.provider_id == provider_id)
        ).scalar_one()
        listed = [c for c in str(current).split("\n") if c]
        connection.execute(
            update(providers)
            .where(providers.c.provider_id == provider_id)
            .values(certifications="\n".join([*listed, e.certification]))
        )

    @apply.register
    def _(self, e: Provider.ContactsUpdated, connection: Connection) -> None:
        provider_id = self._provider_id(connection, e.originator_id)
        connection.execute(
            update(providers)
            .where(providers.c.provider_id == provider_id)
            .values(**_contact_columns(e.email, e.phone, e.website, e.address))
        )

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

    def _provider_status(
        self, connection: Connection, aggregate_id: UUID, status: str, since: datetime
    ) -> None:
        provider_id = self._provider_id(connection, aggregate_id)
        connection.execute(
            update(providers)
            .where(providers.c.provider_id == provider_id)
            .values(status=status, status_since=since)
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
                title_key=sort_key(e.title.get("it", "")),
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
        if connection.dialect.name == "postgresql":
            connection.execute(
                insert(offering_vectors).values(
                    row_id=row_id[0], document=pg_document(e.title, e.description, e.category)
                )
            )
        if connection.dialect.name == "sqlite":
            connection.execute(
                text(
                    "INSERT INTO offering_text(rowid, title_it, title_en, description_it, "
                    "description_en, category) VALUES (:rowid, :ti, :te, :di, :de, :c)"
                ),
                {
                    "rowid": row_id[0],
                    "ti": index_text(e.title.get("it", "")),
                    "te": index_text(e.title.get("en", "")),
                    "di": index_text(e.description.get("it", "")),
                    "de": index_text(e.description.get("en", "")),
                    "c": category_text(e.category),
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
                holder=e.holder,
                request_id=e.request_id,
                quantity=e.quantity,
                status="held",
                expires_at=e.expires_at,
            )
        )

    @apply.register
    def _(self, e: Slot.HoldConfirmed, connection: Connection) -> None:
        self._hold_status(connection, e.originator_id, e.request_id, e.holder, "confirmed")

    @apply.register
    def _(self, e: Slot.Released, connection: Connection) -> None:
        self._hold_status(connection, e.originator_id, e.request_id, e.holder, "released")

    def _hold_status(
        self,
        connection: Connection,
        slot_id: UUID,
        request_id: str,
        holder: str | None,
        status: str,
    ) -> None:
        h = slot_holds
        # Events recorded before request ids were scoped by holder name none: the request id
        # alone was then unique in its slot.
        whose = [h.c.holder == holder] if holder is not None else []
        connection.execute(
            update(h)
            .where(h.c.slot_id == str(slot_id), h.c.request_id == request_id, *whose)
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


class ReadModel(ReadModelStore):
    """The search tables with their position (servicekit.projection), and the search queries."""

    def __init__(self, url: str, schema: str | None = None) -> None:
        """``url``: a SQLAlchemy URL; ``schema``: the PostgreSQL schema of the tables (it must
        exist; default: the connection's search path)."""
        super().__init__(SearchProjection(), url, schema)

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
        count_source: Any = None
        match = fts5_match(terms) if terms and self.is_sqlite else None
        if match is not None:
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
            # Counting needs the matches, not their rank: BM25 is computed for the page only.
            matches = (
                select(offering_text.c.rowid.label("row_id"))
                .where(literal_column("offering_text").op("MATCH", is_comparison=True)(match))
                .limit(FTS_MAX_HITS)
                .subquery("matches")
            )
            count_source = o.join(matches, matches.c.row_id == o.c.row_id)
        elif terms and self.is_postgres and (ts_query := pg_query(terms)) is not None:
            v = offering_vectors
            # As on SQLite: the matches and their rank once, in a subquery, then the join.
            # The rank is negated so that, as BM25's, lower is better.
            hits = (
                select(
                    v.c.row_id.label("row_id"),
                    (-func.ts_rank(literal_column(PG_RANK_WEIGHTS), v.c.document, ts_query)).label(
                        "rank"
                    ),
                )
                .where(v.c.document.op("@@", is_comparison=True)(ts_query))
                .subquery("hits")
            )
            source = o.join(hits, hits.c.row_id == o.c.row_id)
            rank = hits.c.rank
        elif terms and not (self.is_sqlite or self.is_postgres):
            conditions.extend(self._like_terms(terms))
        # (On SQLite and PostgreSQL a query of underscores only has no word to look for.)
        where = and_(*conditions)
        if count_source is None:
            count_source = source
        with self.engine.connect() as connection:
            total = connection.execute(
                select(func.count()).select_from(count_source).where(where)
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
            return [o.c.title_key.asc(), o.c.row_id.asc()]
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

    def providers(self, query: ProviderQuery) -> ProviderPage:
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
        where = and_(true(), *conditions)
        order = {
            "name": [p.c.legal_name.asc(), p.c.provider_id.asc()],
            "applied": [p.c.applied_at.asc(), p.c.provider_id.asc()],  # the review queue
            "recent": [p.c.status_since.desc(), p.c.provider_id.asc()],
        }[query.sort]
        page_size = max(1, min(query.page_size, 100))
        page = max(1, query.page)
        with self.engine.connect() as connection:
            total = connection.execute(
                select(func.count()).select_from(p).where(where)
            ).scalar_one()
            rows = connection.execute(
                select(p)
                .where(where)
                .order_by(*order)
                .limit(page_size)
                .offset((page - 1) * page_size)
            ).all()
        return ProviderPage(
            total=int(total),
            page=page,
            page_size=page_size,
            items=[
                ProviderRow(
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
                    address=(
                        {
                            "street": r.street,
                            "municipality_istat": r.address_istat,
                            "postcode": r.postcode,
                        }
                        if r.street
                        else None
                    ),
                )
                for r in rows
            ],
        )

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


def _contact_columns(
    email: str | None, phone: str | None, website: str | None, address: dict[str, str] | None
) -> dict[str, str | None]:
    return {
        "email": email,
        "phone": phone,
        "website": website,
        "street": address["street"] if address else None,
        "address_istat": address["municipality_istat"] if address else None,
        "postcode": address["postcode"] if address else None,
    }
