"""Fringe benefits of one employee in one year (TUIR art. 51 c. 3): purchase vouchers and
goods are tax-free up to a yearly cap (1,000 EUR, 2,000 EUR with dependent children, in
2025-2027, from the territory's rules); above it, the *whole* year's amount is taxable.
What counts is what the year finally spends (captured, net of refunds; open holds count until
they are captured or released): money given back that brings the year to the cap or below makes
it tax-free again.

A memo ledger: every fringe spend (a hold in the fringe category) moves its amount from the
``contra`` account to ``exempt`` (or to ``taxable`` once the year is taxable); money given back
moves it out again. When the employee confirms a spend that crosses the cap, the whole ``exempt``
balance moves to ``taxable``: the payroll reads that account. When money given back brings a
taxable year to the cap or below, the ``taxable`` balance moves back to ``exempt`` in the same
event (``back_under_cap``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.domain import event
from servicekit.chain import ChainedAggregate

from wallet.domain import accounts
from wallet.domain.errors import FringeCapExceeded

FRINGE_NAMESPACE = uuid.UUID("7f2e9b14-3c8a-4d61-b5e0-1a4c7d9e2f53")
Transfers = list[dict[str, Any]]


@dataclass(frozen=True)
class OverFringeCap:
    """A fringe spend refused for crossing the cap without the employee's confirmation; the
    warning itself is recorded (``FringeYear.CapWarning``), so the refusal is an answer, not an
    exception, until that is saved."""

    message: str
    figures: dict[str, int]

    def error(self) -> FringeCapExceeded:
        return FringeCapExceeded(self.message, **self.figures)


class FringeYear(ChainedAggregate):
    class Opened(ChainedAggregate.Created):
        employee_id: str
        year: int
        cap_cents: int
        with_children: bool
        transfers: Transfers

    class Recorded(ChainedAggregate.Event):
        # 2: back_under_cap (False in older events: a year once taxable stayed taxable).
        class_version = 2

        employee_id: str
        year: int
        hold_id: UUID
        direction: str  # "committed" or "given_back"
        amount_cents: int
        total_cents: int
        transfers: Transfers
        back_under_cap: bool

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state.setdefault("back_under_cap", False)

    class CapWarning(ChainedAggregate.Event):
        employee_id: str
        year: int
        cap_cents: int
        total_cents: int
        requested_cents: int
        transfers: Transfers

    class BecameTaxable(ChainedAggregate.Event):
        employee_id: str
        year: int
        cap_cents: int
        taxable_cents: int
        transfers: Transfers

    @event(Opened)
    def __init__(
        self,
        employee_id: str,
        year: int,
        cap_cents: int,
        with_children: bool,
        transfers: Transfers,
    ) -> None:
        self.employee_id = employee_id
        self.year = year
        self.cap_cents = cap_cents
        self.with_children = with_children
        self.balances: dict[str, int] = {}
        self.taxable = False
        # hold id -> cents committed and not given back
        self.by_hold: dict[str, int] = {}

    @staticmethod
    def create_id(employee_id: str, year: int) -> UUID:
        return FringeYear.id_for(employee_id, year)

    @staticmethod
    def id_for(employee_id: str, year: int) -> UUID:
        return uuid.uuid5(FRINGE_NAMESPACE, f"{employee_id}/{year}")

    @classmethod
    def open(cls, employee_id: str, year: int, cap_cents: int, with_children: bool) -> FringeYear:
        return cls(employee_id, year, cap_cents, with_children, [])

    def owns(self, account: str) -> bool:
        return account.startswith(f"fringe:{self.employee_id}:{self.year}:")

    def _account(self, kind: str) -> str:
        return accounts.fringe_account(self.employee_id, self.year, kind)

    @property
    def total_cents(self) -> int:
        """Fringe benefits committed this year (held or provided, net of what came back)."""
        return self.balances.get(self._account("exempt"), 0) + self.balances.get(
            self._account("taxable"), 0
        )

    @property
    def taxable_cents(self) -> int:
        return self.balances.get(self._account("taxable"), 0)

    def would_cross(self, amount_cents: int) -> bool:
        return not self.taxable and self.taxable_for(self.total_cents + amount_cents)

    def warn(self, amount_cents: int) -> OverFringeCap:
        """Record that a spend of ``amount_cents`` would cross the cap; returns the refusal and
        its figures (the year's total it would reach is all taxable, not just the excess)."""
        self._warn(self.employee_id, self.year, self.cap_cents, self.total_cents, amount_cents, [])
        total = self.total_cents + amount_cents
        message = (
            f"this spend would bring the fringe benefits of {self.year} to "
            f"{total} cents, over the tax-free cap of {self.cap_cents} "
            f"cents: the WHOLE year's fringe amount would become taxable income. Send "
            f"confirm_taxable=true to go ahead."
        )
        figures = {
            "year": self.year,
            "cap_cents": self.cap_cents,
            "fringe_cents": self.total_cents,
            "requested_cents": amount_cents,
            "year_total_cents": total,
            "taxable_cents": total,
        }
        return OverFringeCap(message, figures)

    @event(CapWarning)
    def _warn(
        self,
        employee_id: str,
        year: int,
        cap_cents: int,
        total_cents: int,
        requested_cents: int,
        transfers: Transfers,
    ) -> None:
        pass

    def confirm_taxable(self) -> None:
        """The employee accepted that the whole year's fringe amount becomes taxable."""
        if self.taxable:
            return
        exempt = self.balances.get(self._account("exempt"), 0)
        transfers = (
            [accounts.transfer(self._account("exempt"), self._account("taxable"), exempt)]
            if exempt
            else []
        )
        self._become_taxable(self.employee_id, self.year, self.cap_cents, exempt, transfers)

    @event(BecameTaxable)
    def _become_taxable(
        self,
        employee_id: str,
        year: int,
        cap_cents: int,
        taxable_cents: int,
        transfers: Transfers,
    ) -> None:
        accounts.apply_transfers(self.balances, self.owns, transfers)
        self.taxable = True

    def commit(self, hold_id: UUID, amount_cents: int) -> None:
        if str(hold_id) in self.by_hold:
            return
        to = self._account("taxable" if self.taxable else "exempt")
        transfers = [accounts.transfer(self._account("contra"), to, amount_cents)]
        self._recorded(hold_id, "committed", amount_cents, transfers)

    def taxable_for(self, total_cents: int) -> bool:
        """The rule: a year whose fringe total is over the cap is taxable, whole."""
        return total_cents > self.cap_cents

    def give_back(self, hold_id: UUID, amount_cents: int) -> None:
        """Money of a fringe hold came back (released, expired, not captured, refunded). If
        the year was taxable and is now at the cap or below, it becomes tax-free again: what is
        left of its ``taxable`` balance moves back to ``exempt``."""
        amount = min(amount_cents, self.by_hold.get(str(hold_id), 0))
        if not amount:
            return
        transfers: Transfers = []
        left = amount
        after = dict(self.balances)
        for kind in ("exempt", "taxable"):
            part = min(left, after.get(self._account(kind), 0))
            if part:
                transfers.append(
                    accounts.transfer(self._account(kind), self._account("contra"), part)
                )
                after[self._account(kind)] -= part
            left -= part
        back = self.taxable and not self.taxable_for(self.total_cents - amount)
        still_taxable = after.get(self._account("taxable"), 0)
        if back and still_taxable:
            transfers.append(
                accounts.transfer(self._account("taxable"), self._account("exempt"), still_taxable)
            )
        self._recorded(hold_id, "given_back", amount, transfers, back_under_cap=back)

    def _recorded(
        self,
        hold_id: UUID,
        direction: str,
        amount: int,
        transfers: Transfers,
        *,
        back_under_cap: bool = False,
    ) -> None:
        accounts.check_transfers(self.balances, self.owns, transfers)
        sign = 1 if direction == "committed" else -1
        total = self.total_cents + sign * amount
        self._record(
            self.employee_id,
            self.year,
            hold_id,
            direction,
            amount,
            total,
            transfers,
            back_under_cap,
        )

    @event(Recorded)
    def _record(
        self,
        employee_id: str,
        year: int,
        hold_id: UUID,
        direction: str,
        amount_cents: int,
        total_cents: int,
        transfers: Transfers,
        back_under_cap: bool,
    ) -> None:
        accounts.apply_transfers(self.balances, self.owns, transfers)
        sign = 1 if direction == "committed" else -1
        self.by_hold[str(hold_id)] = self.by_hold.get(str(hold_id), 0) + sign * amount_cents
        if back_under_cap:
            self.taxable = False
