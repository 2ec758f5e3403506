"""Ledger aggregates whose events form a tamper-evident hash chain.

Each event of a :class:`ChainedAggregate` stores the hash of the previous event of its stream and
its own hash, computed over its *public* form (the contract event the service maps it to), so the
auditor can verify the chain from the Kafka topic or from the store with the same function
(:class:`benecomune_contracts.chain.ChainVerifier`). Every event of a ledger stream is public:
a private one would leave a gap the auditor must flag.

The service registers its mapping once (``register_ledger_mapping``) — the same explicit
``to_contract`` function its relay uses.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID

from benecomune_contracts import ContractEvent
from benecomune_contracts.chain import GENESIS_HASH, LedgerEvent
from eventsourcing.utils import get_topic

from servicekit.correlation import current_correlation_id
from servicekit.domain import Aggregate

LedgerMapping = Callable[[Any], ContractEvent | None]
_mappings: dict[type[Any], LedgerMapping] = {}


def register_ledger_mapping(mapping: LedgerMapping, *aggregate_classes: type[Any]) -> None:
    for cls in aggregate_classes:
        _mappings[cls] = mapping


class ChainedAggregate(Aggregate):
    chain_head: str = GENESIS_HASH

    class Event(Aggregate.Event):
        prev_hash: str
        event_hash: str

        def mutate(self, aggregate: Any) -> Any:
            aggregate = super().mutate(aggregate)
            aggregate.chain_head = self.event_hash
            return aggregate

    class Created(Event, Aggregate.Created):
        pass

    @classmethod
    def _create(cls, event_class: Any, *, id: UUID | None = None, **kwargs: Any) -> Any:
        if id is None:
            accepted = inspect.signature(cls.create_id).parameters
            id = cls.create_id(**{k: v for k, v in kwargs.items() if k in accepted})
        kwargs = cls._link(event_class, kwargs, id, 1, GENESIS_HASH, get_topic(cls))
        return super()._create(event_class, id=id, **kwargs)

    def trigger_event(self, event_class: Any, **kwargs: Any) -> None:
        kwargs = self._link(event_class, kwargs, self.id, self.version + 1, self.chain_head, None)
        super().trigger_event(event_class, **kwargs)

    @classmethod
    def _link(
        cls,
        event_class: Any,
        kwargs: dict[str, Any],
        originator_id: UUID,
        version: int,
        prev_hash: str,
        originator_topic: str | None,
    ) -> dict[str, Any]:
        """Fix the event's timestamp, then hash its public form to fill in ``event_hash``."""
        mapping = _mappings.get(cls)
        if mapping is None:
            raise RuntimeError(
                f"no ledger mapping registered for {cls.__name__}: import the service's "
                "contract mapping before using its ledger aggregates"
            )
        timestamp: datetime = kwargs.get("timestamp") or event_class.create_timestamp()
        linked = {
            **kwargs,
            "timestamp": timestamp,
            "prev_hash": prev_hash,
            "correlation_id": kwargs.get("correlation_id", current_correlation_id()),
        }
        extra = {"originator_topic": originator_topic} if originator_topic else {}
        draft = event_class(
            originator_id=originator_id,
            originator_version=version,
            event_hash=GENESIS_HASH,  # a placeholder: the hash never covers itself
            **extra,
            **linked,
        )
        public = mapping(draft)
        if not isinstance(public, LedgerEvent):
            raise TypeError(
                f"{event_class.__qualname__} is an event of a ledger stream and must map to a "
                f"LedgerEvent contract, got {type(public).__name__}"
            )
        return {**linked, "event_hash": public.computed_hash()}
