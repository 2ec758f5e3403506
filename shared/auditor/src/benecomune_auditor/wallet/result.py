"""The wallet audit: the replay into a fresh tally, its violations and the comparison, as JSON,
CSV and the summary the command prints (:func:`audit_wallet`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

from benecomune_auditor.ledger_seal import LedgerSeal
from benecomune_auditor.records import AuditItem, ReadProblem
from benecomune_auditor.replay import replay_and_check
from benecomune_auditor.report import ReplayReport
from benecomune_auditor.wallet.comparison import Difference, ServiceFigures, compare
from benecomune_auditor.wallet.tally import Violation, WalletTally

__all__ = ["WalletAudit", "audit_wallet"]


@dataclass
class WalletAudit:
    replay: ReplayReport
    tally: WalletTally
    violations: list[Violation]
    differences: list[Difference] | None
    generated_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    compared_with: str | None = None
    """Whose figures, and at which point (``ServiceFigures.against``)."""

    CSV_COLUMNS: ClassVar[tuple[str, ...]] = (
        "level",
        "subject",
        "plan_id",
        "employer_id",
        "year",
        "figure",
        "cents",
    )

    @property
    def ok(self) -> bool:
        return self.replay.intact and not self.violations and not self.differences

    def csv_rows(self) -> list[dict[str, Any]]:
        """One row per plan figure, per taxable fringe amount and per account balance (cents):
        a long table the auditor can pivot as they like."""
        rows: list[dict[str, Any]] = []
        for plan_id, figures in sorted(self.tally.plan_figures().items()):
            plan = self.tally.plans[plan_id]
            for figure, cents in figures.items():
                rows.append(
                    {
                        "level": "plan",
                        "subject": plan_id,
                        "plan_id": plan_id,
                        "employer_id": plan.employer_id,
                        "year": plan.year,
                        "figure": figure,
                        "cents": cents,
                    }
                )
        for (employee, year), cents in sorted(self.tally.taxable_fringe().items()):
            rows.append(
                {
                    "level": "payroll",
                    "subject": employee,
                    "year": year,
                    "figure": "taxable_fringe_cents",
                    "cents": cents,
                }
            )
        for account, cents in sorted(self.tally.balances.items()):
            rows.append(
                {"level": "account", "subject": account, "figure": "balance", "cents": cents}
            )
        return [{column: row.get(column, "") for column in self.CSV_COLUMNS} for row in rows]

    def as_dict(self) -> dict[str, Any]:
        return {
            "audit": "wallet",
            "generated_at": self.generated_at.isoformat(),
            "ok": self.ok,
            "chain": self.replay.as_dict(),
            "accounts": dict(sorted(self.tally.balances.items())),
            "plans": self.tally.plan_figures(),
            "taxable_fringe": [
                {"employee_id": e, "year": y, "taxable_cents": cents}
                for (e, y), cents in sorted(self.tally.taxable_fringe().items())
            ],
            "violations": [asdict(v) for v in self.violations],
            "differences": None
            if self.differences is None
            else [asdict(d) for d in self.differences],
        }

    def summary_lines(self) -> list[str]:
        r = self.replay
        lines = [
            f"Wallet audit of {r.source}",
            f"  read {r.records} records: {r.ledger_events} ledger events in {r.streams} "
            f"streams verified, {len(self.tally.transfers)} transfers, {r.duplicates} "
            "duplicates skipped",
            *r.chain_lines(),
        ]
        if self.violations:
            lines.append(f"  ledger rules: {len(self.violations)} VIOLATION(S)")
            lines.extend(f"    {v.describe()}" for v in self.violations)
        else:
            lines.append(
                "  ledger rules: all hold (zero sum, nothing negative, fringe cap, bonus limit)"
            )
        against = f" with {self.compared_with}" if self.compared_with else ""
        if self.differences is None:
            lines.append("  comparison with the service: not made")
        elif not self.differences:
            lines.append(
                f"  comparison{against}: {len(self.tally.plans)} plan(s), every figure matches "
                "to the cent"
            )
        else:
            lines.append(f"  comparison{against}: {len(self.differences)} DIFFERENCE(S)")
            lines.extend(f"    {d.describe()}" for d in self.differences)
        lines.append("RESULT: " + ("OK" if self.ok else "FAILED"))
        return lines


def audit_wallet(
    items: Iterable[AuditItem],
    *,
    source: str,
    problems: Iterable[ReadProblem] = (),
    figures: ServiceFigures | Callable[[int], ServiceFigures | None] | None = None,
    since: LedgerSeal | None = None,
) -> WalletAudit:
    """Replay the events into a fresh tally, check the ledger rules and compare with the
    service's figures: given, or fetched by the callable *after* the replay, which is handed
    the last notification id the replay read, to ask for the figures at that point.
    ``since``: an earlier audit's seal, every head of which must still be in the ledger."""
    tally = WalletTally()
    report, violations = replay_and_check(
        items, tally, source=source, problems=problems, since=since
    )
    service = figures(report.last_position) if callable(figures) else figures
    differences = None if service is None else compare(tally, service)
    against = None if service is None else service.against
    return WalletAudit(report, tally, violations, differences, compared_with=against)
