"""What a ledger service shows the auditor of its store (``benecomune_auditor``'s
``LedgerStore`` protocol), written once: the notifications, each decoded to the contract event
the relay publishes, read through the application's declared mapping. A service's hook adds
its figures at a notification id (``figures_at``), the same JSON as ``GET /audit/figures``.
The kit imports no auditor: the auditor finds the hooks through entry points."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from benecomune_contracts import ContractEvent

from servicekit.store import ServiceApplication


class LedgerStoreForAudit:
    def __init__(self, app: ServiceApplication) -> None:
        if app.contract_mapper is None:
            raise TypeError(f"{type(app).__name__} declares no contract mapper")
        self.app = app
        self.to_contract = app.contract_mapper

    def max_notification_id(self) -> int | None:
        last: int | None = self.app.recorder.max_notification_id()
        return last

    def select_notifications(
        self, start: int, limit: int, stop: int | None = None
    ) -> Sequence[Any]:
        return self.app.recorder.select_notifications(start=start, limit=limit, stop=stop)

    def contract_of(self, notification: Any) -> ContractEvent | None:
        contract: ContractEvent | None = self.to_contract(
            self.app.mapper.to_domain_event(notification)
        )
        return contract

    def figures_at(self, upto: int | None) -> dict[str, Any]:
        raise NotImplementedError

    def close(self) -> None:
        self.app.close()
