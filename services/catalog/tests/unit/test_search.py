"""Search on the SQLite read model. The scenarios are shared with the PostgreSQL integration
tests (see scenarios.py): both databases must give the same answers."""

from __future__ import annotations

import pytest
from catalog.application.app import CatalogApplication

from ..scenarios import SCENARIOS, Scenario


@pytest.mark.parametrize("scenario", list(SCENARIOS.values()), ids=list(SCENARIOS))
def test_search_on_sqlite(app: CatalogApplication, scenario: Scenario) -> None:
    scenario(app)
