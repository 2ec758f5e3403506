"""The public form of the employees' own ledger streams: their fringe-benefit years (TUIR art.
51 c. 3), their productivity-bonus years and their families (members and delegate). Registered
on the wallet's mapper (``ledger_form.to_contract``) when ``contract_mapping`` is imported."""

from __future__ import annotations

from benecomune_contracts import ContractEvent
from benecomune_contracts import wallet as c

from wallet.adapters.ledger_form import chain_fields as _chain
from wallet.adapters.ledger_form import to_contract
from wallet.domain.bonus import BonusYear
from wallet.domain.family import Family
from wallet.domain.fringe import FringeYear


@to_contract.register
def _(e: FringeYear.Opened) -> ContractEvent:
    return c.FringeYearOpened(
        **_chain(e),
        employee_id=e.employee_id,
        year=e.year,
        cap_cents=e.cap_cents,
        with_children=e.with_children,
        opened_at=e.timestamp,
    )


@to_contract.register
def _(e: FringeYear.Recorded) -> ContractEvent:
    return c.FringeRecorded(
        **_chain(e),
        employee_id=e.employee_id,
        year=e.year,
        hold_id=str(e.hold_id),
        direction=e.direction,  # type: ignore[arg-type]
        amount_cents=e.amount_cents,
        total_cents=e.total_cents,
        recorded_at=e.timestamp,
    )


@to_contract.register
def _(e: FringeYear.CapWarning) -> ContractEvent:
    return c.FringeCapWarning(
        **_chain(e),
        employee_id=e.employee_id,
        year=e.year,
        cap_cents=e.cap_cents,
        total_cents=e.total_cents,
        requested_cents=e.requested_cents,
        warned_at=e.timestamp,
    )


@to_contract.register
def _(e: FringeYear.BecameTaxable) -> ContractEvent:
    return c.FringeTaxable(
        **_chain(e),
        employee_id=e.employee_id,
        year=e.year,
        cap_cents=e.cap_cents,
        taxable_cents=e.taxable_cents,
        confirmed_at=e.timestamp,
    )


@to_contract.register
def _(e: BonusYear.Opened) -> ContractEvent:
    return c.BonusYearOpened(
        **_chain(e),
        employee_id=e.employee_id,
        year=e.year,
        limit_cents=e.limit_cents,
        opened_at=e.timestamp,
    )


@to_contract.register
def _(e: BonusYear.Recorded) -> ContractEvent:
    return c.BonusRecorded(
        **_chain(e),
        employee_id=e.employee_id,
        year=e.year,
        wallet_id=str(e.wallet_id),
        plan_id=str(e.plan_id),
        amount_cents=e.amount_cents,
        total_cents=e.total_cents,
        recorded_at=e.timestamp,
    )


@to_contract.register
def _(e: Family.Opened) -> ContractEvent:
    return c.FamilyOpened(**_chain(e), employee_id=e.employee_id, opened_at=e.timestamp)


@to_contract.register
def _(e: Family.MemberNamed) -> ContractEvent:
    return c.FamilyMemberNamed(
        **_chain(e),
        employee_id=e.employee_id,
        member_id=e.member_id,
        relationship=e.relationship,  # type: ignore[arg-type]
        named_at=e.timestamp,
    )


@to_contract.register
def _(e: Family.MemberRemoved) -> ContractEvent:
    return c.FamilyMemberRemoved(
        **_chain(e),
        employee_id=e.employee_id,
        member_id=e.member_id,
        removed_at=e.timestamp,
    )


@to_contract.register
def _(e: Family.DelegateNamed) -> ContractEvent:
    return c.DelegateNamed(
        **_chain(e),
        employee_id=e.employee_id,
        delegate_id=e.delegate_id,
        replaced_delegate_id=e.replaced_delegate_id,
        named_at=e.timestamp,
    )


@to_contract.register
def _(e: Family.DelegateRevoked) -> ContractEvent:
    return c.DelegateRevoked(
        **_chain(e),
        employee_id=e.employee_id,
        delegate_id=e.delegate_id,
        revoked_at=e.timestamp,
    )
