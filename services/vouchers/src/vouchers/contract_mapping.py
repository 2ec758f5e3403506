"""Which domain events leave the service, and as what. Explicit on purpose: a new domain event
stays private until someone maps it here, so personal data cannot leak by accident."""

from __future__ import annotations

from benecomune_contracts import ContractEvent
from benecomune_contracts.vouchers import FundAllocated, FundToppedUp

from vouchers.domain.fund import Fund


def to_contract(event: object) -> ContractEvent | None:
    if isinstance(event, Fund.Allocated):
        return FundAllocated(
            fund_id=str(event.originator_id),
            municipality_istat=event.municipality_istat,
            source_kind=event.source_kind,
            source_reference=event.source_reference,
            amount_cents=event.amount_cents,
            allocated_at=event.timestamp,
        )
    if isinstance(event, Fund.ToppedUp):
        return FundToppedUp(
            fund_id=str(event.originator_id),
            source_kind=event.source_kind,
            source_reference=event.source_reference,
            amount_cents=event.amount_cents,
            topped_up_at=event.timestamp,
        )
    return None
