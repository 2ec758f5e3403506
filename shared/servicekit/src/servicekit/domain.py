"""What every service's domain model shares: an aggregate base whose events carry the
correlation id of the request that caused them, and the domain error family that the HTTP
layer turns into clear 4xx answers."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate as _Aggregate

from servicekit.correlation import current_correlation_id


class DomainError(Exception):
    """A rule of the domain refused a command; nothing was changed.

    ``fields`` are the figures a client must act on (a cap, the total a spend would reach),
    given as keyword arguments; the HTTP layer puts them beside ``code`` in the problem details.
    """

    status_code = 422
    code = "rule_violated"
    title = "The request breaks a rule of the domain"

    def __init__(self, message: str = "", **fields: Any) -> None:
        super().__init__(message)
        self.fields: dict[str, Any] = fields


class NotFound(DomainError):
    status_code = 404
    code = "not_found"
    title = "Not found"


class Conflict(DomainError):
    """The command contradicts the current state (a duplicate, a concurrent change)."""

    status_code = 409
    code = "conflict"
    title = "The request conflicts with the current state"


class LedgerBehind(Conflict):
    """An auditor asked for figures at a point of the ledger this store does not reach."""

    code = "ledger_behind"


class Aggregate(_Aggregate):
    """Base aggregate: every event records the correlation id bound when it was triggered, so the
    relay can put it on the Kafka message long after the request has gone."""

    class Event(_Aggregate.Event):
        correlation_id: str | None

    class Created(Event, _Aggregate.Created):
        pass

    @classmethod
    def _create(cls, event_class: Any, *, id: UUID | None = None, **kwargs: Any) -> Any:
        kwargs.setdefault("correlation_id", current_correlation_id())
        return super()._create(event_class, id=id, **kwargs)

    def trigger_event(self, event_class: Any, **kwargs: Any) -> None:
        kwargs.setdefault("correlation_id", current_correlation_id())
        super().trigger_event(event_class, **kwargs)
