"""``audit bookings``: the booking saga reconciled from the public topics alone (the booking's,
the wallet's, the vouchers service's and the catalog's), with the auditor's own copy of every
rule (:mod:`.tally`). Not a ledger: the booking topic has no hash chain and the booking service
keeps no money, so there is no seal; what is checked is that the money the wallet and the
vouchers service moved for bookings is exactly what the bookings say they paid, and that no
hold is released or left open without a reason.

Read problems (a message that is not a sound contract event) are reported and fail the audit.
Events re-published by a relay (the same CloudEvents id) are counted once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from benecomune_contracts.topics import BOOKING_TOPIC, CATALOG_TOPIC, VOUCHERS_TOPIC, WALLET_TOPIC

from benecomune_auditor.booking.tally import BookingTally, Hold, Violation
from benecomune_auditor.records import AuditRecord, IncompleteTransaction, ReadProblem

__all__ = ["TOPICS", "BookingAudit", "BookingTally", "Hold", "Violation", "audit_bookings"]

TOPICS = (BOOKING_TOPIC.name, WALLET_TOPIC.name, VOUCHERS_TOPIC.name, CATALOG_TOPIC.name)
"""The topics the audit reads (the territory's prefix added), the booking's first."""


@dataclass
class BookingAudit:
    """What the audit found: its figures, the violations and what could not be read."""

    source: str
    figures: dict[str, Any]
    violations: list[Violation]
    problems: list[str] = field(default_factory=list)
    generated_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    CSV_COLUMNS = ("kind", "rule", "booking_id", "component", "detail")

    @property
    def ok(self) -> bool:
        return not self.violations and not self.problems

    def summary_lines(self) -> list[str]:
        f = self.figures
        lines = [
            f"Booking audit of {self.source}",
            f"  {f['events']} events; as of {f['as_of']}",
            f"  bookings: {f['bookings_requested']} requested, {f['bookings_confirmed']} "
            f"confirmed, {f['bookings_compensated']} compensated, {f['bookings_cancelled']} "
            "cancelled",
            f"  components captured: {f['components_captured']} (wallet "
            f"{_euros(f['captured_wallet_cents'])}, vouchers "
            f"{_euros(f['captured_voucher_cents'])}, co-payment {_euros(f['co_payment_cents'])})",
            f"  holds: {f['holds_asked']} asked, {f['holds_open']} open "
            f"({_euros(f['held_open_cents'])})",
        ]
        if not f.get("slots_checked", True):
            lines.append("  slots not checked: the catalog topic was not read")
        lines += [f"UNREADABLE: {p}" for p in self.problems]
        lines += [f"VIOLATION {v.describe()}" for v in self.violations]
        lines.append("OK: every booking reconciles" if self.ok else "FAILED")
        return lines

    def as_dict(self) -> dict[str, Any]:
        return {
            "ledger": "booking",
            "source": self.source,
            "generated_at": self.generated_at.isoformat(),
            "ok": self.ok,
            "figures": self.figures,
            "violations": [v.__dict__ for v in self.violations],
            "problems": self.problems,
        }

    def csv_rows(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = [
            {"kind": "figure", "rule": name, "booking_id": "", "component": "", "detail": value}
            for name, value in self.figures.items()
        ]
        rows += [
            {"kind": "violation", "rule": v.rule, "booking_id": v.booking_id,
             "component": v.component or "", "detail": v.detail}
            for v in self.violations
        ]  # fmt: skip
        rows += [
            {"kind": "problem", "rule": "unreadable", "booking_id": "", "component": "",
             "detail": p}
            for p in self.problems
        ]  # fmt: skip
        return rows


def audit_bookings(
    items: Iterable[Any],
    *,
    source: str,
    as_of: datetime | None = None,
    read_catalog: bool = True,
) -> BookingAudit:
    """Replay ``items`` (contract events, or the readers' :class:`AuditRecord` and problems)
    into a tally and check it at ``as_of`` (default: the last event's time)."""
    tally = BookingTally(read_catalog=read_catalog)
    problems: list[str] = []
    seen: set[str] = set()
    for item in items:
        if isinstance(item, ReadProblem):
            problems.append(item.describe())
        elif isinstance(item, IncompleteTransaction):
            problems.append(f"topic ends inside a transaction (awaiting {item.awaited})")
        elif isinstance(item, AuditRecord):
            if item.event_id in seen:
                continue
            seen.add(item.event_id)
            tally.add(item.event)
        elif hasattr(item, "type_name"):
            tally.add(item)
    violations, figures = tally.finish(as_of)
    figures["slots_checked"] = read_catalog
    return BookingAudit(source, figures, violations, problems)


def _euros(cents: int) -> str:
    return f"€{cents // 100:,}.{cents % 100:02d}"
