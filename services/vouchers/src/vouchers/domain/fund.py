"""A fund: public or donated money allocated to one municipality for food vouchers.

Money is integer euro cents. A fund only grows here (allocation and top-ups); issuing,
redeeming and returning money come with the voucher rounds.
"""

from __future__ import annotations

from typing import Literal

from eventsourcing.domain import event
from servicekit.domain import Aggregate

from vouchers.domain.errors import InvalidAmount

SourceKind = Literal["state_transfer", "donation"]

# A single allocation above this is almost certainly a typo in cents vs euros (the whole 2020
# national measure was 400 M EUR); refuse it rather than put it in the ledger.
MAX_SINGLE_ALLOCATION_CENTS = 40_000_000_000


def check_amount(amount_cents: int) -> None:
    if isinstance(amount_cents, bool) or not isinstance(amount_cents, int):
        raise InvalidAmount("amounts are integer euro cents")
    if amount_cents <= 0:
        raise InvalidAmount(f"an amount must be positive, got {amount_cents} cents")
    if amount_cents > MAX_SINGLE_ALLOCATION_CENTS:
        raise InvalidAmount(
            f"{amount_cents} cents exceeds the largest single allocation "
            f"({MAX_SINGLE_ALLOCATION_CENTS} cents): check cents vs euros"
        )


class Fund(Aggregate):
    class Allocated(Aggregate.Created):
        municipality_istat: str
        source_kind: SourceKind
        source_reference: str
        amount_cents: int

    class ToppedUp(Aggregate.Event):
        source_kind: SourceKind
        source_reference: str
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

    def top_up(self, source_kind: SourceKind, source_reference: str, amount_cents: int) -> None:
        check_amount(amount_cents)
        self._top_up(source_kind, source_reference, amount_cents)

    @event(ToppedUp)
    def _top_up(self, source_kind: SourceKind, source_reference: str, amount_cents: int) -> None:
        self.allocated_cents += amount_cents
        self.sources.append((source_kind, source_reference, amount_cents))
