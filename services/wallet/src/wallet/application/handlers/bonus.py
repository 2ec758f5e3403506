"""Productivity bonuses converted into welfare credit (``wallet.domain.bonus``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from servicekit.batching import UnitOfWork

from wallet.application import commands as cmd
from wallet.application.context import WalletContext, bonus_year_for, wallet_for
from wallet.domain.bonus import convert_bonus as convert
from wallet.domain.plan import Plan


@dataclass(frozen=True)
class BonusConversion:
    """What a productivity-bonus conversion did, and the employee's room left for the year."""

    wallet_id: UUID
    amount_cents: int
    year: int
    converted_this_year_cents: int
    yearly_limit_cents: int


def convert_bonus(
    ctx: WalletContext, uow: UnitOfWork, plan_id: UUID, command: cmd.ConvertBonus, today: date
) -> BonusConversion:
    plan = uow.get(plan_id, Plan, "plan")
    plan.check_converts_bonus()
    wallet = wallet_for(uow, plan, command.employee_id)
    bonus_year = bonus_year_for(ctx, uow, command.employee_id, plan.year)
    convert(plan, wallet, bonus_year, command.request_id, command.amount_cents, today)
    return BonusConversion(
        wallet_id=wallet.id,
        amount_cents=command.amount_cents,
        year=plan.year,
        converted_this_year_cents=bonus_year.converted_cents,
        yearly_limit_cents=bonus_year.limit_cents,
    )
