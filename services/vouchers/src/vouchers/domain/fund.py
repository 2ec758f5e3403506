"""A fund: public or donated money allocated to one municipality for food vouchers.

The fund's own stream records the money coming in and the budgets set aside for rounds; what is
issued, redeemed, reimbursed and returned is recorded by rounds, vouchers and merchant accounts,
and the fund's figures add them up (see the application's ``fund_figures``).
"""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from eventsourcing.domain import event
from servicekit.chain import ChainedAggregate

from vouchers.domain.errors import InsufficientFunds
from vouchers.domain.money import MAX_SINGLE_AMOUNT_CENTS, check_amount

SourceKind = Literal["state_transfer", "donation"]
# Kept for callers that speak of allocations.
MAX_SINGLE_ALLOCATION_CENTS = MAX_SINGLE_AMOUNT_CENTS


class Fund(ChainedAggregate):
    class Allocated(ChainedAggregate.Created):
        municipality_istat: str
        source_kind: SourceKind
        source_reference: str
        amount_cents: int

    class ToppedUp(ChainedAggregate.Event):
        source_kind: SourceKind
        source_reference: str
        amount_cents: int

    class BudgetAssigned(ChainedAggregate.Event):
        round_id: UUID
        amount_cents: int

    @event(Allocated)
    def __init__(
        self,
        municipality_istat: str,
        source_kind: SourceKind,
        source_reference: str,
        amount_cents: int,
    ) -> None:
        self.municipality_istat = municipality_istat
        self.allocated_cents = amount_cents
        self.assigned_cents = 0
        self.round_ids: list[UUID] = []
        self.sources: list[tuple[SourceKind, str, int]] = [
            (source_kind, source_reference, amount_cents)
        ]

    @classmethod
    def allocate(
        cls,
        municipality_istat: str,
        source_kind: SourceKind,
        source_reference: str,
        amount_cents: int,
    ) -> Fund:
        check_amount(amount_cents)
        return cls(municipality_istat, source_kind, source_reference, amount_cents)

    @property
    def unassigned_cents(self) -> int:
        return self.allocated_cents - self.assigned_cents

    def top_up(self, source_kind: SourceKind, source_reference: str, amount_cents: int) -> None:
        check_amount(amount_cents)
        self._top_up(source_kind, source_reference, amount_cents)

    def assign_budget(self, round_id: UUID, amount_cents: int) -> None:
        check_amount(amount_cents)
        self.check_can_assign(amount_cents)
        self._assign_budget(round_id, amount_cents)

    def check_can_assign(self, amount_cents: int) -> None:
        if amount_cents > self.unassigned_cents:
            raise InsufficientFunds(
                f"the fund has {self.unassigned_cents} cents not yet assigned to rounds; "
                f"{amount_cents} cents were asked"
            )

    @event(ToppedUp)
    def _top_up(self, source_kind: SourceKind, source_reference: str, amount_cents: int) -> None:
        self.allocated_cents += amount_cents
        self.sources.append((source_kind, source_reference, amount_cents))

    @event(BudgetAssigned)
    def _assign_budget(self, round_id: UUID, amount_cents: int) -> None:
        self.assigned_cents += amount_cents
        self.round_ids.append(round_id)
