"""Which domain events leave the service, and as what. Explicit on purpose: a new domain event
stays private until someone maps it here, so personal data cannot leak by accident (application
events carry a pseudonymous household id; names, fiscal codes and incomes stay sealed).

Every event of a ledger stream (funds, rounds, vouchers, merchant accounts) maps to a
LedgerEvent: the hash chain is computed over exactly this public form. The application registers
this mapping for the ``LEDGER_AGGREGATES`` when it starts (``ServiceApplication``'s
``contract_mapper`` and ``ledger_aggregates``).
"""

from __future__ import annotations

from functools import singledispatch
from typing import Any

from benecomune_contracts import ContractEvent
from benecomune_contracts import vouchers as c

from vouchers.adapters import service_vouchers
from vouchers.domain.fund import Fund
from vouchers.domain.household_application import HouseholdApplication
from vouchers.domain.merchant import MerchantAccount
from vouchers.domain.round import Round
from vouchers.domain.voucher import Voucher

# The ledger streams: every event of theirs is public and hash-chained.
LEDGER_AGGREGATES: tuple[type[Any], ...] = (Fund, Round, Voucher, MerchantAccount)


def _chain(e: Any) -> dict[str, Any]:
    return {
        "stream_id": str(e.originator_id),
        "sequence": e.originator_version,
        "prev_hash": e.prev_hash,
        "event_hash": e.event_hash,
    }


@singledispatch
def to_contract(event: object) -> ContractEvent | None:
    # private: household index entries, anything not mapped below or in service_vouchers
    return service_vouchers.to_contract(event)


@to_contract.register
def _(e: Fund.Allocated) -> ContractEvent:
    return c.FundAllocated(
        **_chain(e),
        fund_id=str(e.originator_id),
        municipality_istat=e.municipality_istat,
        source_kind=e.source_kind,
        source_reference=e.source_reference,
        amount_cents=e.amount_cents,
        allocated_at=e.timestamp,
    )


@to_contract.register
def _(e: Fund.ToppedUp) -> ContractEvent:
    return c.FundToppedUp(
        **_chain(e),
        fund_id=str(e.originator_id),
        source_kind=e.source_kind,
        source_reference=e.source_reference,
        amount_cents=e.amount_cents,
        topped_up_at=e.timestamp,
    )


@to_contract.register
def _(e: Fund.BudgetAssigned) -> ContractEvent:
    return c.FundBudgetAssigned(
        **_chain(e),
        fund_id=str(e.originator_id),
        round_id=str(e.round_id),
        amount_cents=e.amount_cents,
        assigned_at=e.timestamp,
    )


@to_contract.register
def _(e: Round.Opened) -> ContractEvent:
    return c.RoundOpened(
        **_chain(e),
        round_id=str(e.originator_id),
        fund_id=str(e.fund_id),
        municipality_istat=e.municipality_istat,
        title=e.title,
        opens_at=e.opens_at,
        closes_at=e.closes_at,
        budget_cents=e.budget_cents,
        rules=e.rules,
        denominations_cents=e.denominations_cents,
        validity_days=e.validity_days,
        excluded_categories=e.excluded_categories,
        opened_at=e.timestamp,
    )


@to_contract.register
def _(e: Round.VouchersCommitted) -> ContractEvent:
    return c.RoundVouchersCommitted(
        **_chain(e),
        round_id=str(e.originator_id),
        application_id=str(e.application_id),
        household_id=str(e.household_id),
        voucher_ids=e.voucher_ids,
        amount_cents=e.amount_cents,
        committed_at=e.timestamp,
    )


@to_contract.register
def _(e: Round.ValueReturned) -> ContractEvent:
    return c.RoundValueReturned(
        **_chain(e),
        round_id=str(e.originator_id),
        voucher_id=str(e.voucher_id),
        amount_cents=e.amount_cents,
        reason=e.reason,
        returned_at=e.timestamp,
    )


@to_contract.register
def _(e: Round.Closed) -> ContractEvent:
    return c.RoundClosed(**_chain(e), round_id=str(e.originator_id), closed_at=e.timestamp)


@to_contract.register
def _(e: HouseholdApplication.Submitted) -> ContractEvent:
    return c.ApplicationSubmitted(
        application_id=str(e.originator_id),
        round_id=str(e.round_id),
        household_id=str(e.household_id),
        members=e.members,
        minors=e.minors,
        submitted_at=e.timestamp,
        applicant_id=e.applicant,
    )


@to_contract.register
def _(e: HouseholdApplication.Approved) -> ContractEvent:
    return c.ApplicationApproved(
        application_id=str(e.originator_id),
        round_id=str(e.round_id),
        household_id=str(e.household_id),
        entitlement_cents=e.entitlement_cents,
        priority=e.priority,
        approved_at=e.timestamp,
    )


@to_contract.register
def _(e: HouseholdApplication.Rejected) -> ContractEvent:
    return c.ApplicationRejected(
        application_id=str(e.originator_id),
        round_id=str(e.round_id),
        household_id=str(e.household_id),
        reason_code=e.reason_code,
        rejected_at=e.timestamp,
    )


@to_contract.register
def _(e: HouseholdApplication.Waitlisted) -> ContractEvent:
    return c.ApplicationWaitlisted(
        application_id=str(e.originator_id),
        round_id=str(e.round_id),
        household_id=str(e.household_id),
        rank=e.rank,
        waitlisted_at=e.timestamp,
    )


@to_contract.register
def _(e: HouseholdApplication.Served) -> ContractEvent:
    # The codes stay sealed; the household hears how many vouchers, their total and expiry.
    return c.ApplicationServed(
        application_id=str(e.originator_id),
        round_id=str(e.round_id),
        household_id=str(e.household_id),
        voucher_count=len(e.voucher_ids),
        amount_cents=e.amount_cents,
        expires_at=e.expires_at,
        from_waitlist=e.from_waitlist,
        served_at=e.timestamp,
    )


@to_contract.register
def _(e: Voucher.Issued) -> ContractEvent:
    return c.VoucherIssued(
        **_chain(e),
        voucher_id=str(e.originator_id),
        round_id=str(e.round_id),
        application_id=str(e.application_id),
        household_id=str(e.household_id),
        value_cents=e.value_cents,
        expires_at=e.expires_at,
        issued_at=e.timestamp,
    )


@to_contract.register
def _(e: Voucher.DelegateNamed) -> ContractEvent:
    return c.VoucherDelegateNamed(
        **_chain(e),
        voucher_id=str(e.originator_id),
        delegate_id=e.delegate_id,
        named_at=e.timestamp,
    )


@to_contract.register
def _(e: Voucher.Redeemed) -> ContractEvent:
    return c.VoucherRedeemed(
        **_chain(e),
        voucher_id=str(e.originator_id),
        round_id=str(e.round_id),
        redemption_id=str(e.redemption_id),
        merchant_id=e.merchant_id,
        amount_cents=e.amount_cents,
        goods_category=e.goods_category,
        remaining_cents=e.remaining_cents,
        redeemed_at=e.redeemed_at or e.timestamp,
    )


@to_contract.register
def _(e: Voucher.RedemptionVoided) -> ContractEvent:
    return c.VoucherRedemptionVoided(
        **_chain(e),
        voucher_id=str(e.originator_id),
        round_id=str(e.round_id),
        redemption_id=str(e.redemption_id),
        merchant_id=e.merchant_id,
        amount_cents=e.amount_cents,
        voided_at=e.timestamp,
    )


@to_contract.register
def _(e: Voucher.Expired) -> ContractEvent:
    return c.VoucherExpired(
        **_chain(e),
        voucher_id=str(e.originator_id),
        round_id=str(e.round_id),
        amount_cents=e.amount_cents,
        expired_at=e.timestamp,
    )


@to_contract.register
def _(e: Voucher.Revoked) -> ContractEvent:
    return c.VoucherRevoked(
        **_chain(e),
        voucher_id=str(e.originator_id),
        round_id=str(e.round_id),
        amount_cents=e.amount_cents,
        reason_code=e.reason_code,
        revoked_at=e.timestamp,
    )


@to_contract.register
def _(e: MerchantAccount.Affiliated) -> ContractEvent:
    return c.MerchantAffiliated(
        **_chain(e),
        account_id=str(e.originator_id),
        round_id=str(e.round_id),
        merchant_id=e.merchant_id,
        vat_number=e.vat_number,
        goods_categories=e.goods_categories,
        excluded_categories=e.excluded_categories,
        affiliated_at=e.timestamp,
    )


@to_contract.register
def _(e: MerchantAccount.Suspended) -> ContractEvent:
    return c.MerchantSuspended(
        **_chain(e),
        account_id=str(e.originator_id),
        merchant_id=e.merchant_id,
        reason_code=e.reason_code,
        suspended_at=e.timestamp,
    )


@to_contract.register
def _(e: MerchantAccount.Reinstated) -> ContractEvent:
    return c.MerchantReinstated(
        **_chain(e),
        account_id=str(e.originator_id),
        merchant_id=e.merchant_id,
        reinstated_at=e.timestamp,
    )


@to_contract.register
def _(e: MerchantAccount.Credited) -> ContractEvent:
    return c.MerchantCredited(
        **_chain(e),
        account_id=str(e.originator_id),
        merchant_id=e.merchant_id,
        redemption_id=str(e.redemption_id),
        voucher_id=str(e.voucher_id),
        amount_cents=e.amount_cents,
        credited_at=e.credited_at,
    )


@to_contract.register
def _(e: MerchantAccount.Debited) -> ContractEvent:
    return c.MerchantDebited(
        **_chain(e),
        account_id=str(e.originator_id),
        merchant_id=e.merchant_id,
        redemption_id=str(e.redemption_id),
        amount_cents=e.amount_cents,
        debited_at=e.timestamp,
    )


@to_contract.register
def _(e: MerchantAccount.ClaimSubmitted) -> ContractEvent:
    return c.ReimbursementClaimed(
        **_chain(e),
        account_id=str(e.originator_id),
        claim_id=str(e.claim_id),
        merchant_id=e.merchant_id,
        round_id=str(e.round_id),
        period_from=e.period_from,
        period_to=e.period_to,
        amount_cents=e.amount_cents,
        redemption_ids=e.redemption_ids,
        claimed_at=e.timestamp,
    )


@to_contract.register
def _(e: MerchantAccount.ClaimApproved) -> ContractEvent:
    return c.ReimbursementApproved(
        **_chain(e),
        account_id=str(e.originator_id),
        claim_id=str(e.claim_id),
        merchant_id=e.merchant_id,
        amount_cents=e.amount_cents,
        payment_due_on=e.payment_due_on,
        approved_at=e.timestamp,
    )


@to_contract.register
def _(e: MerchantAccount.ClaimPaid) -> ContractEvent:
    return c.ReimbursementPaid(
        **_chain(e),
        account_id=str(e.originator_id),
        claim_id=str(e.claim_id),
        merchant_id=e.merchant_id,
        amount_cents=e.amount_cents,
        payment_reference=e.payment_reference,
        paid_at=e.timestamp,
    )
