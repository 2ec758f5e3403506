"""A shop's reimbursement claims: submitted for a period's redemptions, approved with a
payment date by the municipality, paid."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from servicekit.store import retried

from vouchers.application import commands as cmd
from vouchers.application.store import VouchersStore


@retried
def claim_reimbursement(
    store: VouchersStore,
    round_id: UUID,
    merchant_id: str,
    claim_id: UUID,
    command: cmd.ClaimReimbursement,
) -> int:
    account = store.merchant_account(round_id, merchant_id)
    history = store.merchant_ledger(account.id)
    amount = account.claim(claim_id, command.period_from, command.period_to, history)
    store.save(account)
    return amount


@retried
def approve_claim(
    store: VouchersStore,
    round_id: UUID,
    merchant_id: str,
    claim_id: UUID,
    payment_due_on: date,
    today: date,
) -> None:
    account = store.merchant_account(round_id, merchant_id)
    account.approve_claim(claim_id, payment_due_on, today)
    store.save(account)


@retried
def pay_claim(
    store: VouchersStore, round_id: UUID, merchant_id: str, claim_id: UUID, reference: str
) -> None:
    account = store.merchant_account(round_id, merchant_id)
    account.pay_claim(claim_id, reference)
    store.save(account)
