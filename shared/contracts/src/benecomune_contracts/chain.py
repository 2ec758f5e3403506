"""The hash chain that makes a ledger stream tamper-evident.

Every ledger event carries its stream (the aggregate it belongs to: a fund, a round, a voucher,
a merchant account), its position in that stream, the hash of the previous event of the stream
and its own hash, computed over its whole public content. An auditor recomputes the hashes from
the events alone — read from Kafka or mapped from a service's store — so an edited event (its
hash no longer matches), a deleted one (a gap in the sequence, a broken link) or a reordered one
(a broken link) is detected and named. Exact duplicates, which at-least-once delivery produces,
are recognised and skipped.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import Field, StringConstraints

from benecomune_contracts.base import ContractEvent, Identifier

__all__ = [
    "GENESIS_HASH",
    "ChainBreak",
    "ChainVerifier",
    "LedgerEvent",
    "Sha256Hex",
    "ledger_hash",
]

GENESIS_HASH = "0" * 64
"""The ``prev_hash`` of the first event of every stream."""

Sha256Hex = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


def ledger_hash(type_name: str, content: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of an event's content (without its own hash)."""
    body = {"type": type_name, **content}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class LedgerEvent(ContractEvent):
    """A public event that moves or commits money, linked into its stream's hash chain."""

    stream_id: Identifier = Field(description="The ledger stream: the aggregate's id.")
    sequence: int = Field(strict=True, ge=1, description="Position in the stream, from 1.")
    prev_hash: Sha256Hex = Field(description="event_hash of the previous event of the stream.")
    event_hash: Sha256Hex = Field(description="SHA-256 of this event's content (see chain.py).")

    def computed_hash(self) -> str:
        return ledger_hash(self.type_name, self.model_dump(mode="json", exclude={"event_hash"}))


@dataclass(frozen=True)
class ChainBreak:
    """One problem found in a stream, naming the event involved."""

    stream_id: str
    sequence: int
    type_name: str
    kind: str  # "edited", "missing", "out_of_order", "forked"
    detail: str


class ChainVerifier:
    """Feed the events of any number of streams in the order they were read; collects breaks."""

    def __init__(self) -> None:
        self._heads: dict[str, tuple[int, str]] = {}
        self.breaks: list[ChainBreak] = []
        self.verified = 0
        self.duplicates = 0

    def feed(self, event: LedgerEvent) -> bool:
        """True when the event is new and sound (count it in a tally); False for a duplicate or
        a broken event (a break is recorded)."""
        head_sequence, head_hash = self._heads.get(event.stream_id, (0, GENESIS_HASH))
        if event.sequence <= head_sequence:
            if event.sequence == head_sequence and event.event_hash == head_hash:
                self.duplicates += 1
                return False
            self._break(
                event,
                "out_of_order" if event.sequence < head_sequence else "forked",
                f"sequence {event.sequence} arrived after {head_sequence}",
            )
            return False
        # The chain links claimed hashes, so an edited event is named once, not its successors.
        self._heads[event.stream_id] = (event.sequence, event.event_hash)
        sound = True
        if event.computed_hash() != event.event_hash:
            self._break(event, "edited", "its content does not match its event_hash")
            sound = False
        if event.sequence != head_sequence + 1:
            self._break(
                event, "missing", f"events {head_sequence + 1}..{event.sequence - 1} are missing"
            )
        elif event.prev_hash != head_hash:
            self._break(
                event,
                "edited",
                f"prev_hash does not match event {head_sequence}: that event was edited, "
                "replaced or reordered",
            )
        self.verified += sound
        return sound

    def feed_all(self, events: Iterable[LedgerEvent]) -> list[LedgerEvent]:
        return [event for event in events if self.feed(event)]

    def _break(self, event: LedgerEvent, kind: str, detail: str) -> None:
        self.breaks.append(
            ChainBreak(event.stream_id, event.sequence, event.type_name, kind, detail)
        )
