"""The read model's tables (SQLAlchemy): providers, offerings, their municipalities, slots and
holds, packages; and the full-text index of the offerings, a ``tsvector`` table on PostgreSQL or
an FTS5 table on SQLite (:mod:`catalog.adapters.read_model.full_text` says what they hold).

Bump ``SCHEMA_VERSION`` when a table changes: the kit then drops a read model of another version
and fills it again from the log.
"""

from __future__ import annotations

from servicekit.projection import UtcDateTime
from sqlalchemy import (
    Boolean,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    column,
    table,
)
from sqlalchemy.dialects.postgresql import TSVECTOR

PROJECTION = "catalog-search"
# Bump when a table changes: a read model of another version is dropped and rebuilt from the log.
SCHEMA_VERSION = 4
SCHEMA_ROW = f"{PROJECTION}:schema-version"  # where the kit records the version


metadata = MetaData()

providers = Table(
    "providers",
    metadata,
    Column("provider_id", String(64), primary_key=True),
    Column("aggregate_id", String(36), nullable=False, unique=True),
    Column("legal_name", String(200), nullable=False),
    # The legal name folded (lower case, no accents): the order of sort=name. Text: folding
    # may lengthen a name ("ß" is "ss", a ligature three letters).
    Column("name_key", Text, nullable=False),
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
    Index("ix_providers_status_name", "status", "name_key"),
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
    # The Italian title folded (lower case, no accents): the order of sort=title (Text, as
    # name_key).
    Column("title_key", Text, nullable=False),
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

# PostgreSQL only: the text of each offering as a tsvector (full_text.pg_document).
pg_metadata = MetaData()
offering_vectors = Table(
    "offering_vectors",
    pg_metadata,
    Column("row_id", Integer, primary_key=True, autoincrement=False),
    Column("document", TSVECTOR, nullable=False),
    Index("ix_offering_vectors_document", "document", postgresql_using="gin"),
)

offering_text = table("offering_text", column("rowid", Integer))
# SQLite only: each column holds the tokens of search_text.index_text (words and their stems).
FTS_DDL = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS offering_text USING fts5("
    "title_it, title_en, description_it, description_en, category, "
    "tokenize = 'unicode61 remove_diacritics 2')"
)
