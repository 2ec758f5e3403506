"""Productivity bonuses converted into welfare credit (premio di risultato, L. 208/2015 art. 1
c. 182-189): an employee may take the bonus as welfare credit instead of pay, and up to a yearly
limit (3,000 EUR since 2016, from the territory's rules) it is then free of tax.

A memo ledger per employee and year, like the fringe benefits': every conversion moves its
amount from the ``contra`` account to ``converted``; the limit is never crossed (a conversion
that would cross it is refused whole), so an auditor checks ``converted`` against it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.domain import event
from servicekit.chain import ChainedAggregate

from wallet.domain import accounts
from wallet.domain.errors import BonusLimitExceeded

if TYPE_CHECKING:
    from wallet.domain.plan import Plan
    from wallet.domain.wallet import Wallet

BONUS_NAMESPACE = uuid.UUID("a84e2f61-0d3b-4c97-b5a1-6e9c3d7f2b05")
DEFAULT_YEARLY_LIMIT_CENTS = 300_000
"""3,000 EUR: the limit of L. 208/2015 art. 1 c. 182 as amended by L. 232/2016."""
Transfers = list[dict[str, Any]]


def yearly_limits(rules: Mapping[str, Any]) -> dict[int, int]:
    """The limits per year of a territory's ``[rules.productivity_bonus]`` table
    (``conversion_limit_cents = { 2025 = 300000, ... }``); raises ValueError naming what is
    wrong."""
    table = rules.get("conversion_limit_cents", {})
    if not isinstance(table, Mapping):
        raise ValueError("rules.productivity_bonus.conversion_limit_cents must be a table")
    limits: dict[int, int] = {}
    for year, cents in table.items():
        if not str(year).isdigit() or isinstance(cents, bool) or not isinstance(cents, int):
            raise ValueError(
                "rules.productivity_bonus.conversion_limit_cents maps years to integer cents, "
                f"got {year!r} = {cents!r}"
            )
        if cents <= 0:
            raise ValueError(f"the {year} productivity-bonus limit must be positive, got {cents}")
        limits[int(year)] = cents
    return limits


class BonusYear(ChainedAggregate):
    class Opened(ChainedAggregate.Created):
        employee_id: str
        year: int
        limit_cents: int
        transfers: Transfers

    class Recorded(ChainedAggregate.Event):
        employee_id: str
        year: int
        wallet_id: UUID
        plan_id: UUID
        amount_cents: int
        total_cents: int
        transfers: Transfers

    @event(Opened)
    def __init__(self, employee_id: str, year: int, limit_cents: int, transfers: Transfers) -> None:
        self.employee_id = employee_id
        self.year = year
        self.limit_cents = limit_cents
        self.balances: dict[str, int] = {}

    @staticmethod
    def create_id(employee_id: str, year: int) -> UUID:
        return BonusYear.id_for(employee_id, year)

    @staticmethod
    def id_for(employee_id: str, year: int) -> UUID:
        return uuid.uuid5(BONUS_NAMESPACE, f"{employee_id}/{year}")

    @classmethod
    def open(cls, employee_id: str, year: int, limit_cents: int) -> BonusYear:
        accounts.check_amount(limit_cents)
        return cls(employee_id, year, limit_cents, [])

    def owns(self, account: str) -> bool:
        return account.startswith(f"bonus:{self.employee_id}:{self.year}:")

    def _account(self, kind: str) -> str:
        return accounts.bonus_account(self.employee_id, self.year, kind)

    @property
    def converted_cents(self) -> int:
        return self.balances.get(self._account("converted"), 0)

    @property
    def room_cents(self) -> int:
        return max(self.limit_cents - self.converted_cents, 0)

    def check_room(self, amount_cents: int) -> None:
        accounts.check_amount(amount_cents)
        if self.converted_cents + amount_cents > self.limit_cents:
            raise BonusLimitExceeded(
                f"converting {amount_cents} cents would bring the productivity bonus employee "
                f"{self.employee_id} converted into welfare in {self.year} to "
                f"{self.converted_cents + amount_cents} cents, over the tax-free limit of "
                f"{self.limit_cents} cents a year: at most {self.room_cents} cents can still "
                "be converted (the rest is paid as salary)"
            )

    def record(self, wallet_id: UUID, plan_id: UUID, amount_cents: int) -> None:
        self.check_room(amount_cents)
        transfers = [
            accounts.transfer(self._account("contra"), self._account("converted"), amount_cents)
        ]
        accounts.check_transfers(self.balances, self.owns, transfers)
        total = self.converted_cents + amount_cents
        self._record(
            self.employee_id, self.year, wallet_id, plan_id, amount_cents, total, transfers
        )

    @event(Recorded)
    def _record(
        self,
        employee_id: str,
        year: int,
        wallet_id: UUID,
        plan_id: UUID,
        amount_cents: int,
        total_cents: int,
        transfers: Transfers,
    ) -> None:
        accounts.apply_transfers(self.balances, self.owns, transfers)


def convert_bonus(
    plan: Plan,
    wallet: Wallet,
    bonus_year: BonusYear,
    request_id: str,
    amount_cents: int,
    today: date,
) -> bool:
    """Credit the employee's wallet with (part of) their productivity bonus: one transfer from
    the employer's bonus account to the wallet's general credit (the plan and the wallet record
    it), counted on the employee's year against the tax-free limit, and refused whole if it
    would cross it. The same request id converts once: False when it already did."""
    if wallet.existing_conversion(request_id, amount_cents):
        return False
    bonus_year.check_room(amount_cents)
    transfer = wallet.bonus_transfer(amount_cents, today)
    plan.convert_bonus(wallet.employee_id, wallet.id, transfer)
    wallet.record_bonus(request_id, transfer)
    bonus_year.record(wallet.id, plan.id, amount_cents)
    return True
