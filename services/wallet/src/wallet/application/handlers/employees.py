"""A plan's employees: enrol them, credit their wallets (one by one here; a CSV file of them in
``bulk_loads``)."""

from __future__ import annotations

from uuid import UUID

from servicekit.batching import UnitOfWork

from wallet.application import commands as cmd
from wallet.application.context import WalletContext, wallet_for
from wallet.domain.plan import Plan


def enrol(ctx: WalletContext, uow: UnitOfWork, plan_id: UUID, command: cmd.Enrol) -> None:
    plan = uow.get(plan_id, Plan, "plan")
    plan.enrol(
        {e.employee_id: e.dependent_children for e in command.employees},
        {e.employee_id: e.fiscal_code for e in command.employees if e.fiscal_code},
    )


def grant(ctx: WalletContext, uow: UnitOfWork, plan_id: UUID, command: cmd.Grant) -> UUID:
    plan = uow.get(plan_id, Plan, "plan")
    wallet = wallet_for(uow, plan, command.employee_id)
    plan.grant(wallet, command.amount_cents, command.category)
    return wallet.id
