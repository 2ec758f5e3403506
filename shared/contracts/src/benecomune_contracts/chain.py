"""The hash chain that makes a ledger stream tamper-evident.

Every ledger event carries its stream (the aggregate it belongs to: a fund, a round, a voucher,
a merchant account), its position in that stream, the hash of the previous event of the stream
and its own hash, computed over its whole public content. An auditor recomputes the hashes from
the events alone — read from Kafka or mapped from a service's store — so an edited event (its
hash no longer matches), a deleted one (a gap in the sequence, a broken link) or a reordered one
(a broken link) is detected and named. Exact duplicates, which at-least-once delivery produces,
are recognised and skipped.

A chain alone cannot see its own end cut off: deleting a stream's last events, or rewriting
them with their hashes recomputed, leaves a shorter chain that verifies. So the verifier also
takes *anchors*, the stream heads an earlier audit sealed (``servicekit.ledger_seal``): a stream
that now ends before its anchored head, or whose anchored event now claims another hash, is a
break too.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, NamedTuple

import orjson
from pydantic import Field, StringConstraints

from benecomune_contracts.base import ContractEvent, Identifier

__all__ = [
    "GENESIS_HASH",
    "ChainBreak",
    "ChainVerifier",
    "LedgerEvent",
    "Sha256Hex",
    "StreamHead",
    "canonical_json",
    "ledger_hash",
]

GENESIS_HASH = "0" * 64
"""The ``prev_hash`` of the first event of every stream."""

Sha256Hex = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


def ledger_hash(type_name: str, content: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of an event's content (without its own hash).

    The canonical JSON is ``json.dumps(body, sort_keys=True, separators=(",", ":"),
    ensure_ascii=False)`` encoded as UTF-8, where ``body`` is ``{"type": type_name, **content}``.
    That definition is the hash's, forever: every stored and published event was hashed with it.
    """
    return hashlib.sha256(canonical_json({"type": type_name, **content})).hexdigest()


def canonical_json(body: dict[str, Any]) -> bytes:
    """``json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)`` as UTF-8,
    byte for byte, written by orjson when that gives the same bytes (3-4 times faster).

    orjson writes the same bytes for what a contract event's JSON form is made of — ``str``,
    ``int`` up to 64 bits, ``bool``, ``None``, and dicts with ``str`` keys and lists of them —
    (same escapes, raw UTF-8, keys sorted by code point; checked in the tests over every code
    point). It writes floats differently (``1e-05``: ``0.00001``) and serialises types
    ``json`` refuses (datetimes), so anything else, a float included, takes the ``json`` path;
    so does whatever orjson refuses (an int over 64 bits, a lone surrogate: then ``json``
    decides, as it always did).
    """
    try:
        if _orjson_writes_as_json(body):
            return orjson.dumps(body, option=orjson.OPT_SORT_KEYS)
    except (TypeError, RecursionError):  # orjson.JSONEncodeError: an int over 64 bits, ...
        pass
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8")


_SCALARS = frozenset({str, int, bool, type(None)})


def _orjson_writes_as_json(container: Any) -> bool:
    """Whether every value inside a dict or list is of an exact type orjson and json write
    alike."""
    for value in container.values() if type(container) is dict else container:
        kind = type(value)
        if kind in _SCALARS:
            continue
        if (kind is dict or kind is list) and _orjson_writes_as_json(value):
            continue
        return False
    return True


_OWN_HASH = {"event_hash"}


class LedgerEvent(ContractEvent):
    """A public event that moves or commits money, linked into its stream's hash chain."""

    stream_id: Identifier = Field(description="The ledger stream: the aggregate's id.")
    sequence: int = Field(strict=True, ge=1, description="Position in the stream, from 1.")
    prev_hash: Sha256Hex = Field(description="event_hash of the previous event of the stream.")
    event_hash: Sha256Hex = Field(description="SHA-256 of this event's content (see chain.py).")

    def computed_hash(self) -> str:
        return ledger_hash(self.type_name, self.model_dump(mode="json", exclude=_OWN_HASH))


@dataclass(frozen=True)
class ChainBreak:
    """One problem found in a stream, naming the event involved."""

    stream_id: str
    sequence: int
    type_name: str
    kind: str  # "edited", "missing", "out_of_order", "forked", "rewritten", "deleted"
    detail: str


class StreamHead(NamedTuple):
    """The last event of a stream: where its chain ends."""

    sequence: int
    event_hash: str
    type_name: str


_NO_HEAD = StreamHead(0, GENESIS_HASH, "")


class ChainVerifier:
    """Feed the events of any number of streams in the order they were read; collects breaks.

    ``anchors`` are stream heads sealed by an earlier audit: each anchored event must still be
    there with the hash it had (checked as it comes), and :meth:`check_anchors` names the
    streams that now end before their anchor."""

    def __init__(self, anchors: Mapping[str, tuple[int, str, str]] | None = None) -> None:
        self._heads: dict[str, tuple[int, str, str]] = {}
        # (sequence, event_hash, type_name), as a StreamHead has them.
        self._anchors: Mapping[str, tuple[int, str, str]] = anchors or {}
        self.breaks: list[ChainBreak] = []
        self.verified = 0
        self.duplicates = 0

    @property
    def heads(self) -> Mapping[str, tuple[int, str, str]]:
        """Each stream's head as read: ``(sequence, event_hash, type_name)``."""
        return self._heads

    def feed(self, event: LedgerEvent, computed_hash: str | None = None) -> bool:
        """True when the event is new and sound (count it in a tally); False for a duplicate or
        a broken event (a break is recorded).

        ``computed_hash`` is ``event.computed_hash()`` when the caller has already computed it
        (the auditor's Kafka reader does, in its worker processes, from the same bytes); by
        default the verifier computes it. Never pass the hash the event *claims*."""
        head_sequence, head_hash, _ = self._heads.get(event.stream_id, _NO_HEAD)
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
        self._heads[event.stream_id] = (event.sequence, event.event_hash, event.type_name)
        sound = True
        if computed_hash is None:
            computed_hash = event.computed_hash()
        if computed_hash != event.event_hash:
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
        if self._anchors:
            anchor = self._anchors.get(event.stream_id)
            if anchor is not None and anchor[0] == event.sequence and anchor[1] != event.event_hash:
                self._break(
                    event,
                    "rewritten",
                    f"an earlier audit sealed this event with hash {anchor[1][:16]}…, "
                    f"it now claims {event.event_hash[:16]}…: this event or one before it was "
                    "rewritten (hashes recomputed) since that audit",
                )
        self.verified += sound
        return sound

    def check_anchors(self) -> list[ChainBreak]:
        """After the last event: a break for every anchored stream that now ends before its
        anchor (its last events, or all of them, deleted since the earlier audit)."""
        found = []
        heads = self._heads
        for stream_id, (sealed, _, type_name) in self._anchors.items():
            head = heads.get(stream_id)
            reached = 0 if head is None else head[0]
            if reached >= sealed:
                continue
            now = "has no event of it" if head is None else f"now ends at sequence {reached}"
            brk = ChainBreak(
                stream_id,
                sealed,
                type_name,
                "deleted",
                f"an earlier audit sealed this stream up to sequence {sealed}; the ledger "
                f"{now}: events {reached + 1}..{sealed} were deleted",
            )
            found.append(brk)
        self.breaks.extend(found)
        return found

    def feed_all(self, events: Iterable[LedgerEvent]) -> list[LedgerEvent]:
        return [event for event in events if self.feed(event)]

    def _break(self, event: LedgerEvent, kind: str, detail: str) -> None:
        self.breaks.append(
            ChainBreak(event.stream_id, event.sequence, event.type_name, kind, detail)
        )
