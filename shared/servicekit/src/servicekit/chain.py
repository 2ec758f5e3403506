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
        """As eventsourcing's ``trigger_event``, building the event once: it is built with a
        placeholder hash, its public form hashed, and the hash set before anything else sees
        it (a second build of every ledger event was a fifth of a redemption's domain time)."""
        if getattr(type(self), "TOPIC", None):  # the library's checks for explicit topics
            kwargs = self._link(
                event_class, kwargs, self.id, self.version + 1, self.chain_head, None
            )
            super().trigger_event(event_class, **kwargs)
            return
        new_event = event_class(
            **{
                **kwargs,
                "originator_id": self.id,
                "originator_version": self.version + 1,
                "timestamp": kwargs.get("timestamp") or event_class.create_timestamp(),
                "prev_hash": self.chain_head,
                "event_hash": GENESIS_HASH,
                "correlation_id": kwargs.get("correlation_id", current_correlation_id()),
            }
        )
        object.__setattr__(new_event, "event_hash", _public_hash(type(self), new_event))
        new_event.mutate(self)
        self._pending_events.append(new_event)

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
        return {**linked, "event_hash": _public_hash(cls, draft)}


def _public_hash(cls: type[Any], event: Any) -> str:
    """The hash of the event's public form: the contract the service maps it to."""
    mapping = _mappings.get(cls)
    if mapping is None:
        raise RuntimeError(
            f"no ledger mapping registered for {cls.__name__}: import the service's "
            "contract mapping before using its ledger aggregates"
        )
    public = mapping(event)
    if not isinstance(public, LedgerEvent):
        raise TypeError(
            f"{type(event).__qualname__} is an event of a ledger stream and must map to a "
            f"LedgerEvent contract, got {type(public).__name__}"
        )
    return public.computed_hash()
