"""What the vouchers handlers get from and save to: the event store (funds, rounds,
applications, vouchers, shop accounts got by id), its read model (every list and lookup,
caught up before each query) and the households' personal-data vault.

A handler (``vouchers.application.handlers``) takes the store first: get → change → save. One
that may meet a concurrent change to the same aggregates is ``@retried``: run again on fresh
state, so no rule is ever checked against stale state.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
from datetime import UTC, datetime
from typing import Any, ParamSpec, TypeVar
from uuid import UUID

from servicekit.domain import NotFound
from servicekit.projection import ReadModelStore, read_model_url
from servicekit.settings import ServiceSettings
from servicekit.store import ServiceApplication
from servicekit.vault import PersonalDataVault

from vouchers.adapters.contract_mapping import LEDGER_AGGREGATES, to_contract
from vouchers.adapters.read_model import VouchersProjection
from vouchers.application import views
from vouchers.application.views import ApplicationRow
from vouchers.domain.codes import voucher_id_for
from vouchers.domain.errors import NotAffiliated, UnknownMunicipality
from vouchers.domain.fund import Fund
from vouchers.domain.household_application import HouseholdApplication
from vouchers.domain.merchant import CreditHistory, MerchantAccount
from vouchers.domain.round import Round
from vouchers.domain.voucher import Voucher

P = ParamSpec("P")
R = TypeVar("R")


def now_utc() -> datetime:
    return datetime.now(UTC)


class VouchersStore(ServiceApplication):
    snapshotting_intervals = {MerchantAccount: 50, Round: 50}
    contract_mapper = to_contract
    ledger_aggregates = LEDGER_AGGREGATES
    vault: PersonalDataVault
    _pepper: bytes

    def __init__(
        self,
        settings: ServiceSettings,
        env: dict[str, Any] | None = None,
        *,
        personal_data: bool = True,
    ) -> None:
        """``personal_data=False`` opens the ledger alone, for the auditor: no vault and no
        index pepper are opened, so nothing is created beside the store being audited."""
        super().__init__(settings, {"IS_SNAPSHOTTING_ENABLED": "y", **(env or {})})
        # The auditor's ledger-only application creates no read model either: the few
        # lookups it makes read the log (``funds``, ``merchant_accounts``).
        self.ledger_only = not personal_data
        if personal_data:
            self.vault = PersonalDataVault.from_settings(settings)
            self._pepper = self._load_pepper()

    # --- read model (adapters/read_model.py; queries in application/views.py) -----------------

    def open_read_model(self) -> ReadModelStore | None:
        if self.ledger_only:
            return None  # the auditor's ledger-only application: nothing beside the store
        url, schema = read_model_url(self.settings, "vouchers-read.sqlite")
        return ReadModelStore(VouchersProjection(self.territory.zoneinfo), url, schema)

    def read_model_stores(self) -> list[ReadModelStore]:
        return [] if self.ledger_only else super().read_model_stores()

    def ranking(self, round_id: UUID) -> list[ApplicationRow]:
        """Approved and waitlisted applications in the order they are served
        (``domain.issuing``), read from the read model's index: only the round's candidates
        are read, however many applications the territory holds."""
        return views.ranking(self.fresh_read_model(), round_id)

    # --- aggregates by id ---------------------------------------------------------------------

    def get_fund(self, fund_id: UUID) -> Fund:
        return self.get_aggregate(fund_id, Fund, "fund")

    def get_round(self, round_id: UUID) -> Round:
        return self.get_aggregate(round_id, Round, "round")

    def get_application(self, application_id: UUID) -> HouseholdApplication:
        return self.get_aggregate(application_id, HouseholdApplication, "application")

    def get_voucher(self, voucher_id: UUID) -> Voucher:
        return self.get_aggregate(voucher_id, Voucher, "voucher")

    def voucher_by_code(self, code: str) -> Voucher:
        return self.get_voucher(voucher_id_for(code))

    def merchant_account(self, round_id: UUID, merchant_id: str) -> MerchantAccount:
        account_id = MerchantAccount.id_for(round_id, merchant_id)
        try:
            return self.get_aggregate(account_id, MerchantAccount, "merchant account")
        except NotFound:
            raise NotAffiliated(
                f"merchant {merchant_id} is not affiliated to the voucher's round"
            ) from None

    def merchant_ledger(self, account_id: UUID) -> CreditHistory:
        """The account's credits, voids and claims, read from its event history."""
        return CreditHistory(list(self.events.get(account_id)), self.territory.zoneinfo)

    def check_municipality(self, istat_code: str) -> None:
        if not self.territory.covers(istat_code):
            raise UnknownMunicipality(
                f"municipality {istat_code} is not part of territory {self.territory.id}"
            )

    # --- the one-application index ------------------------------------------------------------

    def index_key(self, round_id: UUID, fiscal_code: str) -> str:
        digest = hmac.new(self._pepper, fiscal_code.encode(), hashlib.sha256).hexdigest()
        return f"{round_id}/{digest}"

    def _load_pepper(self) -> bytes:
        """A secret that keeps the one-application index from revealing fiscal codes (a plain
        hash of a fiscal code can be reversed by trying them all). Created once, atomically."""
        path = self.settings.data_dir / f"{self.settings.service_name}-index.pepper"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            candidate = path.with_name(f"{path.name}.{secrets.token_hex(4)}.tmp")
            candidate.write_bytes(secrets.token_bytes(32))
            candidate.chmod(0o600)
            with contextlib.suppress(FileExistsError):
                os.link(candidate, path)  # the first process to link wins
            candidate.unlink(missing_ok=True)
        return path.read_bytes()
