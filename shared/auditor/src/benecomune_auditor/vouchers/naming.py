"""How the vouchers audit names what it found: an event (stream, sequence, type, where it was
read), the events behind a figure (a trail), a broken money rule, and an amount in euros."""

from __future__ import annotations

import functools
import heapq
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from benecomune_contracts.chain import LedgerEvent

from benecomune_auditor.records import AuditRecord

__all__ = ["EventRef", "Trail", "Violation", "euro", "short_type"]

TRAIL_LENGTH = 5


def euro(cents: int) -> str:
    """Cents as Italian-formatted euros, e.g. ``1.234,56 €``."""
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(cents), 100)
    return f"{sign}{whole:,}".replace(",", ".") + f",{rest:02d} €"


@dataclass(order=True, slots=True, unsafe_hash=True)
class EventRef:
    """An event as the auditor names it: stream, sequence, type, and where it was read.
    Read-only by convention (hashed by its fields): not frozen, because the tally builds one
    per event and a frozen dataclass is slower to build (docs/performance.md)."""

    position: int
    stream_id: str
    sequence: int | None
    type_name: str
    origin: str

    @classmethod
    def of(cls, record: AuditRecord, stream_id: str | None = None) -> EventRef:
        event = record.event
        if isinstance(event, LedgerEvent):
            stream, sequence = event.stream_id, event.sequence
        else:
            stream, sequence = stream_id or "", None
        return cls(record.position, stream, sequence, short_type(event.type_name), record.origin)

    def describe(self) -> str:
        sequence = "" if self.sequence is None else f" sequence {self.sequence}"
        return f"{self.type_name} stream {self.stream_id}{sequence} ({self.origin})"

    def as_dict(self) -> dict[str, Any]:
        return {
            "stream_id": self.stream_id,
            "sequence": self.sequence,
            "type": self.type_name,
            "origin": self.origin,
        }


@functools.cache
def short_type(type_name: str) -> str:
    """``benecomune.vouchers.VoucherRedeemed.v1`` → ``VoucherRedeemed``."""
    parts = type_name.split(".")
    return parts[2] if len(parts) == 4 else type_name


class Trail:
    """How many events made a figure, and the last few of them (to name in a difference)."""

    def __init__(self) -> None:
        self.events = 0
        self.last: deque[EventRef] = deque(maxlen=TRAIL_LENGTH)

    def add(self, ref: EventRef) -> None:
        self.events += 1
        self.last.append(ref)

    @staticmethod
    def merged(trails: Iterable[Trail]) -> Trail:
        merged = Trail()
        trails = list(trails)
        merged.events = sum(t.events for t in trails)
        merged.last.extend(heapq.nlargest(TRAIL_LENGTH, (r for t in trails for r in t.last))[::-1])
        return merged


@dataclass(frozen=True)
class Violation:
    """A money rule the events break."""

    rule: str
    subject: str
    detail: str
    events: tuple[EventRef, ...]

    def describe(self) -> str:
        return f"[{self.rule}] {self.subject}: {self.detail}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "subject": self.subject,
            "detail": self.detail,
            "events": [e.as_dict() for e in self.events],
        }
