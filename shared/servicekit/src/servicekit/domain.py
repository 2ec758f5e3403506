"""What every service's domain model shares: an aggregate base whose events carry the
correlation id of the request that caused them, and the domain error family. Errors say what
went wrong in the domain's terms (a kind, a stable ``code``); they carry no HTTP status: the
kit's HTTP layer maps each kind to one (:func:`servicekit.problems.status_of`)."""

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

    code = "rule_violated"
    title = "The request breaks a rule of the domain"

    def __init__(self, message: str = "", **fields: Any) -> None:
        super().__init__(message)
        self.fields: dict[str, Any] = fields


class Invalid(DomainError):
    """The command's content is not acceptable (a date, an amount, a period), whatever else a
    subclass also is: for an error that refines a conflict but is really bad input."""

    code = "invalid"


class NotFound(DomainError):
    code = "not_found"
    title = "Not found"


class Conflict(DomainError):
    """The command contradicts the current state (a duplicate, a concurrent change)."""

    code = "conflict"
    title = "The request conflicts with the current state"


class Forbidden(DomainError):
    """The caller is known but may not do this to this (not the owner, not the delegate)."""

    code = "forbidden"
    title = "Not allowed"


class Gone(DomainError):
    """What the command names existed and was withdrawn for good."""

    code = "gone"
    title = "No longer available"


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
