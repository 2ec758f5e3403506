"""What the command handlers need of the wallet application (``WalletContext``, which
``WalletApplication`` is), and the lookups they share: an aggregate of the unit of work, or a
new one opened when the rules say so.

A handler is ``handler(ctx, uow, ...)``: it gets aggregates from the unit of work, changes them
through the domain, and returns; whoever runs it saves what changed in one transaction
(``WalletApplication.run``, or the group commit of ``run_batched`` on the hot path).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar
from uuid import UUID

from servicekit.batching import UnitOfWork
from servicekit.domain import NotFound
from servicekit.projection import ReadModelStore

from wallet.domain.bonus import BonusYear
from wallet.domain.errors import NoFringeCap
from wallet.domain.family import Family
from wallet.domain.fringe import FringeYear
from wallet.domain.plan import Plan
from wallet.domain.wallet import Wallet

P = ParamSpec("P")
T = TypeVar("T")
A = TypeVar("A")


class WalletContext(Protocol):
    def get_aggregate(
        self, aggregate_id: UUID, kind: type[A], label: str, version: int | None = None
    ) -> A: ...

    def save(self, *objs: Any, **kwargs: Any) -> Any: ...

    def retrying(self, command: Callable[[], T]) -> T: ...

    def fresh_read_model(self) -> ReadModelStore: ...

    def bonus_limit(self, year: int) -> int: ...

    def fringe_cap(self, year: int, *, with_children: bool) -> int | None: ...

    def run(
        self,
        handler: Callable[Concatenate[WalletContext, UnitOfWork, P], T],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T: ...


def wallet_for(uow: UnitOfWork, plan: Plan, employee_id: str) -> Wallet:
    """The employee's wallet in ``plan``, opened if it has none yet (``NotEligible`` for an
    employee the plan does not enrol)."""
    plan.check_eligible(employee_id)
    try:
        return uow.get(Wallet.id_for(plan.id, employee_id), Wallet, "wallet")
    except NotFound:
        wallet = plan.open_wallet(employee_id)
        uow.add(wallet)
        return wallet


def fringe_year_for(ctx: WalletContext, uow: UnitOfWork, wallet: Wallet) -> FringeYear:
    """The fringe-benefit year the wallet's spends count on, opened with the territory's cap
    (``NoFringeCap`` where it configures none for the year)."""
    fringe_id = FringeYear.id_for(wallet.employee_id, wallet.year)
    try:
        return uow.get(fringe_id, FringeYear, "fringe year")
    except NotFound:
        pass
    plan = uow.get(wallet.plan_id, Plan, "plan")
    with_children = plan.employees.get(wallet.employee_id, False)
    cap = ctx.fringe_cap(wallet.year, with_children=with_children)
    if cap is None:
        raise NoFringeCap(
            f"the territory configures no fringe-benefit cap for {wallet.year}: "
            "fringe credit cannot be spent"
        )
    fringe = FringeYear.open(wallet.employee_id, wallet.year, cap, with_children)
    uow.add(fringe)
    return fringe


def family_of(uow: UnitOfWork, employee_id: str) -> Family | None:
    """The employee's family as stored now (read fresh: a rule is checked against it)."""
    try:
        return uow.get(Family.id_for(employee_id), Family, "family", fresh=True)
    except NotFound:
        return None


def bonus_year_for(ctx: WalletContext, uow: UnitOfWork, employee_id: str, year: int) -> BonusYear:
    """The employee's productivity-bonus year, opened with the year's limit."""
    try:
        return uow.get(BonusYear.id_for(employee_id, year), BonusYear, "bonus year")
    except NotFound:
        bonus_year = BonusYear.open(employee_id, year, ctx.bonus_limit(year))
        uow.add(bonus_year)
        return bonus_year


def run_once(
    ctx: WalletContext,
    handler: Callable[Concatenate[WalletContext, UnitOfWork, P], T],
    *args: P.args,
    **kwargs: P.kwargs,
) -> T:
    """Run ``handler`` on a fresh unit of work and save what it changed, in one transaction."""
    uow = UnitOfWork(ctx)
    result = handler(ctx, uow, *args, **kwargs)
    changed = uow.changed()
    if changed:
        ctx.save(*changed)
    return result
