"""An employee's family members and delegate (one ``Family`` per employee, across plans)."""

from __future__ import annotations

from servicekit.batching import UnitOfWork

from wallet.application import commands as cmd
from wallet.application import views
from wallet.application.context import WalletContext, family_of
from wallet.domain.family import Family


def name_family_member(
    ctx: WalletContext,
    uow: UnitOfWork,
    employee_id: str,
    member_id: str,
    command: cmd.NameFamilyMember,
) -> Family:
    family = family_to_change(ctx, uow, employee_id)
    family.name_member(member_id, command.relationship)
    return family


def remove_family_member(
    ctx: WalletContext, uow: UnitOfWork, employee_id: str, member_id: str
) -> Family:
    family = family_to_change(ctx, uow, employee_id)
    family.remove_member(member_id)
    return family


def name_delegate(
    ctx: WalletContext, uow: UnitOfWork, employee_id: str, command: cmd.NameDelegate
) -> Family:
    family = family_to_change(ctx, uow, employee_id)
    family.name_delegate(command.delegate_id)
    return family


def revoke_delegate(ctx: WalletContext, uow: UnitOfWork, employee_id: str) -> Family:
    family = family_to_change(ctx, uow, employee_id)
    family.revoke_delegate()
    return family


def family_to_change(ctx: WalletContext, uow: UnitOfWork, employee_id: str) -> Family:
    """The employee's family, opened the first time (for an employee with a wallet)."""
    family = family_of(uow, employee_id)
    if family is None:
        has_wallet = views.has_wallet(ctx.fresh_read_model(), employee_id)
        family = Family.open_for(employee_id, has_wallet=has_wallet)
        uow.add(family)
    return family
