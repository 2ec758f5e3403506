"""A ledger aggregate's events carry the hash of their public form and link to the previous
event of their stream, whether the aggregate was just created or changed many times."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any, ClassVar

import pytest
from benecomune_contracts.chain import GENESIS_HASH, ChainVerifier, LedgerEvent
from eventsourcing.domain import event
from servicekit.chain import ChainedAggregate, register_ledger_mapping


class Opened(LedgerEvent):
    type_name: ClassVar[str] = "benecomune.test.Opened.v1"
    topic: ClassVar[str] = "test"
    name: str
    at: datetime


class Moved(LedgerEvent):
    type_name: ClassVar[str] = "benecomune.test.Moved.v1"
    topic: ClassVar[str] = "test"
    amount_cents: int
    at: datetime


class Purse(ChainedAggregate):
    @event("Opened")
    def __init__(self, name: str) -> None:
        self.name = name
        self.cents = 0

    @event("Moved")
    def move(self, amount_cents: int) -> None:
        self.cents += amount_cents


class Unmapped(ChainedAggregate):
    @event("Opened")
    def __init__(self) -> None:
        pass


def public(e: Any) -> LedgerEvent:
    chain = {
        "stream_id": str(e.originator_id),
        "sequence": e.originator_version,
        "prev_hash": e.prev_hash,
        "event_hash": e.event_hash,
    }
    if isinstance(e, Purse.Opened):  # type: ignore[attr-defined]
        return Opened(**chain, name=e.name, at=e.timestamp)
    return Moved(**chain, amount_cents=e.amount_cents, at=e.timestamp)


register_ledger_mapping(public, Purse)


def test_every_event_carries_its_public_hash_and_links_to_the_one_before() -> None:
    purse = Purse("fondo")
    for amount in (500, -200, 1_000):
        purse.move(amount)
    events = purse.collect_events()
    contracts = [public(e) for e in events]

    assert [e.originator_version for e in events] == [1, 2, 3, 4]
    assert events[0].prev_hash == GENESIS_HASH
    for before, after in itertools.pairwise(events):
        assert after.prev_hash == before.event_hash
    for e, contract in zip(events, contracts, strict=True):
        assert e.event_hash == contract.computed_hash() != GENESIS_HASH
    verifier = ChainVerifier()
    assert verifier.feed_all(contracts) == contracts and not verifier.breaks
    assert purse.cents == 1_300 and purse.chain_head == events[-1].event_hash


def test_an_aggregate_without_a_mapping_is_refused_with_a_clear_error() -> None:
    with pytest.raises(RuntimeError, match="no ledger mapping registered for Unmapped"):
        Unmapped()
