"""The vouchers audit: the replay into a fresh tally, its violations and the comparison, as
JSON, CSV and the summary the command prints (:func:`audit_vouchers`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

from benecomune_auditor.ledger_seal import LedgerSeal
from benecomune_auditor.records import AuditItem, ReadProblem
from benecomune_auditor.replay import replay_and_check
from benecomune_auditor.report import ReplayReport
from benecomune_auditor.vouchers.comparison import Comparison, ServiceFigures, compare
from benecomune_auditor.vouchers.entities import RoundTally
from benecomune_auditor.vouchers.naming import Violation, euro
from benecomune_auditor.vouchers.tally import VouchersTally

__all__ = ["VouchersAudit", "audit_vouchers"]


@dataclass
class VouchersAudit:
    replay: ReplayReport
    tally: VouchersTally
    violations: list[Violation]
    comparison: Comparison | None
    generated_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def ok(self) -> bool:
        """The chain is intact, every rule holds and every compared figure matches."""
        return (
            self.replay.intact
            and not self.violations
            and (self.comparison is None or not self.comparison.differences)
        )

    # --- JSON ---------------------------------------------------------------------------------

    def as_dict(self) -> dict[str, Any]:
        tally = self.tally
        figures = tally.fund_figures()
        funds = []
        for fund_id, fund in sorted(tally.funds.items()):
            funds.append(
                {
                    "fund_id": fund_id,
                    "municipality_istat": fund.municipality_istat,
                    **figures[fund_id],
                    "sources": [
                        {
                            "kind": s.kind,
                            "reference": s.reference,
                            "amount_cents": s.amount_cents,
                            "event": s.event.as_dict(),
                        }
                        for s in fund.sources
                    ],
                    "rounds": [self._round_dict(r) for r in tally.rounds_of(fund_id)],
                }
            )
        return {
            "audit": "vouchers",
            "generated_at": self.generated_at.isoformat(),
            "ok": self.ok,
            "chain": self.replay.as_dict(),
            "funds": funds,
            "merchants": [
                {
                    "account_id": m.account_id,
                    "round_id": m.round_id,
                    "merchant_id": m.merchant_id,
                    "vat_number": m.vat_number,
                    "redeemed_cents": m.redeemed_cents,
                    "claimed_cents": m.claimed_cents,
                    "approved_cents": m.approved_cents,
                    "reimbursed_cents": m.reimbursed_cents,
                    "outstanding_cents": m.outstanding_cents,
                    "redemptions": len(m.credits),
                    "voided": sum(1 for cr in m.credits.values() if cr.debited),
                    "claims": len(m.claims),
                }
                for m in sorted(tally.merchants.values(), key=lambda m: (m.round_id, m.merchant_id))
            ],
            "households": [
                asdict(h) for h in sorted(tally.households.values(), key=lambda h: h.household_id)
            ],
            "violations": [v.as_dict() for v in self.violations],
            "comparison": None if self.comparison is None else self.comparison.as_dict(),
        }

    def _round_dict(self, r: RoundTally) -> dict[str, Any]:
        merchants = [m for m in self.tally.merchants.values() if m.round_id == r.round_id]
        return {
            "round_id": r.round_id,
            "title": r.title,
            "budget_cents": r.budget_cents,
            "issued_cents": r.issued_cents,
            "redeemed_cents": sum(m.redeemed_cents for m in merchants),
            "reimbursed_cents": sum(m.reimbursed_cents for m in merchants),
            "returned_cents": r.returned_cents,
            "available_cents": r.available_cents,
            "households_served": len(r.commitments),
            "applications": dict(sorted(r.applications.items())),
            "closed": r.closed,
        }

    # --- CSV ----------------------------------------------------------------------------------

    CSV_COLUMNS: ClassVar[tuple[str, ...]] = (
        "level",
        "fund_id",
        "municipality_istat",
        "round_id",
        "merchant_id",
        "source_kind",
        "source_reference",
        "allocated_cents",
        "assigned_cents",
        "issued_cents",
        "redeemed_cents",
        "claimed_cents",
        "approved_cents",
        "reimbursed_cents",
        "returned_cents",
        "available_cents",
        "outstanding_cents",
    )

    def csv_rows(self) -> list[dict[str, Any]]:
        """One row per fund, per source of money of a fund, per round and per shop (merchant
        account in a round). Amounts in cents; a cell is empty where a figure does not apply
        (money is not earmarked by source once in a fund; a shop is owed, not allocated)."""
        tally = self.tally
        figures = tally.fund_figures()
        rows: list[dict[str, Any]] = []
        for fund_id, fund in sorted(tally.funds.items()):
            f = figures[fund_id]
            base = {"fund_id": fund_id, "municipality_istat": fund.municipality_istat}
            rows.append(
                {
                    "level": "fund",
                    **base,
                    "allocated_cents": f["allocated_cents"],
                    "assigned_cents": f["assigned_to_rounds_cents"],
                    "issued_cents": f["issued_cents"],
                    "redeemed_cents": f["redeemed_cents"],
                    "claimed_cents": sum(m.claimed_cents for m in tally.merchants_of(fund_id)),
                    "approved_cents": sum(m.approved_cents for m in tally.merchants_of(fund_id)),
                    "reimbursed_cents": f["reimbursed_cents"],
                    "returned_cents": f["returned_cents"],
                    "available_cents": f["available_cents"],
                    "outstanding_cents": f["redeemed_cents"] - f["reimbursed_cents"],
                }
            )
            for source in fund.sources:
                rows.append(
                    {
                        "level": "source",
                        **base,
                        "source_kind": source.kind,
                        "source_reference": source.reference,
                        "allocated_cents": source.amount_cents,
                    }
                )
            for r in tally.rounds_of(fund_id):
                merchants = [m for m in tally.merchants.values() if m.round_id == r.round_id]
                redeemed = sum(m.redeemed_cents for m in merchants)
                reimbursed = sum(m.reimbursed_cents for m in merchants)
                rows.append(
                    {
                        "level": "round",
                        **base,
                        "round_id": r.round_id,
                        "assigned_cents": r.budget_cents,
                        "issued_cents": r.issued_cents,
                        "redeemed_cents": redeemed,
                        "claimed_cents": sum(m.claimed_cents for m in merchants),
                        "approved_cents": sum(m.approved_cents for m in merchants),
                        "reimbursed_cents": reimbursed,
                        "returned_cents": r.returned_cents,
                        "available_cents": r.available_cents,
                        "outstanding_cents": redeemed - reimbursed,
                    }
                )
                for m in sorted(merchants, key=lambda m: m.merchant_id):
                    rows.append(
                        {
                            "level": "merchant",
                            **base,
                            "round_id": r.round_id,
                            "merchant_id": m.merchant_id,
                            "redeemed_cents": m.redeemed_cents,
                            "claimed_cents": m.claimed_cents,
                            "approved_cents": m.approved_cents,
                            "reimbursed_cents": m.reimbursed_cents,
                            "outstanding_cents": m.outstanding_cents,
                        }
                    )
        return [{column: row.get(column, "") for column in self.CSV_COLUMNS} for row in rows]

    # --- words --------------------------------------------------------------------------------

    def summary_lines(self) -> list[str]:
        r = self.replay
        lines = [
            f"Vouchers audit of {r.source}",
            f"  read {r.records} records in {r.seconds:.2f} s: {r.ledger_events} ledger events "
            f"in {r.streams} streams verified, {r.other_events} other events, "
            f"{r.duplicates} duplicates skipped, {r.private_events} private events",
        ]
        lines.extend(r.chain_lines())
        figures = self.tally.fund_figures()
        for fund_id, fund in sorted(self.tally.funds.items()):
            f = figures[fund_id]
            lines.append(
                f"  fund {fund_id} (municipality {fund.municipality_istat}): allocated "
                f"{euro(f['allocated_cents'])}, assigned {euro(f['assigned_to_rounds_cents'])}, "
                f"issued {euro(f['issued_cents'])}, redeemed {euro(f['redeemed_cents'])}, "
                f"reimbursed {euro(f['reimbursed_cents'])}, returned "
                f"{euro(f['returned_cents'])}, available {euro(f['available_cents'])}"
            )
            for source in fund.sources:  # where the money came from: the State, a donor
                lines.append(
                    f"    source {source.kind} {source.reference}: {euro(source.amount_cents)}"
                )
        for m in sorted(self.tally.merchants.values(), key=lambda m: (m.round_id, m.merchant_id)):
            lines.append(
                f"  shop {m.merchant_id} in round {m.round_id}: redeemed "
                f"{euro(m.redeemed_cents)}, claimed {euro(m.claimed_cents)}, approved "
                f"{euro(m.approved_cents)}, reimbursed {euro(m.reimbursed_cents)}"
            )
        lines.append(
            f"  {len(self.tally.rounds)} rounds, {len(self.tally.merchants)} shop accounts, "
            f"{len(self.tally.households)} households, {len(self.tally.vouchers)} vouchers"
        )
        if self.violations:
            lines.append(f"  money rules: {len(self.violations)} VIOLATION(S)")
            for v in self.violations:
                lines.append(f"    {v.describe()}")
                lines.extend(f"      - {e.describe()}" for e in v.events)
        else:
            lines.append(
                "  money rules: all hold (issued ≤ allocated, redeemed ≤ issued, "
                "reimbursed ≤ redeemed, no voucher below zero, streams agree)"
            )
        if self.comparison is None:
            lines.append("  comparison with the service: not made")
        elif not self.comparison.differences:
            lines.append(
                f"  comparison with {self.comparison.against}: {self.comparison.funds} fund(s), "
                f"{self.comparison.merchants} shop account(s), every figure matches to the cent"
            )
        else:
            lines.append(
                f"  comparison with {self.comparison.against}: "
                f"{len(self.comparison.differences)} DIFFERENCE(S)"
            )
            for d in self.comparison.differences:
                lines.append(f"    {d.describe()}")
                lines.extend(f"      - {e.describe()}" for e in d.events)
        lines.append("RESULT: " + ("OK" if self.ok else "FAILED"))
        return lines


def audit_vouchers(
    items: Iterable[AuditItem],
    *,
    source: str,
    problems: Iterable[ReadProblem] = (),
    figures: ServiceFigures | Callable[[int], ServiceFigures | None] | None = None,
    since: LedgerSeal | None = None,
) -> VouchersAudit:
    """Replay the events into a fresh tally, check the rules and compare with the service's
    figures: given, or fetched by the callable *after* the replay, which is handed the last
    notification id the replay read, to ask the service for its figures at that point.
    ``since``: an earlier audit's seal, every head of which must still be in the ledger."""
    tally = VouchersTally()
    report, violations = replay_and_check(
        items, tally, source=source, problems=problems, since=since
    )
    service = figures(report.last_position) if callable(figures) else figures
    comparison = None if service is None else compare(tally, service)
    return VouchersAudit(report, tally, violations, comparison)
