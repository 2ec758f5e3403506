from __future__ import annotations

from datetime import UTC, datetime, timedelta

from catalog.application import commands as cmd
from catalog.application.app import CatalogApplication
from catalog.read_model import SearchQuery

from ..conftest import VAT_IL_SOLE, offer, register, slot


def titles(app: CatalogApplication, **query: object) -> list[str]:
    return [hit.title_it for hit in app.search(SearchQuery(**query)).items]  # type: ignore[arg-type]


def catalogue(app: CatalogApplication) -> dict[str, object]:
    rete = register(app, "coop-la-rete")
    sole = register(app, "coop-il-sole", VAT_IL_SOLE, kind="coop_b", municipalities=("096004",))
    ids = {
        "care": offer(app, rete, price_cents=2200, municipalities=("096020",)),
        "physio": offer(
            app,
            sole,
            title_it="Fisioterapia a domicilio",
            title_en="Physiotherapy at home",
            description_it="Riabilitazione dopo le dimissioni ospedaliere",
            description_en="Rehabilitation after hospital discharge",
            category="services_no_cap",
            price_cents=4500,
            unit="session",
        ),
        "school": offer(
            app,
            rete,
            title_it="Doposcuola",
            title_en="After-school club",
            description_it="Compiti e attività per bambini delle elementari, assistenza inclusa",
            description_en="Homework and activities for primary school children",
            category="education_childcare",
            delivery_mode="at_provider",
            price_cents=12000,
            unit="month",
        ),
        "tele": offer(
            app,
            sole,
            title_it="Teleassistenza",
            title_en="Remote tele-assistance",
            description_it="Un pulsante per chiamare aiuto, giorno e notte",
            description_en="A button to call for help, day and night",
            delivery_mode="remote",
            price_cents=3000,
            unit="month",
        ),
    }
    offer(app, rete, title_it="Bozza non pubblicata", publish=False)
    return {"rete": rete, "sole": sole, **ids}


def test_free_text_finds_offerings_in_italian_and_english(app: CatalogApplication) -> None:
    catalogue(app)
    assert titles(app, text="fisioterapia") == ["Fisioterapia a domicilio"]
    assert titles(app, text="physiotherapy") == ["Fisioterapia a domicilio"]
    assert titles(app, text="after-school") == ["Doposcuola"]


def test_free_text_matches_prefixes_and_ignores_accents(app: CatalogApplication) -> None:
    catalogue(app)
    assert titles(app, text="fisio") == ["Fisioterapia a domicilio"]
    assert titles(app, text="attivita") == ["Doposcuola"]


def test_a_title_match_ranks_above_a_description_match(app: CatalogApplication) -> None:
    catalogue(app)
    # "assistenza" is in the home care title and only in the after-school description
    assert titles(app, text="assistenza")[:2] == ["Assistenza domiciliare anziani", "Doposcuola"]


def test_filters_combine(app: CatalogApplication) -> None:
    catalogue(app)
    assert titles(app, category="elderly_care", sort="price_asc") == [
        "Assistenza domiciliare anziani",
        "Teleassistenza",
    ]
    assert titles(app, delivery_mode="remote") == ["Teleassistenza"]
    assert titles(app, min_price_cents=3000, max_price_cents=5000, sort="price_desc") == [
        "Fisioterapia a domicilio",
        "Teleassistenza",
    ]
    # Home care serves only Cossato; the after-school club all the provider serves.
    assert titles(app, municipality="096020", sort="title") == [
        "Assistenza domiciliare anziani",
        "Doposcuola",
    ]
    assert "Assistenza domiciliare anziani" not in titles(app, municipality="096004")
    assert "Bozza non pubblicata" not in titles(app, page_size=100)


def test_results_are_paged_and_sorted(app: CatalogApplication) -> None:
    catalogue(app)
    first = app.search(SearchQuery(sort="price_asc", page=1, page_size=3))
    second = app.search(SearchQuery(sort="price_asc", page=2, page_size=3))
    assert first.total == second.total == 4
    assert [h.price_cents for h in first.items] == [2200, 3000, 4500]
    assert [h.price_cents for h in second.items] == [12000]


def test_available_from_keeps_offerings_with_a_free_slot(app: CatalogApplication) -> None:
    ids = catalogue(app)
    full = slot(app, ids["physio"], capacity=1, days=5)  # type: ignore[arg-type]
    slot(app, ids["care"], capacity=2, days=5)  # type: ignore[arg-type]
    app.hold_slot(full, cmd.HoldSlot(request_id="r1"), "beneficiary:b1")
    today = datetime.now(UTC).date()
    assert titles(app, available_from=today) == ["Assistenza domiciliare anziani"]
    assert titles(app, available_from=today + timedelta(days=10)) == []


def test_a_suspended_providers_offerings_disappear_from_search_until_reinstated(
    app: CatalogApplication,
) -> None:
    ids = catalogue(app)
    app.suspend_provider(str(ids["sole"]), cmd.SuspendProvider(reason_code="audit"), "operator")
    assert "Teleassistenza" not in titles(app, page_size=100)
    assert titles(app, text="physiotherapy") == []
    app.reinstate_provider(str(ids["sole"]), "operator")
    assert titles(app, text="physiotherapy") == ["Fisioterapia a domicilio"]


def test_a_withdrawn_offering_leaves_the_search(app: CatalogApplication) -> None:
    ids = catalogue(app)
    app.withdraw_offering(ids["tele"], cmd.WithdrawOffering())  # type: ignore[arg-type]
    assert titles(app, delivery_mode="remote") == []


def test_a_price_change_keeps_the_history_and_search_shows_the_new_price(
    app: CatalogApplication,
) -> None:
    ids = catalogue(app)
    before = datetime.now(UTC)
    app.change_price(ids["care"], cmd.ChangePrice(price_cents=2400, unit="hour"))  # type: ignore[arg-type]
    assert app.price_at(ids["care"], before).price_cents == 2200  # type: ignore[arg-type]
    assert app.price_at(ids["care"], datetime.now(UTC)).price_cents == 2400  # type: ignore[arg-type]
    assert [h.price_cents for h in app.search(SearchQuery(text="domiciliare")).items] == [2400]


def test_the_read_model_is_rebuilt_from_the_event_log(
    app: CatalogApplication, tmp_path: object
) -> None:
    catalogue(app)
    expected = titles(app, sort="title")
    from catalog.read_model import ReadModel

    fresh = ReadModel("sqlite://")
    fresh.catch_up(app._notifications, app.recorder.max_notification_id() or 0)
    assert [h.title_it for h in fresh.search(SearchQuery(sort="title")).items] == expected
