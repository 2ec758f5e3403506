"""The wallet service's hook for the auditor (``benecomune_auditor``), named in the
``benecomune.audit_ledgers`` entry-point group of this package's ``pyproject.toml``.

The auditor imports no service and keeps its own copy of every rule it checks (which accounts
may go negative, when a fringe year is taxable); what it asks of the service is small and
explicit: the service's settings, and its store opened for ``benecomune audit wallet --from
store`` and ``--compare store`` — each stored notification decoded to the contract event the
relay publishes, and the plan statements and payroll lines at a notification id, the same JSON
as its ``GET /audit/figures?upto=N``. Nothing here imports the auditor.
"""

from __future__ import annotations

from typing import Any

from servicekit.audit_hook import LedgerStoreForAudit

from wallet.application.app import WalletApplication
from wallet.settings import WalletSettings

__all__ = ["HOOK", "WalletAuditHook", "WalletLedgerStore"]


class WalletLedgerStore(LedgerStoreForAudit):
    """The wallet store as the auditor reads it (``benecomune_auditor.service_hooks``'s
    ``LedgerStore``): the kit's reading of the log, and this service's figures."""

    app: WalletApplication

    def figures_at(self, upto: int | None) -> dict[str, Any]:
        """Every plan's statement and payroll line once the events up to notification ``upto``
        were stored (None: now), as ``GET /audit/figures?upto=`` answers them."""
        app = self.app
        if upto is not None:
            statements, payroll = app.figures_upto(upto)
            return {
                "plans": [s.as_dict() for s in statements],
                "payroll": [_payroll(line) for line in payroll],
            }
        plans: list[dict[str, Any]] = []
        years: set[int] = set()
        for plan in app.plans_of(None):
            plans.append(app.plan_figures(plan.id).as_dict())
            years.add(plan.year)
        lines = [
            _payroll(line)
            for year in sorted(years)
            for line in app.payroll(None, year, check_year=False)
        ]
        return {"plans": plans, "payroll": lines}


def _payroll(line: Any) -> dict[str, Any]:
    return {"employee_id": line.employee_id, "year": line.year, "taxable_cents": line.taxable_cents}


class WalletAuditHook:
    """What the ``benecomune.audit_ledgers`` entry point ``wallet`` names."""

    def settings(self, **overrides: Any) -> WalletSettings:
        return WalletSettings(**overrides)

    def open_store(self, settings: Any) -> WalletLedgerStore:
        return WalletLedgerStore(WalletApplication(settings))


HOOK = WalletAuditHook()
