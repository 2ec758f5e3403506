"""Which domain events leave the wallet service, and as what. Every event of the ledger streams
(plans, wallets, fringe years, bonus years, families) maps to a LedgerEvent carrying its
transfers: the hash chain is computed over exactly this public form. Employees, their family
members and delegates appear only as pseudonymous ids. A request of the booking saga refused
with no wallet stream to record it on leaves as ``RequestRefused`` (no ledger event). The
application names this mapper and its ledger aggregates (``WalletApplication.contract_mapper``,
``ledger_aggregates``): the kit registers the chain's mapping when the application starts.
Fringe years, bonus years and families are mapped in ``contract_mapping_people.py``."""

from __future__ import annotations

from benecomune_contracts import ContractEvent
from benecomune_contracts import wallet as c

import wallet.adapters.contract_mapping_people  # noqa: F401  (registers its mappings)
from wallet.adapters.ledger_form import chain_fields as _chain
from wallet.adapters.ledger_form import to_contract
from wallet.domain.plan import Plan
from wallet.domain.refusals import RequestRefusal
from wallet.domain.wallet import Wallet

__all__ = ["to_contract"]


@to_contract.register
def _(e: Plan.Created) -> ContractEvent:
    return c.PlanCreated(
        **_chain(e),
        plan_id=str(e.originator_id),
        employer_id=e.employer_id,
        vat_number=e.vat_number,
        year=e.year,
        starts_on=e.starts_on,
        ends_on=e.ends_on,
        budget_cents=e.budget_cents,
        credit_per_employee_cents=e.credit_per_employee_cents,
        categories=e.categories,  # type: ignore[arg-type]
        end_policy=e.end_policy,
        created_at=e.timestamp,
    )


@to_contract.register
def _(e: Plan.EmployeesEnrolled) -> ContractEvent:
    return c.EmployeesEnrolled(
        **_chain(e),
        plan_id=str(e.originator_id),
        employee_ids=e.employee_ids,
        with_children_ids=e.with_children_ids,
        enrolled_at=e.timestamp,
    )


@to_contract.register
def _(e: Plan.CreditAllocated) -> ContractEvent:
    return c.PlanCreditAllocated(
        **_chain(e),
        plan_id=str(e.originator_id),
        employee_id=e.employee_id,
        wallet_id=str(e.wallet_id),
        amount_cents=e.amount_cents,
        allocated_at=e.timestamp,
    )


@to_contract.register
def _(e: Plan.CreditReturned) -> ContractEvent:
    return c.PlanCreditReturned(
        **_chain(e),
        plan_id=str(e.originator_id),
        employee_id=e.employee_id,
        wallet_id=str(e.wallet_id),
        amount_cents=e.amount_cents,
        returned_at=e.timestamp,
    )


@to_contract.register
def _(e: Plan.Closed) -> ContractEvent:
    return c.PlanClosed(
        **_chain(e),
        plan_id=str(e.originator_id),
        returned_cents=e.returned_cents,
        next_plan_id=str(e.next_plan_id) if e.next_plan_id else None,
        closed_at=e.timestamp,
    )


@to_contract.register
def _(e: Wallet.Opened) -> ContractEvent:
    return c.WalletOpened(
        **_chain(e),
        wallet_id=str(e.originator_id),
        plan_id=str(e.plan_id),
        employer_id=e.employer_id,
        employee_id=e.employee_id,
        year=e.year,
        categories=e.categories,  # type: ignore[arg-type]
        expires_on=e.expires_on,
        opened_at=e.timestamp,
    )


@to_contract.register
def _(e: Wallet.CreditGranted) -> ContractEvent:
    return c.CreditGranted(
        **_chain(e),
        wallet_id=str(e.originator_id),
        plan_id=str(e.plan_id),
        employee_id=e.employee_id,
        category=e.category,  # type: ignore[arg-type]
        amount_cents=e.amount_cents,
        granted_at=e.timestamp,
    )


@to_contract.register
def _(e: Wallet.FundsHeld) -> ContractEvent:
    return c.FundsHeld(
        **_chain(e),
        wallet_id=str(e.originator_id),
        employee_id=e.employee_id,
        hold_id=str(e.hold_id),
        request_id=e.request_id,
        provider_id=e.provider_id,
        category=e.category,  # type: ignore[arg-type]
        amount_cents=e.amount_cents,
        expires_at=e.expires_at,
        held_at=e.timestamp,
        member_id=e.member_id,
        delegate_id=e.delegate_id,
    )


@to_contract.register
def _(e: Wallet.HoldRefused) -> ContractEvent:
    return c.HoldRefused(
        **_chain(e),
        wallet_id=str(e.originator_id),
        employee_id=e.employee_id,
        request_id=e.request_id,
        provider_id=e.provider_id,
        category=e.category,  # type: ignore[arg-type]
        amount_cents=e.amount_cents,
        reason_code=e.reason_code,
        reason=e.reason,
        refused_at=e.timestamp,
    )


@to_contract.register
def _(e: Wallet.HoldCaptured) -> ContractEvent:
    return c.HoldCaptured(
        **_chain(e),
        wallet_id=str(e.originator_id),
        employee_id=e.employee_id,
        hold_id=str(e.hold_id),
        provider_id=e.provider_id,
        category=e.category,  # type: ignore[arg-type]
        amount_cents=e.amount_cents,
        released_cents=e.released_cents,
        captured_at=e.timestamp,
    )


@to_contract.register
def _(e: Wallet.HoldReleased) -> ContractEvent:
    return c.HoldReleased(
        **_chain(e),
        wallet_id=str(e.originator_id),
        employee_id=e.employee_id,
        hold_id=str(e.hold_id),
        amount_cents=e.amount_cents,
        released_at=e.timestamp,
    )


@to_contract.register
def _(e: Wallet.HoldExpired) -> ContractEvent:
    return c.HoldExpired(
        **_chain(e),
        wallet_id=str(e.originator_id),
        employee_id=e.employee_id,
        hold_id=str(e.hold_id),
        amount_cents=e.amount_cents,
        expired_at=e.timestamp,
    )


@to_contract.register
def _(e: Wallet.Refunded) -> ContractEvent:
    return c.Refunded(
        **_chain(e),
        wallet_id=str(e.originator_id),
        employee_id=e.employee_id,
        hold_id=str(e.hold_id),
        provider_id=e.provider_id,
        category=e.category,  # type: ignore[arg-type]
        amount_cents=e.amount_cents,
        refunded_at=e.timestamp,
    )


@to_contract.register
def _(e: Wallet.CreditExpired) -> ContractEvent:
    return c.CreditExpired(
        **_chain(e),
        wallet_id=str(e.originator_id),
        plan_id=str(e.plan_id),
        employee_id=e.employee_id,
        amount_cents=e.amount_cents,
        expired_at=e.timestamp,
    )


@to_contract.register
def _(e: Wallet.CreditCarriedOver) -> ContractEvent:
    return c.CreditCarriedOver(
        **_chain(e),
        wallet_id=str(e.originator_id),
        plan_id=str(e.plan_id),
        employee_id=e.employee_id,
        to_wallet_id=str(e.to_wallet_id),
        amount_cents=e.amount_cents,
        carried_at=e.timestamp,
    )


@to_contract.register
def _(e: Wallet.CreditCarriedIn) -> ContractEvent:
    return c.CreditCarriedIn(
        **_chain(e),
        wallet_id=str(e.originator_id),
        plan_id=str(e.plan_id),
        employee_id=e.employee_id,
        from_wallet_id=str(e.from_wallet_id),
        amount_cents=e.amount_cents,
        carried_at=e.timestamp,
    )


@to_contract.register
def _(e: Plan.BonusConversionAllowed) -> ContractEvent:
    return c.BonusConversionAllowed(
        **_chain(e),
        plan_id=str(e.originator_id),
        yearly_limit_cents=e.yearly_limit_cents,
        allowed_at=e.timestamp,
    )


@to_contract.register
def _(e: Plan.BonusConverted) -> ContractEvent:
    return c.PlanBonusConverted(
        **_chain(e),
        plan_id=str(e.originator_id),
        employee_id=e.employee_id,
        wallet_id=str(e.wallet_id),
        amount_cents=e.amount_cents,
        converted_at=e.timestamp,
    )


@to_contract.register
def _(e: Wallet.BonusConverted) -> ContractEvent:
    return c.BonusConverted(
        **_chain(e),
        wallet_id=str(e.originator_id),
        plan_id=str(e.plan_id),
        employee_id=e.employee_id,
        request_id=e.request_id,
        year=e.year,
        amount_cents=e.amount_cents,
        converted_at=e.timestamp,
    )


@to_contract.register
def _(e: Wallet.CreditExpiring) -> ContractEvent:
    return c.CreditExpiring(
        **_chain(e),
        wallet_id=str(e.originator_id),
        plan_id=str(e.plan_id),
        employee_id=e.employee_id,
        expires_on=e.expires_on,
        threshold_days=e.threshold_days,
        days_left=e.days_left,
        amount_cents=e.amount_cents,
        held_cents=e.held_cents,
        reminded_at=e.timestamp,
    )


@to_contract.register
def _(e: RequestRefusal.Refused) -> ContractEvent:
    return c.RequestRefused(
        request_id=e.request_id,
        request=e.request,  # type: ignore[arg-type]
        booking_id=e.booking_id,
        wallet_id=e.wallet_id,
        hold_id=e.hold_id,
        hold_request_id=e.hold_request_id,
        hold_status=e.hold_status,  # type: ignore[arg-type]
        amount_cents=e.amount_cents,
        reason_code=e.reason_code,
        reason=e.reason,
        refused_at=e.timestamp,
    )
