"""Full-text search of the offerings, the same on both databases.

Free text is bilingual (Italian and English titles and descriptions, and the names of the
offering's category), with the same behaviour on both databases, because both index the same
tokens made in Python (:mod:`catalog.adapters.read_model.search_text`): accents ignored
("attivita" finds "attività"), prefixes matched ("fisio" finds "fisioterapia"), Italian and
English stems ("anziano" finds "anziani", "homes" finds "home"), every word of the query
required, titles weighing five times the descriptions in the relevance order.

- SQLite: an FTS5 index of the stemmed tokens (``unicode61`` tokenizer), ranked by BM25.
- PostgreSQL: a ``tsvector`` per offering (GIN index) of the same tokens (``simple``
  configuration: no extension, no server-side dictionary needed), titles with weight A,
  descriptions B, category names C; ranked by ``ts_rank``.
- Other databases fall back to ``LIKE`` matching.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import reduce
from typing import Any

from servicekit.projection import ReadModelStore
from sqlalchemy import func, insert, literal_column, or_, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement, Grouping

from catalog.adapters.read_model.search_text import (
    category_text,
    fts5_match,
    index_text,
    query_words,
)
from catalog.adapters.read_model.tables import offering_text, offering_vectors, offerings

# ts_rank weights for D, C (category names), B (descriptions) and A (titles): titles count
# five times.
PG_RANK_WEIGHTS = "'{0.1, 0.2, 0.2, 1.0}'::float4[]"
# BM25 weights per column: titles count five times the descriptions and category names.
FTS_RANK = "bm25(offering_text, 10.0, 10.0, 2.0, 2.0, 2.0)"
FTS_MAX_HITS = 1_000_000


def index_offering(
    connection: Connection,
    row_id: int,
    title: dict[str, str],
    description: dict[str, str],
    category: str,
) -> None:
    """Put a new offering's texts in the database's full-text index."""
    if connection.dialect.name == "postgresql":
        connection.execute(
            insert(offering_vectors).values(
                row_id=row_id, document=pg_document(title, description, category)
            )
        )
    if connection.dialect.name == "sqlite":
        connection.execute(
            text(
                "INSERT INTO offering_text(rowid, title_it, title_en, description_it, "
                "description_en, category) VALUES (:rowid, :ti, :te, :di, :de, :c)"
            ),
            {
                "rowid": row_id,
                "ti": index_text(title.get("it", "")),
                "te": index_text(title.get("en", "")),
                "di": index_text(description.get("it", "")),
                "de": index_text(description.get("en", "")),
                "c": category_text(category),
            },
        )


@dataclass(frozen=True)
class TextMatch:
    """The offerings a query's words match: ``source`` (the offerings joined to their hits,
    with ``rank``, lower is better), ``count_source`` (the same rows, unranked, for the total)
    and, on a database without a full-text index, ``conditions`` on the offerings instead."""

    source: Any = offerings
    count_source: Any = None
    rank: ColumnElement[Any] | None = None
    conditions: tuple[ColumnElement[bool], ...] = ()

    @property
    def counted(self) -> Any:
        """What the total counts: the matches, unranked when the database allows it."""
        return self.source if self.count_source is None else self.count_source


def text_match(rm: ReadModelStore, terms: list[str]) -> TextMatch:
    """How the read model's database finds the offerings with every word of ``terms``."""
    # (On SQLite and PostgreSQL a query of underscores only has no word to look for.)
    if not terms:
        return TextMatch()
    if rm.is_sqlite:
        match = fts5_match(terms)
        return _sqlite_match(match) if match is not None else TextMatch()
    if rm.is_postgres:
        ts_query = pg_query(terms)
        return _postgres_match(ts_query) if ts_query is not None else TextMatch()
    return TextMatch(conditions=tuple(_like_terms(terms)))


def _sqlite_match(match: str) -> TextMatch:
    # The full-text index drives: its hits (with their BM25 rank) are computed once, in a
    # subquery the planner cannot flatten (LIMIT), then joined to the offerings. Joined
    # directly, SQLite may scan the offerings and re-run MATCH for every row.
    matching = literal_column("offering_text").op("MATCH", is_comparison=True)(match)
    hits = (
        select(offering_text.c.rowid.label("row_id"), literal_column(FTS_RANK).label("rank"))
        .where(matching)
        .limit(FTS_MAX_HITS)
        .subquery("hits")
    )
    # Counting needs the matches, not their rank: BM25 is computed for the page only.
    matches = (
        select(offering_text.c.rowid.label("row_id"))
        .where(matching)
        .limit(FTS_MAX_HITS)
        .subquery("matches")
    )
    o = offerings
    return TextMatch(
        source=o.join(hits, hits.c.row_id == o.c.row_id),
        count_source=o.join(matches, matches.c.row_id == o.c.row_id),
        rank=hits.c.rank,
    )


def _postgres_match(ts_query: ColumnElement[Any]) -> TextMatch:
    # As on SQLite: the matches and their rank once, in a subquery, then the join. The rank is
    # negated so that, as BM25's, lower is better.
    v = offering_vectors
    rank = -func.ts_rank(literal_column(PG_RANK_WEIGHTS), v.c.document, ts_query)
    hits = (
        select(v.c.row_id.label("row_id"), rank.label("rank"))
        .where(v.c.document.op("@@", is_comparison=True)(ts_query))
        .subquery("hits")
    )
    joined = offerings.join(hits, hits.c.row_id == offerings.c.row_id)
    return TextMatch(source=joined, rank=hits.c.rank)


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
    """The tsquery of the query's words (:func:`search_text.query_words`): any of a word's
    alternatives, every word required."""
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
