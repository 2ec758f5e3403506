"""What the catalog's handlers get from and save to: the event store (providers, offerings,
slots and packages got by id), its read model (every list and the search, caught up before each
query) and the vault where contact persons' personal data is sealed.

A handler (:mod:`catalog.application.handlers`) takes the store first: get → change → save. One
that may meet a concurrent change to the same aggregates is ``@retried``: run again on fresh
state, so no rule is ever checked against stale state.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any, ParamSpec, TypeVar, cast
from uuid import UUID

from servicekit.projection import notifications_of
from servicekit.settings import ServiceSettings
from servicekit.store import ServiceApplication
from servicekit.vault import PersonalDataVault

from catalog.adapters.read_model import ReadModel
from catalog.domain.errors import UnknownMunicipality
from catalog.domain.offering import Offering
from catalog.domain.package import Package
from catalog.domain.provider import Provider, provider_aggregate_id
from catalog.domain.slot import Slot
from catalog.settings import CatalogSettings

P = ParamSpec("P")
R = TypeVar("R")
S = TypeVar("S", bound=ServiceApplication)


def now_utc() -> datetime:
    return datetime.now(UTC)


class CatalogStore(ServiceApplication):
    """The catalog's event store with its read model and vault (see the module's docstring)."""

    def __init__(self, settings: ServiceSettings, env: dict[str, Any] | None = None) -> None:
        if not isinstance(settings, CatalogSettings):
            raise TypeError("the catalog application needs CatalogSettings")
        self.catalog_settings = settings
        super().__init__(settings, env)
        self._vault: PersonalDataVault | None = None
        self._vault_lock = threading.Lock()

    def close(self) -> None:
        if self._vault is not None:
            self._vault.close()
        super().close()

    @property
    def vault(self) -> PersonalDataVault:
        """Where contact persons' personal data is sealed (beside the event store)."""
        if self._vault is None:
            with self._vault_lock:
                if self._vault is None:
                    self._vault = PersonalDataVault.from_settings(self.catalog_settings)
        return self._vault

    # --- the read model -----------------------------------------------------------------------

    def open_read_model(self) -> ReadModel:
        return ReadModel(
            self.catalog_settings.read_model_database_url(),
            schema=self.catalog_settings.read_model_schema(),
        )

    @property
    def read_model(self) -> ReadModel:
        return cast(ReadModel, super().read_model)

    def catch_up(self) -> int:
        """Project the events saved since the read model's position (this process's and any
        other's); cheap when nothing is new."""
        return self.catch_up_read_models()

    def fresh_read_model(self) -> ReadModel:
        """The read model, caught up: a query on it sees every write made before it."""
        return cast(ReadModel, super().fresh_read_model())

    def _notifications(self, start: int, limit: int) -> list[tuple[int, object]]:
        return notifications_of(self)(start, limit)

    # --- aggregates by id ---------------------------------------------------------------------

    def get_provider(self, provider_id: str) -> Provider:
        return self.get_aggregate(provider_aggregate_id(provider_id), Provider, "provider")

    def get_offering(self, offering_id: UUID) -> Offering:
        return self.get_aggregate(offering_id, Offering, "offering")

    def get_slot(self, slot_id: UUID) -> Slot:
        return self.get_aggregate(slot_id, Slot, "slot")

    def get_package(self, package_id: UUID) -> Package:
        return self.get_aggregate(package_id, Package, "package")

    def check_municipality(self, istat_code: str) -> None:
        if not self.territory.covers(istat_code):
            raise UnknownMunicipality(
                f"municipality {istat_code} is not part of territory {self.territory.id}"
            )
