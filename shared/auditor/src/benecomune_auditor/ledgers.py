"""The ledgers the auditor knows, as its command line drives them: each one's topic, its audit
(replay, tally, rules, report), how the service's figures are read (over the HTTP API or through
the store hook) and the title of its PDF summary. Nothing here imports a service: the service's
settings and store come from the hook it names (:mod:`benecomune_auditor.service_hooks`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Protocol

from benecomune_auditor.report import ReplayReport
from benecomune_auditor.service_hooks import LedgerStore

__all__ = ["LEDGER_NAMES", "AuditResult", "AuditedLedger", "audited_ledger"]


class AuditResult(Protocol):
    """What every ledger's audit returns (VouchersAudit, WalletAudit)."""

    CSV_COLUMNS: ClassVar[tuple[str, ...]]

    @property
    def generated_at(self) -> datetime: ...

    @property
    def ok(self) -> bool: ...

    @property
    def replay(self) -> ReplayReport: ...

    def as_dict(self) -> dict[str, Any]: ...

    def csv_rows(self) -> list[dict[str, Any]]: ...

    def summary_lines(self) -> list[str]: ...


@dataclass(frozen=True)
class AuditedLedger:
    """One ledger as the auditor's command drives it."""

    name: str
    """The ledger's name: the command's, the files' and the service's entry point's."""
    topic: str
    """The contract topic (before the territory's prefix)."""
    http_port: int
    """The service's default HTTP port (when its own settings are not installed)."""
    audit: Callable[..., AuditResult]
    """(items, source=, problems=, figures=, since=) -> the audit."""
    figures_from_store: Callable[[LedgerStore, int | None], Any]
    """(the store hook, the last notification id replayed or None) -> the service's figures."""
    figures_from_api: Callable[[str, str, int | None], Any]
    """(url, token, the last notification id replayed or None) -> the service's figures."""
    pdf_title: str | None = None


def _vouchers() -> AuditedLedger:
    from benecomune_contracts import VOUCHERS_TOPIC

    from benecomune_auditor import vouchers

    return AuditedLedger(
        name="vouchers",
        topic=VOUCHERS_TOPIC.name,
        http_port=8004,
        audit=vouchers.audit_vouchers,
        figures_from_store=vouchers.figures_from_store,
        figures_from_api=lambda url, token, upto: vouchers.figures_from_api(url, token, upto=upto),
        pdf_title="Rendicontazione buoni spesa - verifica del revisore",
    )


def _wallet() -> AuditedLedger:
    from benecomune_contracts import WALLET_TOPIC

    from benecomune_auditor import wallet

    return AuditedLedger(
        name="wallet",
        topic=WALLET_TOPIC.name,
        http_port=8002,
        audit=wallet.audit_wallet,
        figures_from_store=wallet.figures_from_store,
        figures_from_api=lambda url, token, upto: wallet.figures_from_api(url, token, upto=upto),
        pdf_title="Rendiconto welfare aziendale - verifica del revisore",
    )


_LEDGERS: dict[str, Callable[[], AuditedLedger]] = {"vouchers": _vouchers, "wallet": _wallet}
LEDGER_NAMES = tuple(_LEDGERS)


def audited_ledger(name: str) -> AuditedLedger:
    """The ledger called ``name`` (``KeyError`` if the auditor has no tally for it)."""
    return _LEDGERS[name]()
