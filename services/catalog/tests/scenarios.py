"""Ready-made records and the search scenarios every database of the read model must pass.

The same scenarios run on SQLite (``tests/unit/test_search.py``) and on PostgreSQL
(``tests/integration/test_catalog_search_postgres.py``, which loads this file by its path): one
list of expectations, so the two stores cannot drift apart. This module imports nothing
relative, for that reason.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from uuid import UUID

from catalog.adapters.read_model import ProviderQuery, ReadModel, SearchQuery
from catalog.application import commands as cmd
from catalog.application.app import CatalogApplication

# Real, valid partite IVA (check digit included).
VAT_LA_RETE = "01114601006"
VAT_IL_SOLE = "00743110157"
VAT_BOTTEGA = "02083080248"


def register(
    app: CatalogApplication,
    provider_id: str = "coop-la-rete",
    vat: str = VAT_LA_RETE,
    kind: str = "coop_a",
    accredit: bool = True,
    municipalities: tuple[str, ...] = ("096004", "096020"),
) -> str:
    app.register_provider(
        cmd.RegisterProvider(
            provider_id=provider_id,
            legal_name=f"Cooperativa {provider_id}",
            kind=kind,  # type: ignore[arg-type]
            vat_number=vat,
            municipalities=list(municipalities),
        )
    )
    if accredit:
        app.accredit_provider(provider_id, "operator")
    return provider_id


def offer(
    app: CatalogApplication,
    provider_id: str,
    title_it: str = "Assistenza domiciliare anziani",
    title_en: str = "Home care for the elderly",
    description_it: str = "Operatori socio-sanitari a casa tua",
    description_en: str = "Care workers at your home",
    category: str = "elderly_care",
    delivery_mode: str = "at_home",
    price_cents: int = 2200,
    unit: str = "hour",
    municipalities: tuple[str, ...] = (),
    publish: bool = True,
) -> UUID:
    offering_id = app.draft_offering(
        provider_id,
        cmd.DraftOffering(
            title_it=title_it,
            title_en=title_en,
            description_it=description_it,
            description_en=description_en,
            category=category,  # type: ignore[arg-type]
            delivery_mode=delivery_mode,  # type: ignore[arg-type]
            price_cents=price_cents,
            unit=unit,  # type: ignore[arg-type]
            municipalities=list(municipalities),
        ),
    )
    if publish:
        app.publish_offering(offering_id)
    return offering_id


def slot(app: CatalogApplication, offering_id: UUID, capacity: int = 3, days: int = 7) -> UUID:
    starts = datetime.now(UTC).replace(microsecond=0) + timedelta(days=days)
    return app.open_slot(
        offering_id,
        cmd.OpenSlot(starts_at=starts, ends_at=starts + timedelta(hours=1), capacity=capacity),
    )


# --- the search scenarios ------------------------------------------------------------------------


def titles(app: CatalogApplication, **query: object) -> list[str]:
    return [hit.title_it for hit in app.search(SearchQuery(**query)).items]  # type: ignore[arg-type]


class Catalogue(dict[str, object]):
    """The ids of the scenarios' records: providers by name, offerings by their key."""

    def offering(self, key: str) -> UUID:
        value = self[key]
        assert isinstance(value, UUID)
        return value

    def provider(self, key: str) -> str:
        return str(self[key])


def catalogue(app: CatalogApplication) -> Catalogue:
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
    return Catalogue(rete=rete, sole=sole, **ids)


Scenario = Callable[[CatalogApplication], None]
SCENARIOS: dict[str, Scenario] = {}


def scenario(function: Scenario) -> Scenario:
    SCENARIOS[function.__name__] = function
    return function


@scenario
def free_text_finds_offerings_in_italian_and_english(app: CatalogApplication) -> None:
    catalogue(app)
    assert titles(app, text="fisioterapia") == ["Fisioterapia a domicilio"]
    assert titles(app, text="physiotherapy") == ["Fisioterapia a domicilio"]
    assert titles(app, text="after-school") == ["Doposcuola"]


@scenario
def free_text_matches_prefixes_and_ignores_accents(app: CatalogApplication) -> None:
    catalogue(app)
    assert titles(app, text="fisio") == ["Fisioterapia a domicilio"]
    assert titles(app, text="attivita") == ["Doposcuola"]
    assert titles(app, text="attività") == ["Doposcuola"]


@scenario
def every_word_of_the_query_must_match(app: CatalogApplication) -> None:
    catalogue(app)
    assert titles(app, text="fisioterapia domicilio") == ["Fisioterapia a domicilio"]
    assert titles(app, text="fisioterapia doposcuola") == []


@scenario
def a_title_match_ranks_above_a_description_match(app: CatalogApplication) -> None:
    catalogue(app)
    # "assistenza" is in the home care title and only in the after-school description
    assert titles(app, text="assistenza")[:2] == ["Assistenza domiciliare anziani", "Doposcuola"]


@scenario
def query_syntax_is_taken_as_plain_words(app: CatalogApplication) -> None:
    catalogue(app)
    assert titles(app, text='fisio* OR "doposcuola" & | ! :*') == []
    assert titles(app, text="(fisioterapia)") == ["Fisioterapia a domicilio"]
    assert titles(app, text="' ; -- ") == titles(app)


NASTY_QUERIES = (
    "città",
    "CAFÉ crème brûlée",
    "l'assistenza dell'anziano",
    "a_b__c",
    "1e5 0x1F 3.14",
    "e il la di",  # only Italian stop words
    "the and of",  # only English ones
    "straße ǅemal ﬁsio",
    "日本語 العربية",
    "'); DROP TABLE offerings; --",
    '\\ " ` $1 %s %(x)s {}',
    "x" * 200,
)


@scenario
def any_text_typed_in_the_search_box_gives_an_answer_never_an_error(
    app: CatalogApplication,
) -> None:
    catalogue(app)
    for query in NASTY_QUERIES:
        found = app.search(SearchQuery(text=query))
        assert found.total == len(found.items) <= 4, query
    assert titles(app) != []  # and the offerings are all still there


@scenario
def filters_combine(app: CatalogApplication) -> None:
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
    assert titles(app, text="assistenza", delivery_mode="at_provider") == ["Doposcuola"]


@scenario
def results_are_paged_and_sorted(app: CatalogApplication) -> None:
    catalogue(app)
    first = app.search(SearchQuery(sort="price_asc", page=1, page_size=3))
    second = app.search(SearchQuery(sort="price_asc", page=2, page_size=3))
    assert first.total == second.total == 4
    assert [h.price_cents for h in first.items] == [2200, 3000, 4500]
    assert [h.price_cents for h in second.items] == [12000]
    assert titles(app, sort="newest")[0] == "Teleassistenza"


@scenario
def available_from_keeps_offerings_with_a_free_slot(app: CatalogApplication) -> None:
    ids = catalogue(app)
    full = slot(app, ids.offering("physio"), capacity=1, days=5)
    slot(app, ids.offering("care"), capacity=2, days=5)
    app.hold_slot(full, cmd.HoldSlot(request_id="r1"), "beneficiary:b1")
    today = datetime.now(UTC).date()
    assert titles(app, available_from=today) == ["Assistenza domiciliare anziani"]
    assert titles(app, available_from=today + timedelta(days=10)) == []


@scenario
def a_suspended_providers_offerings_disappear_from_search_until_reinstated(
    app: CatalogApplication,
) -> None:
    ids = catalogue(app)
    app.suspend_provider(ids.provider("sole"), cmd.SuspendProvider(reason_code="audit"), "operator")
    assert "Teleassistenza" not in titles(app, page_size=100)
    assert titles(app, text="physiotherapy") == []
    app.reinstate_provider(ids.provider("sole"), "operator")
    assert titles(app, text="physiotherapy") == ["Fisioterapia a domicilio"]


@scenario
def a_withdrawn_offering_leaves_the_search(app: CatalogApplication) -> None:
    ids = catalogue(app)
    app.withdraw_offering(ids.offering("tele"), cmd.WithdrawOffering())
    assert titles(app, delivery_mode="remote") == []
    assert titles(app, text="teleassistenza") == []


@scenario
def a_price_change_keeps_the_history_and_search_shows_the_new_price(
    app: CatalogApplication,
) -> None:
    ids = catalogue(app)
    care = ids.offering("care")
    before = datetime.now(UTC)
    app.change_price(care, cmd.ChangePrice(price_cents=2400, unit="hour"))
    assert app.price_at(care, before).price_cents == 2200
    assert app.price_at(care, datetime.now(UTC)).price_cents == 2400
    found = app.search(SearchQuery(text="assistenza domiciliare")).items
    assert [h.price_cents for h in found] == [2400]


@scenario
def the_read_model_is_rebuilt_from_the_event_log(app: CatalogApplication) -> None:
    catalogue(app)
    expected = titles(app, sort="title")
    ranked = titles(app, text="assistenza")
    settings = app.catalog_settings
    model = app.read_model
    with model.engine.begin() as connection:
        for table in ("providers", "offerings"):
            assert connection.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one() > 0
    model.close()
    # A second read model on the same database, emptied, fills again from the log alone.
    fresh = ReadModel(settings.read_model_database_url(), schema=settings.read_model_schema())
    try:
        fresh.create(drop=True)
        assert fresh.position() == 0
        assert fresh.search(SearchQuery()).total == 0
        fresh.catch_up(app._notifications, app.recorder.max_notification_id() or 0)
        assert [h.title_it for h in fresh.search(SearchQuery(sort="title")).items] == expected
        assert [h.title_it for h in fresh.search(SearchQuery(text="assistenza")).items] == ranked
    finally:
        fresh.close()


@scenario
def italian_and_english_words_find_their_singulars_and_plurals(app: CatalogApplication) -> None:
    ids = catalogue(app)
    offer(
        app,
        ids.provider("rete"),
        title_it="Pasti a domicilio",
        title_en="Meals delivered to your home",
        description_it="Consegna dei pasti caldi dopo le fratture e le dimissioni",
        description_en="Hot meals after fractures",
        category="services_no_cap",
    )
    assert "Assistenza domiciliare anziani" in titles(app, text="anziano")
    assert titles(app, text="pasto") == ["Pasti a domicilio"]
    assert titles(app, text="frattura") == ["Pasti a domicilio"]
    assert titles(app, text="meal") == ["Pasti a domicilio"]
    homes = titles(app, text="homes")
    assert {"Assistenza domiciliare anziani", "Fisioterapia a domicilio"} <= set(homes)
    assert titles(app, text="servizio") == titles(app, text="servizi")
    assert titles(app, text="fisio") == ["Fisioterapia a domicilio"]  # prefixes still match


@scenario
def category_names_are_searchable_in_both_languages(app: CatalogApplication) -> None:
    catalogue(app)
    elderly = ["Assistenza domiciliare anziani", "Teleassistenza"]
    # "Teleassistenza" says nothing of the elderly: its category does.
    assert sorted(titles(app, text="elderly")) == elderly
    assert sorted(titles(app, text="anziani")) == elderly
    assert titles(app, text="infanzia") == ["Doposcuola"]
    assert titles(app, text="childcare") == ["Doposcuola"]


@scenario
def sorting_by_title_ignores_case_and_accents(app: CatalogApplication) -> None:
    ids = catalogue(app)
    offer(app, ids.provider("rete"), title_it="ginnastica dolce", title_en="Gentle gym")
    offer(app, ids.provider("rete"), title_it="Équipe infermieristica", title_en="Nurses")
    assert titles(app, sort="title") == [
        "Assistenza domiciliare anziani",
        "Doposcuola",
        "Équipe infermieristica",
        "Fisioterapia a domicilio",
        "ginnastica dolce",
        "Teleassistenza",
    ]


@scenario
def two_callers_holding_with_the_same_request_id_both_count_in_the_free_places(
    app: CatalogApplication,
) -> None:
    ids = catalogue(app)
    full = slot(app, ids.offering("physio"), capacity=3, days=5)
    app.hold_slot(full, cmd.HoldSlot(request_id="r1", quantity=2), "beneficiary:b1")
    app.hold_slot(full, cmd.HoldSlot(request_id="r1", quantity=1), "beneficiary:b2")
    today = datetime.now(UTC).date()
    assert [s["available"] for s in app.slots(ids.offering("physio"), today)] == [0]
    app.release_hold(full, "r1", "beneficiary:b2")
    assert [s["available"] for s in app.slots(ids.offering("physio"), today)] == [1]
    assert "Fisioterapia a domicilio" in titles(app, available_from=today)


@scenario
def a_plural_finds_the_singular_with_italian_and_english_stemming(
    app: CatalogApplication,
) -> None:
    catalogue(app)
    # "bambino" and "bambini" share the Italian stem, "homes" and "home" the English one.
    assert titles(app, text="bambino") == ["Doposcuola"]
    # The English stem matches whole: "homes" finds "home", not "homework" (Doposcuola).
    assert set(titles(app, text="homes")) == {
        "Assistenza domiciliare anziani",
        "Fisioterapia a domicilio",
    }
    # Stemming never replaces the prefix match: a word cut short still finds its offering.
    assert titles(app, text="riabilit") == ["Fisioterapia a domicilio"]


@scenario
def providers_sort_by_name_ignoring_case_and_accents(app: CatalogApplication) -> None:
    for provider_id, name, vat in (
        ("coop-il-sole", "Cooperativa Il Sole", VAT_IL_SOLE),
        ("bottega", "bottega solidale", VAT_BOTTEGA),
        ("ancora", "Àncora cooperativa", VAT_LA_RETE),
    ):
        app.register_provider(
            cmd.RegisterProvider(
                provider_id=provider_id,
                legal_name=name,
                kind="shop",
                vat_number=vat,
                municipalities=["096004"],
            )
        )
        app.accredit_provider(provider_id, "operator")
        app.affiliate_merchant(provider_id, cmd.AffiliateMerchant(goods_categories=["food"]))
    names = ["Àncora cooperativa", "bottega solidale", "Cooperativa Il Sole"]
    assert [p.legal_name for p in app.providers(ProviderQuery(sort="name")).items] == names
    assert [m["legal_name"] for m in app.merchants()] == names


@scenario
def a_title_that_folds_longer_than_it_is_written_is_found_and_sorted(
    app: CatalogApplication,
) -> None:
    ids = catalogue(app)
    # 200 characters, folded to 400 ("ß" is "ss"): the folded copy must fit its column.
    long = offer(app, ids.provider("rete"), title_it="ß" * 200, title_en="Long")
    assert "ß" * 200 in titles(app, sort="title")
    assert [h.offering_id for h in app.search(SearchQuery(text="long")).items] == [str(long)]
