"""The vouchers service's hook for the auditor (``benecomune_auditor``), named in the
``benecomune.audit_ledgers`` entry-point group of this package's ``pyproject.toml``.

The auditor imports no service and keeps its own copy of every rule it checks; what it asks of
the service is small and explicit: the service's settings (where its topic, store and API are),
and its store opened read-only for ``benecomune audit vouchers --from store`` and
``--compare store`` — each stored notification decoded to the contract event the relay
publishes, and the service's figures at a notification id, the same JSON as its
``GET /audit/figures?upto=N``. Nothing here imports the auditor.
"""

from __future__ import annotations

from typing import Any

from servicekit.audit_hook import LedgerStoreForAudit

from vouchers.application.app import VouchersApplication
from vouchers.settings import VouchersSettings

__all__ = ["HOOK", "VouchersAuditHook", "VouchersLedgerStore"]


class VouchersLedgerStore(LedgerStoreForAudit):
    """The vouchers store as the auditor reads it (``benecomune_auditor.service_hooks``'s
    ``LedgerStore``): the kit's reading of the log, and this service's figures."""

    app: VouchersApplication

    def figures_at(self, upto: int | None) -> dict[str, Any]:
        """Every fund's and shop account's figures once the events up to notification ``upto``
        were stored (None: now), as ``GET /audit/figures?upto=`` answers them."""
        app = self.app
        funds: list[dict[str, Any]] = []
        merchants: list[dict[str, Any]] = []
        if upto is not None:
            fund_list, merchant_list = app.figures_upto(upto)
            funds = [f.as_dict() for f in fund_list]
            merchants = [_merchant(m) for m in merchant_list]
            return {"funds": funds, "merchants": merchants}
        for fund in app.funds():
            funds.append(app.fund_figures(fund.id).as_dict())
            for round_id in fund.round_ids:
                for account in app.merchant_accounts(round_id):
                    merchants.append(_merchant(app.merchant_figures(round_id, account.merchant_id)))
        return {"funds": funds, "merchants": merchants}


def _merchant(figures: Any) -> dict[str, Any]:
    return {
        "round_id": str(figures.round_id),
        "merchant_id": figures.merchant_id,
        "redeemed_cents": figures.redeemed_cents,
        "claimed_cents": figures.claimed_cents,
        "approved_cents": figures.approved_cents,
        "reimbursed_cents": figures.reimbursed_cents,
    }


class VouchersAuditHook:
    """What the ``benecomune.audit_ledgers`` entry point ``vouchers`` names."""

    def settings(self, **overrides: Any) -> VouchersSettings:
        return VouchersSettings(**overrides)

    def open_store(self, settings: Any) -> VouchersLedgerStore:
        # The ledger alone: opening the vault or the index pepper would create them beside a
        # store copy the auditor only reads.
        return VouchersLedgerStore(VouchersApplication(settings, personal_data=False))


HOOK = VouchersAuditHook()
