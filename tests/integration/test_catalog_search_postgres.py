"""The catalog on PostgreSQL: with ``BENECOMUNE_STORE=postgres`` the search read model lives in
the same database and schema as the events, and answers every search scenario the SQLite read
model answers (the very same list, services/catalog/tests/scenarios.py, stemming in Italian and
English included: both databases index the same stemmed tokens)."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import psycopg
import pytest
from catalog.adapters.read_model import SCHEMA_ROW, ProviderQuery, ReadModel
from catalog.application import commands as cmd
from catalog.application.app import CatalogApplication
from catalog.settings import CatalogSettings

pytestmark = pytest.mark.postgres

SCENARIOS_FILE = Path(__file__).parents[2] / "services/catalog/tests/scenarios.py"


def load_scenarios() -> ModuleType:
    name = "catalog_search_scenarios"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, SCENARIOS_FILE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


scenarios = load_scenarios()


@pytest.fixture
def settings(postgres_settings: dict[str, str], tmp_path: Path) -> CatalogSettings:
    return CatalogSettings(
        store="postgres",
        postgres_host=postgres_settings["host"],
        postgres_port=int(postgres_settings["port"]),
        postgres_dbname=postgres_settings["dbname"],
        postgres_user=postgres_settings["user"],
        postgres_password=postgres_settings["password"],  # type: ignore[arg-type]
        data_dir=tmp_path / "data",  # nothing may land here: asserted below
        keys_dir=tmp_path / "keys",
    )


@pytest.fixture
def app(settings: CatalogSettings) -> Iterator[CatalogApplication]:
    application = CatalogApplication(settings)
    yield application
    application.close()


def tables_in(settings: CatalogSettings, schema: str) -> set[str]:
    with psycopg.connect(
        host=settings.postgres_host,
        port=settings.postgres_port,
        dbname=settings.postgres_dbname,
        user=settings.postgres_user,
    ) as connection:
        rows = connection.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (schema,)
        ).fetchall()
    return {row[0] for row in rows}


@pytest.mark.parametrize(
    "scenario", list(scenarios.SCENARIOS.values()), ids=list(scenarios.SCENARIOS)
)
def test_search_on_postgres(app: CatalogApplication, scenario: scenarios.Scenario) -> None:  # type: ignore[name-defined]
    scenario(app)


def test_the_read_model_sits_in_the_services_schema_beside_its_events_and_not_in_a_file(
    app: CatalogApplication, settings: CatalogSettings
) -> None:
    app.register_provider(
        cmd.RegisterProvider(
            provider_id="coop-la-rete",
            legal_name="Cooperativa La Rete",
            kind="coop_a",
            vat_number=scenarios.VAT_LA_RETE,
            municipalities=["096004"],
            contact_person=cmd.ContactPersonInput(name="Maria Rossi", phone="333 123 4567"),
        )
    )
    assert app.search(scenarios.SearchQuery()).total == 0
    assert app.read_model.is_postgres
    found = tables_in(settings, "catalog")
    assert {"providers", "offerings", "offering_vectors", "projection_positions"} <= found
    assert {"personal_data_keys"} <= found  # the contact persons' vault, too
    assert "providers" not in tables_in(settings, "public")
    assert not (settings.data_dir / "catalog-read.sqlite").exists()
    assert app.providers(ProviderQuery()).total == 1


def test_a_read_model_of_an_older_version_is_dropped_and_rebuilt_from_the_log(
    app: CatalogApplication, settings: CatalogSettings
) -> None:
    scenarios.catalogue(app)
    expected = scenarios.titles(app, text="assistenza")
    app.read_model.close()
    model = ReadModel(settings.read_model_database_url(), schema=settings.read_model_schema())
    with model.engine.begin() as connection:
        connection.exec_driver_sql(
            f"UPDATE projection_positions SET position = 1 WHERE name = '{SCHEMA_ROW}'"
        )
    model.close()
    rebuilt = ReadModel(settings.read_model_database_url(), schema=settings.read_model_schema())
    try:
        assert rebuilt.position() == 0
        rebuilt.catch_up(app._notifications, app.recorder.max_notification_id() or 0)
        assert [
            h.title_it for h in rebuilt.search(scenarios.SearchQuery(text="assistenza")).items
        ] == expected
    finally:
        rebuilt.close()


def test_two_read_models_catching_up_at_once_apply_every_event_once(
    app: CatalogApplication, settings: CatalogSettings
) -> None:
    import threading

    ids = scenarios.catalogue(app)
    app.change_price(ids.offering("care"), cmd.ChangePrice(price_cents=2500, unit="hour"))
    up_to = app.recorder.max_notification_id() or 0
    models = [
        ReadModel(settings.read_model_database_url(), schema=settings.read_model_schema())
        for _ in range(2)
    ]
    errors: list[BaseException] = []

    def project(model: ReadModel) -> None:
        try:
            model.catch_up(app._notifications, up_to)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=project, args=(m,)) for m in models]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    try:
        assert errors == []
        assert all(m.position() == up_to for m in models)
        assert models[0].search(scenarios.SearchQuery()).total == 4
        prices = sorted(h.price_cents for h in models[1].search(scenarios.SearchQuery()).items)
        assert prices == [2500, 3000, 4500, 12000]
    finally:
        for model in models:
            model.close()
