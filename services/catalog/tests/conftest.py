"""Fixtures: a catalog application on a throw-away SQLite store, and a few ready-made records."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import pytest
from catalog.application import commands as cmd
from catalog.application.app import CatalogApplication
from catalog.settings import CatalogSettings

# Real, valid partite IVA (check digit included).
VAT_LA_RETE = "01114601006"
VAT_IL_SOLE = "00743110157"
VAT_BOTTEGA = "02083080248"


@pytest.fixture
def settings(tmp_path: Path) -> CatalogSettings:
    return CatalogSettings(data_dir=tmp_path / "data", keys_dir=tmp_path / "keys")


@pytest.fixture
def app(settings: CatalogSettings) -> Iterator[CatalogApplication]:
    application = CatalogApplication(settings)
    yield application
    application.close()


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
