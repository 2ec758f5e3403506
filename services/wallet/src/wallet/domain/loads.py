"""A bulk load of a plan's employees from a file, recorded once per file: the file's SHA-256
(and the client's optional load id) is the idempotency key, so uploading the same file again
answers with the first load's report and credits nobody twice. Recorded in the same
transaction as the grants it made; private to the service (the grants are the public events)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import event
from servicekit.domain import Aggregate

from wallet.domain.errors import LoadIdReused

LOAD_NAMESPACE = uuid.UUID("5d0c8a3e-91b7-4f2a-8c64-2e7b1f9d3a58")
Rows = list[dict[str, Any]]


class EmployeeLoad(Aggregate):
    class Recorded(Aggregate.Created):
        plan_id: UUID
        sha256: str
        load_id: str | None
        encoding: str
        loaded: Rows
        rejected: Rows
        loaded_cents: int

    @event(Recorded)
    def __init__(
        self,
        plan_id: UUID,
        sha256: str,
        load_id: str | None,
        encoding: str,
        loaded: Rows,
        rejected: Rows,
        loaded_cents: int,
    ) -> None:
        self.plan_id = plan_id
        self.sha256 = sha256
        self.load_id = load_id
        self.encoding = encoding
        self.loaded = loaded
        self.rejected = rejected
        self.loaded_cents = loaded_cents

    @staticmethod
    def create_id(plan_id: UUID, sha256: str, **_: Any) -> UUID:
        return EmployeeLoad.id_for(plan_id, sha256)

    @staticmethod
    def id_for(plan_id: UUID, sha256: str) -> UUID:
        return uuid.uuid5(LOAD_NAMESPACE, f"{plan_id}/{sha256}")

    @property
    def loaded_at(self) -> datetime:
        return self.created_on

    def summary(self) -> dict[str, Any]:
        return {
            "load_id": self.load_id,
            "sha256": self.sha256,
            "loaded_at": self.loaded_at,
            "encoding": self.encoding,
            "rows_loaded": len(self.loaded),
            "rows_refused": len(self.rejected),
            "loaded_cents": self.loaded_cents,
        }


def check_load_id_free(load_id: str, sha256: str, earlier: EmployeeLoad | None) -> None:
    """``earlier``: the plan's load that used ``load_id`` before, if any."""
    if earlier is not None and earlier.sha256 != sha256:
        raise LoadIdReused(
            f"load id {load_id!r} was used on {earlier.loaded_at.isoformat()} for another file "
            f"(SHA-256 {earlier.sha256[:12]}…): choose a new load id for a new file",
            load_id=load_id,
            sha256=earlier.sha256,
        )
