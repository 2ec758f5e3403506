"""The read model's own housekeeping: where it lives and how it survives a change of its tables."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from catalog.adapters.read_model import SCHEMA_VERSION, ProviderQuery, ReadModel, SearchQuery
from catalog.application.app import CatalogApplication
from catalog.settings import CatalogSettings
from pydantic import SecretStr

from ..scenarios import catalogue


def test_a_read_model_file_of_the_previous_version_is_rebuilt_from_the_log(
    app: CatalogApplication, settings: CatalogSettings
) -> None:
    catalogue(app)
    path = settings.data_dir / "catalog-read.sqlite"
    # What version 1 left on disk: a providers table without contacts, the log half projected.
    with sqlite3.connect(path) as old:
        old.executescript(
            """
            CREATE TABLE providers (provider_id VARCHAR(64) PRIMARY KEY, aggregate_id VARCHAR(36),
                legal_name VARCHAR(200), kind VARCHAR(20), status VARCHAR(20),
                municipalities TEXT, goods_categories TEXT, merchant BOOLEAN);
            CREATE TABLE projection_positions (name VARCHAR(64) PRIMARY KEY, position INTEGER);
            INSERT INTO projection_positions VALUES ('catalog-search', 3);
            """
        )
    assert app.read_model.position() == 0  # dropped and re-created, not trusted
    assert app.search(SearchQuery()).total == 4
    providers = app.providers(ProviderQuery())
    assert [p.provider_id for p in providers.items] == ["coop-il-sole", "coop-la-rete"]
    assert all(p.applied_at is not None for p in providers.items)
    with sqlite3.connect(path) as rebuilt:
        (version,) = rebuilt.execute(
            "SELECT position FROM projection_positions WHERE name LIKE '%schema-version'"
        ).fetchone()
    assert version == SCHEMA_VERSION


def test_a_current_read_model_is_kept_as_it_is_when_the_service_restarts(
    app: CatalogApplication, settings: CatalogSettings
) -> None:
    catalogue(app)
    assert app.search(SearchQuery()).total == 4
    position = app.read_model.position()
    app.read_model.close()
    again = ReadModel(settings.read_model_database_url())
    try:
        assert again.position() == position > 0
        assert again.search(SearchQuery()).total == 4
    finally:
        again.close()


def test_with_the_postgres_store_the_read_model_defaults_to_the_same_database_and_schema(
    tmp_path: Path,
) -> None:
    settings = CatalogSettings(
        store="postgres",
        postgres_host="db.example",
        postgres_port=5433,
        postgres_dbname="benecomune",
        postgres_user="catalog",
        postgres_password=SecretStr("s3cret/@"),
        postgres_schema="catalog_biella",
        data_dir=tmp_path,
    )
    assert settings.read_model_database_url() == (
        "postgresql+psycopg://catalog:s3cret%2F%40@db.example:5433/benecomune"
    )
    assert settings.read_model_schema() == "catalog_biella"
    assert CatalogSettings(store="postgres", data_dir=tmp_path).read_model_schema() == "catalog"
    explicit = CatalogSettings(store="postgres", read_model_url="sqlite:///x.db", data_dir=tmp_path)
    assert explicit.read_model_database_url() == "sqlite:///x.db"
    assert explicit.read_model_schema() is None
    sqlite = CatalogSettings(data_dir=tmp_path)
    assert sqlite.read_model_database_url() == f"sqlite:///{tmp_path / 'catalog-read.sqlite'}"
    assert sqlite.read_model_schema() is None
