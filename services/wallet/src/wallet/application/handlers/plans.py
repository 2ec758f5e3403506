"""Plans and their funding: create a plan, let employees convert their bonus into its credit,
close it at its end (every wallet's credit carried over or expired, then the budget left
returned)."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from servicekit.batching import UnitOfWork
from servicekit.domain import NotFound

from wallet.application import commands as cmd
from wallet.application.context import WalletContext, wallet_for
from wallet.domain import settlement
from wallet.domain.fringe import FringeYear
from wallet.domain.plan import Plan
from wallet.domain.wallet import Wallet


def create_plan(
    ctx: WalletContext, uow: UnitOfWork, employer_id: str, command: cmd.CreatePlan, today: date
) -> UUID:
    plan = Plan.create(
        employer_id=employer_id,
        vat_number=command.vat_number,
        year=command.year,
        starts_on=command.starts_on,
        ends_on=command.ends_on,
        budget_cents=command.budget_cents,
        credit_per_employee_cents=command.credit_per_employee_cents,
        categories=list(command.categories),
        end_policy=command.end_policy,
        today=today,
    )
    if command.productivity_bonus:
        plan.allow_bonus_conversion(ctx.bonus_limit(plan.year))
    uow.add(plan)
    return plan.id


def allow_bonus_conversion(ctx: WalletContext, uow: UnitOfWork, plan_id: UUID) -> None:
    plan = uow.get(plan_id, Plan, "plan")
    plan.allow_bonus_conversion(ctx.bonus_limit(plan.year))


def close_plan(
    ctx: WalletContext, plan_id: UUID, command: cmd.ClosePlan, today: date
) -> dict[str, int]:
    """End a plan (on or after its end date, once no booking's hold is open in its settlement
    grace: ``domain/settlement.py``): each wallet is settled in its own transaction
    (``Plan.settle_wallet``), then the plan closes. Re-running after a crash finishes the
    job: settled wallets are skipped."""
    plan = ctx.get_aggregate(plan_id, Plan, "plan")
    plan.check_closable(today)
    settlement.check_no_holds_in_grace(plan.ends_on, _wallets(ctx, plan), today)
    next_plan = None
    if command.next_plan_id is not None:
        next_plan = ctx.get_aggregate(UUID(command.next_plan_id), Plan, "plan")
    plan.check_carry_over_to(next_plan)
    next_enrols = next_plan.employees if next_plan is not None else {}
    next_plan_id = next_plan.id if next_plan is not None else None
    expired = carried = 0
    for employee_id in list(plan.employees):
        carries = next_plan_id if employee_id in next_enrols else None
        e, c = ctx.run(settle_wallet, plan_id, employee_id, carries)
        expired += e
        carried += c
    returned = ctx.run(finish_closing, plan_id, next_plan_id)
    return {
        "expired_cents": expired,
        "carried_over_cents": carried,
        "unallocated_returned_cents": returned,
    }


def _wallets(ctx: WalletContext, plan: Plan) -> list[Wallet]:
    found = []
    for employee_id in plan.employees:
        try:
            found.append(ctx.get_aggregate(Wallet.id_for(plan.id, employee_id), Wallet, "wallet"))
        except NotFound:
            continue
    return found


def settle_wallet(
    ctx: WalletContext,
    uow: UnitOfWork,
    plan_id: UUID,
    employee_id: str,
    carry_to_plan_id: UUID | None,
) -> tuple[int, int]:
    """One wallet of a closing plan: (expired, carried over) cents; (0, 0) when settled."""
    try:
        wallet = uow.get(Wallet.id_for(plan_id, employee_id), Wallet, "wallet")
    except NotFound:
        return 0, 0
    if wallet.closed:
        return 0, 0
    plan = uow.get(plan_id, Plan, "plan")
    fringe_id = FringeYear.id_for(employee_id, wallet.year)

    def next_wallet(next_plan_id: UUID) -> Wallet:
        return wallet_for(uow, uow.get(next_plan_id, Plan, "plan"), employee_id)

    return plan.settle_wallet(
        wallet,
        fringe_of=lambda: uow.get(fringe_id, FringeYear, "fringe"),
        carry_to=None if carry_to_plan_id is None else lambda: next_wallet(carry_to_plan_id),
    )


def finish_closing(
    ctx: WalletContext, uow: UnitOfWork, plan_id: UUID, next_plan_id: UUID | None
) -> int:
    return uow.get(plan_id, Plan, "plan").close(next_plan_id)
