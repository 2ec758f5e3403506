"""The vouchers tally's rules of a shop's account in a round: affiliated, suspended and
reinstated, credited and debited for redemptions, and its reimbursement claims (claimed,
approved, paid: reimbursed ≤ approved ≤ claimed ≤ redeemed)."""

from __future__ import annotations

import itertools

from benecomune_auditor.vouchers.entities import Claim, Credit, MerchantTally
from benecomune_auditor.vouchers.naming import EventRef, euro
from benecomune_auditor.vouchers.state import Fields, TallyState

__all__ = ["ShopRules"]


class ShopRules(TallyState):
    """The handlers of the shops' events (see :class:`~.tally.VouchersTally`)."""

    def _merchant_affiliated(self, f: Fields, ref: EventRef) -> None:
        account = self.merchants[f["account_id"]]
        account.round_id = f["round_id"]
        account.merchant_id = f["merchant_id"]
        account.vat_number = f["vat_number"]
        account.affiliated = ref

    def _merchant_suspended(self, f: Fields, ref: EventRef) -> None:
        self.merchants[f["account_id"]].suspended = ref

    def _merchant_reinstated(self, f: Fields, ref: EventRef) -> None:
        self.merchants[f["account_id"]].suspended = None

    def _merchant_credited(self, f: Fields, ref: EventRef) -> None:
        account_id, redemption_id, amount = f["account_id"], f["redemption_id"], f["amount_cents"]
        account = self.merchants[account_id]
        if account_id not in self.tainted:
            if account.suspended is not None:
                self._violate(
                    "streams agree",
                    f"merchant {f['merchant_id']} in round {account.round_id}",
                    f"redemption {redemption_id} was credited while the shop was suspended",
                    account.suspended,
                    ref,
                )
            if redemption_id in account.credits:
                self._violate(
                    "redeemed ≤ issued",
                    f"merchant {f['merchant_id']} in round {account.round_id}",
                    f"redemption {redemption_id} was credited twice",
                    account.credits[redemption_id].event,
                    ref,
                )
        account.credits[redemption_id] = Credit(f["voucher_id"], amount, ref)
        account.redeemed_cents += amount
        account.redeemed_trail.add(ref)

    def _merchant_debited(self, f: Fields, ref: EventRef) -> None:
        account = self.merchants[f["account_id"]]
        credit = account.credits.get(f["redemption_id"])
        if f["account_id"] not in self.tainted:
            problem = None
            if credit is None:
                problem = f"debits redemption {f['redemption_id']}, never credited"
            elif credit.debited is not None:
                problem = f"debits redemption {f['redemption_id']} a second time"
            elif credit.amount_cents != f["amount_cents"]:
                problem = (
                    f"debits {euro(f['amount_cents'])} for a credit of {euro(credit.amount_cents)}"
                )
            elif credit.claim_id is not None:
                problem = f"debits redemption {f['redemption_id']}, already claimed"
            if problem:
                self._violate(
                    "reimbursed ≤ redeemed",
                    f"merchant {f['merchant_id']} in round {account.round_id}",
                    problem,
                    credit.event if credit else None,
                    ref,
                )
        if credit is not None:
            credit.debited = ref
        account.redeemed_cents -= f["amount_cents"]
        account.redeemed_trail.add(ref)

    def _claimed(self, f: Fields, ref: EventRef) -> None:
        account = self.merchants[f["account_id"]]
        subject = f"merchant {f['merchant_id']} in round {account.round_id}"
        if f["account_id"] not in self.tainted:
            total = 0
            for redemption_id in f["redemption_ids"]:
                credit = account.credits.get(redemption_id)
                problem = None
                if credit is None:
                    problem = "was never credited"
                elif credit.debited is not None:
                    problem = "was voided"
                elif credit.claim_id is not None:
                    problem = f"was already claimed in claim {credit.claim_id}"
                else:
                    total += credit.amount_cents
                if problem:
                    self._violate(
                        "reimbursed ≤ redeemed",
                        subject,
                        f"claim {f['claim_id']} takes redemption {redemption_id}, which {problem}",
                        ref,
                        credit.event if credit else None,
                    )
            if total != f["amount_cents"]:
                self._violate(
                    "reimbursed ≤ redeemed",
                    subject,
                    f"claim {f['claim_id']} asks {euro(f['amount_cents'])} for redemptions worth "
                    f"{euro(total)}",
                    ref,
                )
        for redemption_id in f["redemption_ids"]:
            credit = account.credits.get(redemption_id)
            if credit is not None and credit.claim_id is None:
                credit.claim_id = f["claim_id"]
        account.claims[f["claim_id"]] = Claim(
            f["amount_cents"], "claimed", list(f["redemption_ids"]), [ref]
        )
        account.claimed_cents += f["amount_cents"]
        account.claimed_trail.add(ref)
        self._check_account_order(account, ref)

    def _claim_step(
        self,
        f: Fields,
        ref: EventRef,
        before: str,
        after: str,
    ) -> MerchantTally:
        account = self.merchants[f["account_id"]]
        claim = account.claims.get(f["claim_id"])
        if f["account_id"] not in self.tainted:
            problem = None
            if claim is None:
                problem = f"claim {f['claim_id']} was never submitted"
            elif claim.status != before:
                problem = f"claim {f['claim_id']} is {claim.status}, not {before}"
            elif claim.amount_cents != f["amount_cents"]:
                problem = (
                    f"claim {f['claim_id']} is {after} for {euro(f['amount_cents'])}, but was for "
                    f"{euro(claim.amount_cents)}"
                )
            if problem:
                self._violate(
                    "reimbursed ≤ redeemed",
                    f"merchant {f['merchant_id']} in round {account.round_id}",
                    problem,
                    *(claim.events if claim else []),
                    ref,
                )
        if claim is not None:
            claim.status = after
            claim.events.append(ref)
        return account

    def _claim_approved(self, f: Fields, ref: EventRef) -> None:
        account = self._claim_step(f, ref, "claimed", "approved")
        account.approved_cents += f["amount_cents"]
        account.approved_trail.add(ref)
        self._check_account_order(account, ref)

    def _claim_paid(self, f: Fields, ref: EventRef) -> None:
        account = self._claim_step(f, ref, "approved", "paid")
        account.reimbursed_cents += f["amount_cents"]
        account.reimbursed_trail.add(ref)
        self._check_account_order(account, ref)

    def _check_account_order(self, account: MerchantTally, ref: EventRef) -> None:
        if account.account_id in self.tainted:
            return
        figures = [
            ("reimbursed", account.reimbursed_cents),
            ("approved", account.approved_cents),
            ("claimed", account.claimed_cents),
            ("redeemed", account.redeemed_cents),
        ]
        for (lower, low), (upper, high) in itertools.pairwise(figures):
            if low > high:
                self._violate(
                    "reimbursed ≤ redeemed",
                    f"merchant {account.merchant_id} in round {account.round_id}",
                    f"{lower} {euro(low)} exceeds {upper} {euro(high)}",
                    ref,
                )
                return
