"""A change is stored only if its events can become valid public contract events: a value the
contract does not allow, once stored, would block the outbox for every later event."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from servicekit.domain import DomainError

__all__ = ["UnpublishableChange", "check_publishable"]


class UnpublishableChange(DomainError):
    """The change would store an event that cannot become its public contract event (a value
    the contract does not allow): stored, it would block the outbox for every later event."""

    code = "unpublishable_change"
    title = "The change cannot be published as a valid event"


def check_publishable(to_contract: Callable[[Any], Any], events: Iterable[Any]) -> None:
    """Raise :class:`UnpublishableChange` if any of ``events`` fails its contract mapping."""
    for domain_event in events:
        try:
            to_contract(domain_event)
        except (ValueError, TypeError, OverflowError) as error:  # ValidationError is a ValueError
            name = type(domain_event).__qualname__
            raise UnpublishableChange(
                f"{name} would not be a valid public event: {_first_line(error)}",
                event=name,
            ) from error


def _first_line(error: Exception) -> str:
    errors = getattr(error, "errors", None)
    if callable(errors):
        parts = [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors()[:3]]
        return "; ".join(parts)
    return str(error).splitlines()[0] if str(error) else type(error).__name__
