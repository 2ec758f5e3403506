"""Fixtures: a portal for a territory (Biella by default) with its own keys in a temporary
directory, served in-process through Starlette's test client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from portal.app import create_app
from portal.settings import PortalSettings


def portal_settings(tmp_path: Path, territory: str = "biella", **changes: object) -> PortalSettings:
    return PortalSettings(
        territory=territory,
        keys_dir=tmp_path / "keys",
        catalog_url=str(changes.pop("catalog_url", "http://127.0.0.1:9")),
        http_timeout_seconds=2.0,
        **changes,  # type: ignore[arg-type]
    )


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(portal_settings(tmp_path)), base_url="http://127.0.0.1") as c:
        yield c
