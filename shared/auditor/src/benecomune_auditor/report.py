"""What a replay reports: what it read, the chain's breaks, the cut and the seal."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from benecomune_contracts.chain import ChainBreak

from benecomune_auditor.ledger_seal import LedgerSeal
from benecomune_auditor.records import ReadProblem

__all__ = ["ChainFinding", "ReplayReport"]


@dataclass(frozen=True)
class ChainFinding:
    """A break of the hash chain, naming the event and where it was read."""

    stream_id: str
    sequence: int
    type_name: str
    kind: str
    detail: str
    origin: str

    @classmethod
    def of(cls, brk: ChainBreak, origin: str) -> ChainFinding:
        return cls(brk.stream_id, brk.sequence, brk.type_name, brk.kind, brk.detail, origin)

    def describe(self) -> str:
        return (
            f"{self.kind}: {self.type_name} stream {self.stream_id} sequence {self.sequence} "
            f"({self.origin}): {self.detail}"
        )


@dataclass
class ReplayReport:
    """What the replay read and whether the event stream is intact."""

    source: str
    records: int = 0
    """Messages (Kafka) or notifications (store) read."""
    ledger_events: int = 0
    """Sound ledger events passed to the tally."""
    other_events: int = 0
    """Non-ledger contract events passed to the tally."""
    private_events: int = 0
    duplicates: int = 0
    streams: int = 0
    last_position: int = 0
    """The highest notification id replayed: the point a live service's figures are asked for."""
    incomplete_transaction_end: int | None = None
    """The end of a store transaction the topic stopped inside (:class:`IncompleteTransaction`):
    the copy is incomplete, the audit cannot be OK."""
    cut_at: int | None = None
    """A live topic's cut (:class:`~benecomune_auditor.topic_reader.cut.Cut`), if there was one."""
    left_for_next_audit: int = 0
    """Messages that landed after the audit started, beyond the cut: not replayed."""
    breaks: list[ChainFinding] = field(default_factory=list)
    problems: list[ReadProblem] = field(default_factory=list)
    seconds: float = 0.0
    seal: LedgerSeal | None = None
    """Every stream's head as read, and their seal (:mod:`benecomune_auditor.ledger_seal`)."""
    since: LedgerSeal | None = None
    """The earlier audit's heads this replay was checked against, if any."""

    @property
    def intact(self) -> bool:
        return not self.breaks and not self.problems and self.incomplete_transaction_end is None

    def as_dict(self) -> dict[str, Any]:
        data = {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if f.name not in ("breaks", "problems", "seal", "since")
        }
        data["breaks"] = [asdict(b) for b in self.breaks]
        data["problems"] = [asdict(p) for p in self.problems]
        data["intact"] = self.intact
        data["seconds"] = round(self.seconds, 3)
        data["seal"] = None if self.seal is None else self.seal.digest
        data["sealed_streams"] = 0 if self.seal is None else len(self.seal)
        data["since_seal"] = None if self.since is None else self.since.digest
        return data

    def chain_lines(self) -> list[str]:
        """The summary's lines about the chain: intact or every break and unreadable record,
        the earlier seal it was checked against, and this replay's seal."""
        if not self.breaks and not self.problems:
            lines = ["  hash chain: intact"]
        else:
            lines = [
                f"  hash chain: BROKEN — {len(self.breaks)} break(s), {len(self.problems)} "
                "unreadable record(s)"
            ]
            lines.extend(f"    {b.describe()}" for b in self.breaks)
            lines.extend(f"    {p.describe()}" for p in self.problems)
        if self.incomplete_transaction_end is not None:
            lines.append(
                f"  the topic is INCOMPLETE: no notification beyond {self.last_position} was "
                "replayed, inside a store transaction whose last published notification is "
                f"{self.incomplete_transaction_end} (ce_transactionend). If the relay is still "
                "publishing, audit again; if a later audit still misses it, the service names "
                "a notification it never published"
            )
        if self.cut_at is not None:
            lines.append(
                f"  the topic was moving or inside a store transaction: replayed up to "
                f"notification {self.cut_at}; {self.left_for_next_audit} message(s) that "
                "landed later are left for the next audit"
            )
        if self.since is not None:
            lines.append(
                f"  checked against an earlier audit's seal {self.since.digest} "
                f"({len(self.since)} stream heads): "
                + ("every sealed event is still there" if self.intact else "see the breaks above")
            )
        if self.seal is not None:
            line = f"  seal of this ledger: {self.seal.digest} ({len(self.seal)} stream heads); "
            if self.intact:
                line += (
                    "keep the heads file and publish the seal: the next audit checks with "
                    "--since that nothing sealed here was deleted or rewritten"
                )
            elif not self.breaks and not self.problems:
                line += "the topic is INCOMPLETE: publish this seal only with this report"
            else:
                line += (
                    "the chain is BROKEN: publish this seal only with this report (a stream "
                    "found deleted or rewritten keeps the earlier seal's head, so the next "
                    "audit names it again)"
                )
            lines.append(line)
        return lines
