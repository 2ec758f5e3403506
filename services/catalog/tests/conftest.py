"""Fixtures: a catalog application on a throw-away SQLite store, and a few ready-made records
(kept in scenarios.py, which the PostgreSQL integration tests share)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from catalog.application.app import CatalogApplication
from catalog.settings import CatalogSettings
from fastapi.testclient import TestClient
from servicekit.auth import DevIssuer
from servicekit.http import create_http_app
from servicekit.service import ServiceRuntime

from .scenarios import VAT_BOTTEGA, VAT_IL_SOLE, VAT_LA_RETE, offer, register, slot

__all__ = ["VAT_BOTTEGA", "VAT_IL_SOLE", "VAT_LA_RETE", "as_", "offer", "register", "slot"]


@pytest.fixture
def settings(tmp_path: Path) -> CatalogSettings:
    return CatalogSettings(data_dir=tmp_path / "data", keys_dir=tmp_path / "keys")


@pytest.fixture
def app(settings: CatalogSettings) -> Iterator[CatalogApplication]:
    application = CatalogApplication(settings)
    yield application
    application.close()


@pytest.fixture
def client(settings: CatalogSettings) -> Iterator[TestClient]:
    """The catalog's HTTP API over a fresh store (no workers: the read model catches up on
    each query)."""
    from catalog.service import DEFINITION

    runtime = ServiceRuntime(DEFINITION, settings)
    with TestClient(create_http_app(runtime, with_workers=False)) as test_client:
        yield test_client
    runtime.application.close()


@pytest.fixture
def issuer(settings: CatalogSettings) -> DevIssuer:
    return DevIssuer("biella", settings.keys_dir)


def as_(issuer: DevIssuer, role: str, subject: str | None = None) -> dict[str, str]:
    """The Authorization header of a development token for this role (and party)."""
    return {"Authorization": f"Bearer {issuer.mint(role, subject)}"}
