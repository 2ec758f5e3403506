"""A household's personal data, sealed with its own key in the vault: opened for those who may
read it, erased on request (the ledger stays intact)."""

from __future__ import annotations

from typing import Any, Protocol
from uuid import UUID

from vouchers.application import views
from vouchers.application.store import VouchersStore
from vouchers.domain.errors import InvalidTransition

PENDING = ("submitted", "approved", "waitlisted")


class Sealed(Protocol):
    """What a household's application (the aggregate or a read model's row) holds sealed."""

    @property
    def household_id(self) -> UUID: ...
    @property
    def sealed_personal_data(self) -> str: ...
    @property
    def reason(self) -> str | None: ...
    @property
    def sealed_reason(self) -> str | None: ...
    @property
    def sealed_codes(self) -> str: ...


def erase_household(store: VouchersStore, household_id: UUID) -> bool:
    """Erase a household's personal data (its key). Refused while one of its applications is
    still pending: serving it needs the household's key (its voucher codes are sealed with
    it), so reject it first or erase after it is served."""
    model = store.fresh_read_model()
    for application_id in views.application_ids_of_household(model, household_id):
        application = store.get_application(application_id)
        if application.status in PENDING:
            raise InvalidTransition(
                f"application {application.id} is still {application.status}: reject "
                "it first, or erase the household's data once it is served"
            )
    return store.vault.erase(str(household_id))


def personal_data(store: VouchersStore, application: Sealed) -> dict[str, Any] | None:
    return store.vault.open(str(application.household_id), application.sealed_personal_data)


def rejection_reason(store: VouchersStore, application: Sealed) -> str | None:
    """The social worker's words, unless the household was erased since."""
    if application.sealed_reason is None:
        return application.reason  # recorded in clear, before reasons were sealed
    opened = store.vault.open(str(application.household_id), application.sealed_reason)
    return None if opened is None else str(opened["reason"])


def codes_of(store: VouchersStore, application: Sealed) -> list[str]:
    """The voucher codes of a served household (sealed with its key), for its holder."""
    if not application.sealed_codes:
        return []
    opened = store.vault.open(str(application.household_id), application.sealed_codes)
    return list(opened["codes"]) if opened else []
