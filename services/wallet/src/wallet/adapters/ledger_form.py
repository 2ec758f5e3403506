"""The wallet's contract mapper (``to_contract``, one function dispatched on the domain event's
class: unmapped events stay private) and the fields every ledger event's public form carries:
its stream, sequence, hashes and transfers. ``contract_mapping.py`` and
``contract_mapping_people.py`` register the mappings on it."""

from __future__ import annotations

from functools import singledispatch
from typing import Any

from benecomune_contracts import ContractEvent
from benecomune_contracts import wallet as c


def chain_fields(e: Any) -> dict[str, Any]:
    return {
        "stream_id": str(e.originator_id),
        "sequence": e.originator_version,
        "prev_hash": e.prev_hash,
        "event_hash": e.event_hash,
        "transfers": [c.Transfer.model_validate(t) for t in e.transfers],
    }


@singledispatch
def to_contract(event: object) -> ContractEvent | None:
    return None  # private: anything not mapped
