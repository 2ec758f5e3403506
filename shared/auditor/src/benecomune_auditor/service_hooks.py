"""What a service exposes to the auditor, and how the auditor finds it.

The auditor imports no service. A service that keeps a ledger names an object (a
:class:`LedgerHook`) in the entry-point group ``benecomune.audit_ledgers`` of its
``pyproject.toml``, under the ledger's name::

    [project.entry-points."benecomune.audit_ledgers"]
    vouchers = "vouchers.audit_hook:HOOK"

The hook gives the service's settings (where its Kafka topic, store and HTTP API are, read from
the environment as the service reads them) and opens its store for ``--from store`` and
``--compare store`` (a :class:`LedgerStore`): the stored notifications, each decoded to the
contract event the service's relay would publish, and the service's own figures at a
notification id — the same JSON as its ``GET /audit/figures?upto=N``. The auditor reads and
adds up the events itself; the hook only decodes what the service stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib.metadata import entry_points
from typing import Any, Protocol
from uuid import UUID

from benecomune_contracts import ContractEvent

__all__ = [
    "ENTRY_POINT_GROUP",
    "LedgerHook",
    "LedgerStore",
    "StoredNotification",
    "find_hook",
]

ENTRY_POINT_GROUP = "benecomune.audit_ledgers"


class StoredNotification(Protocol):
    """One row of a service's notification log (an eventsourcing ``Notification``)."""

    @property
    def id(self) -> int: ...

    @property
    def originator_id(self) -> UUID: ...

    @property
    def originator_version(self) -> int: ...

    @property
    def topic(self) -> str: ...


class LedgerStore(Protocol):
    """A service's store, opened for the auditor (read only)."""

    def max_notification_id(self) -> int | None:
        """The last notification stored (None: none)."""
        ...

    def select_notifications(
        self, start: int, limit: int, stop: int | None = None
    ) -> Sequence[StoredNotification]:
        """Up to ``limit`` notifications from id ``start`` on, not beyond ``stop``."""
        ...

    def contract_of(self, notification: Any) -> ContractEvent | None:
        """The contract event the relay publishes for ``notification`` (None: a private event).
        Raises whatever decoding a damaged row raises (``pydantic.ValidationError`` for a
        payload its contract refuses)."""
        ...

    def figures_at(self, upto: int | None) -> dict[str, Any]:
        """The service's figures once the events up to notification ``upto`` were stored (None:
        now), as its ``GET /audit/figures?upto=`` answers them."""
        ...

    def close(self) -> None: ...


class LedgerHook(Protocol):
    """What a service names in the ``benecomune.audit_ledgers`` entry-point group."""

    def settings(self, **overrides: Any) -> Any:
        """The service's settings (a ``servicekit.settings.ServiceSettings``), from the
        environment as the service reads it, with ``overrides``."""
        ...

    def open_store(self, settings: Any) -> LedgerStore:
        """The service's store as ``settings`` say, opened read-only for the auditor."""
        ...


def find_hook(ledger: str) -> LedgerHook | None:
    """The hook an installed service names for ``ledger`` (None: no such service installed)."""
    for entry_point in entry_points(group=ENTRY_POINT_GROUP, name=ledger):
        hook: LedgerHook = entry_point.load()
        return hook
    return None
