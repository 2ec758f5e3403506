"""What a reader yields to the replay: a contract event with where it was read, or why a
message or stored event could not be read as one."""

from __future__ import annotations

from dataclasses import dataclass

from benecomune_contracts import ContractEvent

__all__ = ["AuditItem", "AuditRecord", "IncompleteTransaction", "PrivateEvent", "ReadProblem"]


@dataclass(slots=True)
class AuditRecord:
    """One contract event as read, with where it was read from. Read-only by convention: not
    frozen, because a frozen dataclass is slower to build and a replay builds one per event
    (docs/performance.md)."""

    event: ContractEvent
    origin: str
    """Where it was read: ``<topic>[<partition>]@<offset>`` or ``notification <id>``."""
    position: int
    """The producing service's notification-log id: the order the events were stored in."""
    event_id: str
    """The CloudEvents id (stable across re-publication): de-duplicates non-ledger events."""
    content_hash: str | None = None
    """A ledger event's hash as recomputed from its content by the reader (the Kafka reader's
    worker processes do it); None: :func:`replay` recomputes it."""


@dataclass(frozen=True)
class ReadProblem:
    """A message or stored event that could not be read as a sound contract event."""

    origin: str
    kind: str
    """``malformed_envelope``, ``unknown_type``, ``invalid_payload``, ``envelope_mismatch``,
    ``undecodable`` or ``truncated``."""
    detail: str
    stream_id: str | None = None
    sequence: int | None = None
    type_name: str | None = None

    def describe(self) -> str:
        where = ""
        if self.stream_id is not None:
            where = f" stream {self.stream_id}"
            if self.sequence is not None:
                where += f" sequence {self.sequence}"
        what = f" {self.type_name}" if self.type_name else ""
        return f"{self.kind}:{what}{where} ({self.origin}): {self.detail}"


@dataclass(frozen=True)
class PrivateEvent:
    """A stored domain event with no public contract (it never left the service)."""

    origin: str


@dataclass(frozen=True, slots=True)
class IncompleteTransaction:
    """The end of a topic's replay, when it stopped inside a store transaction: the relay had
    not published it whole (``awaited``: the transaction's last published notification, named
    by ``ce_transactionend``; ``reached``: the highest notification replayed)."""

    reached: int
    awaited: int


AuditItem = AuditRecord | ReadProblem | PrivateEvent | IncompleteTransaction
