"""Catalog search latency on a catalogue of 10,000 offerings, against an in-run baseline.

Builds the catalogue through the real path (aggregates saved in the catalog's SQLite event store,
500 per save, then projected into the SQLAlchemy read model from the notification log), then
times typical searches and, as the baseline, a raw ``SELECT count(*) FROM offerings`` on the same
read-model file in the same run. Prints p50/p95 per query and the ratio to the baseline's p50.

Run: ``.venv/bin/python bench/catalog_search.py [--offerings 10000] [--repeat 200]``.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from catalog.adapters.read_model import SearchQuery
from catalog.application.app import CatalogApplication
from catalog.domain.offering import CATEGORIES, DELIVERY_MODES, Offering
from catalog.domain.provider import Provider
from catalog.domain.slot import Slot
from catalog.settings import CatalogSettings
from servicekit.italian_ids import vat_number_check_digit
from sqlalchemy import text

WORDS_IT = [
    "assistenza",
    "domiciliare",
    "anziani",
    "fisioterapia",
    "doposcuola",
    "pasti",
    "consegna",
    "teleassistenza",
    "infermiere",
    "trasporto",
    "disabili",
    "centro",
    "diurno",
    "psicologo",
    "logopedia",
    "badante",
    "compagnia",
    "spesa",
    "riabilitazione",
    "laboratorio",
]
WORDS_EN = [
    "care",
    "home",
    "elderly",
    "physiotherapy",
    "after-school",
    "meals",
    "delivery",
    "tele-assistance",
    "nurse",
    "transport",
    "disability",
    "day",
    "centre",
    "psychologist",
    "speech",
    "therapy",
    "companionship",
    "shopping",
    "rehabilitation",
    "workshop",
]


def vat(n: int) -> str:
    body = f"{n:07d}" + "001"
    return body + vat_number_check_digit(body)


def build(app: CatalogApplication, offerings: int, rng: random.Random) -> None:
    municipalities = [m.istat_code for m in app.territory.municipalities]
    providers: list[Provider] = []
    for i in range(50):
        p = Provider.apply(
            f"coop-{i:03d}", f"Cooperativa {i}", "coop_a", vat(1000 + i), None, municipalities
        )
        p.accredit("operator")
        providers.append(p)
    app.save(*providers)
    starts = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
    batch: list[object] = []
    for i in range(offerings):
        provider = providers[i % len(providers)]
        k = [rng.randrange(len(WORDS_IT)) for _ in range(4)]
        o = Offering.draft(
            provider.provider_id,
            {
                "it": " ".join(WORDS_IT[j] for j in k[:2]) + f" {i}",
                "en": " ".join(WORDS_EN[j] for j in k[:2]),
            },
            {"it": " ".join(WORDS_IT[j] for j in k), "en": " ".join(WORDS_EN[j] for j in k)},
            rng.choice(CATEGORIES),
            rng.choice(DELIVERY_MODES),
            rng.randrange(500, 20_000, 100),
            "hour",
            rng.sample(municipalities, 3),
        )
        o.publish()
        batch.append(o)
        if i % 4 == 0:
            s = starts + timedelta(days=rng.randrange(60))
            batch.append(Slot.open(o.id, o.provider_id, s, s + timedelta(hours=1), 3))
        if len(batch) >= 500:
            app.save(*batch)
            batch = []
    if batch:
        app.save(*batch)


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    for _ in range(10):
        fn()
    samples = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--offerings", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        settings = CatalogSettings(data_dir=Path(tmp), keys_dir=Path(tmp) / "keys")
        app = CatalogApplication(settings)
        t = time.perf_counter()
        build(app, args.offerings, rng)
        built = time.perf_counter() - t
        t = time.perf_counter()
        projected = app.catch_up()
        projection = time.perf_counter() - t
        model = app.read_model
        today = datetime.now(UTC).date()
        queries: dict[str, SearchQuery] = {
            "browse newest, page 1": SearchQuery(),
            "text 'assistenza domiciliare'": SearchQuery(text="assistenza domiciliare"),
            "text 'physio' (en prefix)": SearchQuery(text="physio"),
            "category + municipality": SearchQuery(category="elderly_care", municipality="096004"),
            "price range, price_asc, page 5": SearchQuery(
                min_price_cents=2000, max_price_cents=8000, sort="price_asc", page=5
            ),
            "text + delivery mode + municipality": SearchQuery(
                text="care", delivery_mode="at_home", municipality="096020"
            ),
            "available from a date + category": SearchQuery(
                available_from=today + timedelta(days=30), category="services_no_cap"
            ),
        }

        def baseline() -> object:
            with model.engine.connect() as connection:
                return connection.execute(text("SELECT count(*) FROM offerings")).scalar_one()

        base_p50, base_p95 = timed(baseline, args.repeat)
        print(
            f"catalogue: {args.offerings} offerings built in {built:.1f} s "
            f"({projected} events projected in {projection:.1f} s); {args.repeat} runs each"
        )
        print(f"{'query':42} {'hits':>6} {'p50 ms':>8} {'p95 ms':>8} {'p50 / baseline':>15}")
        label = "baseline: SELECT count(*) FROM offerings"
        print(f"{label:42} {'':>6} {base_p50:8.2f} {base_p95:8.2f} {1:15.1f}", flush=True)
        for name, query in queries.items():
            hits = model.search(query).total
            p50, p95 = timed(lambda q=query: model.search(q), args.repeat)  # type: ignore[misc]
            print(f"{name:42} {hits:6d} {p50:8.2f} {p95:8.2f} {p50 / base_p50:15.1f}", flush=True)
        app.close()


if __name__ == "__main__":
    main()
