"""The vouchers tally's checks across streams, run once every event is in: rounds and funds
agree on budgets, every commitment went to an approved application and issued vouchers worth
it, every redemption matches its shop's credit (and every credit a redemption), every return
matches a voucher's end, and the funds' and rounds' totals hold."""

from __future__ import annotations

from benecomune_auditor.vouchers.entities import (
    Commitment,
    Credit,
    MerchantTally,
    Redemption,
    VoucherTally,
)
from benecomune_auditor.vouchers.naming import EventRef, Violation, euro
from benecomune_auditor.vouchers.tally_figures import TallyFigures

__all__ = ["EndChecks"]


def _shop(account: MerchantTally) -> str:
    """A shop's account as a violation names it."""
    return f"merchant {account.merchant_id} in round {account.round_id}"


class EndChecks(TallyFigures):
    """The checks across streams (see the module's docstring)."""

    _finished = False

    def finish(self) -> list[Violation]:
        """Run the checks that need every stream (once); returns every violation found."""
        if not self._finished:
            self._finished = True
            self._check_rounds_and_funds()
            self._check_commitments()
            spent = self._check_redemptions()
            self._check_returns()
            self._check_totals(spent)
        return self.violations

    def _check_rounds_and_funds(self) -> None:
        for round_ in self.rounds.values():
            if round_.opened is None:
                if round_.round_id not in self.tainted:
                    self._violate(
                        "streams agree",
                        f"round {round_.round_id}",
                        "has events but no RoundOpened",
                        *round_.issued_trail.last,
                    )
                continue
            fund = self.funds.get(round_.fund_id)
            budget = fund.budgets.get(round_.round_id) if fund else None
            if budget is None:
                self._violate(
                    "issued ≤ allocated",
                    f"round {round_.round_id}",
                    f"its budget of {euro(round_.budget_cents)} was never assigned by fund "
                    f"{round_.fund_id}",
                    round_.opened,
                )
            elif budget[0] != round_.budget_cents:
                self._violate(
                    "issued ≤ allocated",
                    f"round {round_.round_id}",
                    f"its budget is {euro(round_.budget_cents)}; the fund assigned "
                    f"{euro(budget[0])}",
                    round_.opened,
                    budget[1],
                )
        for fund in self.funds.values():
            for round_id, (amount, ref) in fund.budgets.items():
                assigned = self.rounds.get(round_id)
                if assigned is None or assigned.opened is None:
                    self._violate(
                        "issued ≤ allocated",
                        f"fund {fund.fund_id}",
                        f"assigned {euro(amount)} to round {round_id}, which never opened",
                        ref,
                    )

    def _check_commitment_of_application(
        self, round_id: str, commitment: Commitment, served: dict[str, EventRef]
    ) -> None:
        """A round's budget goes to an approved application, once, up to its entitlement."""
        if round_id in self.tainted:
            return
        subject = f"round {round_id}"
        application = commitment.application_id
        if application in served:
            self._violate(
                "issued ≤ allocated",
                subject,
                f"served application {application} (household {commitment.household_id}) twice",
                served[application],
                commitment.event,
            )
        served[application] = commitment.event
        approval = self.approvals.get(application)
        if application in self.rejections:
            self._violate(
                "issued ≤ allocated",
                subject,
                f"committed {euro(commitment.amount_cents)} to application {application}, "
                "which was rejected",
                self.rejections[application],
                commitment.event,
            )
        elif approval is None:
            self._violate(
                "issued ≤ allocated",
                subject,
                f"committed {euro(commitment.amount_cents)} to application {application}, "
                "which was never approved",
                commitment.event,
            )
        elif commitment.amount_cents > approval[0]:
            self._violate(
                "issued ≤ allocated",
                subject,
                f"committed {euro(commitment.amount_cents)} to application {application}, "
                f"approved for {euro(approval[0])}",
                approval[1],
                commitment.event,
            )

    def _check_commitments(self) -> None:
        committed: dict[str, EventRef] = {}
        served: dict[str, EventRef] = {}
        tainted, vouchers = self.tainted, self.vouchers
        for round_ in self.rounds.values():
            round_id = round_.round_id
            round_tainted = round_id in tainted
            for commitment in round_.commitments:
                self._check_commitment_of_application(round_id, commitment, served)
                total = 0
                for voucher_id in commitment.voucher_ids:
                    if voucher_id in committed and not round_tainted:
                        self._violate(
                            "issued ≤ allocated",
                            f"round {round_.round_id}",
                            f"committed voucher {voucher_id} a second time",
                            committed[voucher_id],
                            commitment.event,
                        )
                    committed[voucher_id] = commitment.event
                    voucher = vouchers.get(voucher_id)
                    if voucher is None or voucher.issued is None:
                        if voucher_id not in tainted:
                            self._violate(
                                "streams agree",
                                f"round {round_.round_id}",
                                f"committed voucher {voucher_id}, which was never issued",
                                commitment.event,
                            )
                        continue
                    total += voucher.value_cents
                    if voucher_id not in tainted and (
                        voucher.round_id != round_id
                        or voucher.household_id != commitment.household_id
                    ):
                        self._violate(
                            "streams agree",
                            f"round {round_.round_id}",
                            f"committed voucher {voucher_id} to household "
                            f"{commitment.household_id}; it was issued to household "
                            f"{voucher.household_id} in round {voucher.round_id}",
                            commitment.event,
                            voucher.issued,
                        )
                if total != commitment.amount_cents and self._checking(*commitment.voucher_ids):
                    self._violate(
                        "issued ≤ allocated",
                        f"round {round_.round_id}",
                        f"committed {euro(commitment.amount_cents)} to household "
                        f"{commitment.household_id}; its vouchers are worth {euro(total)}",
                        commitment.event,
                    )
        for voucher in self.vouchers.values():
            if voucher.issued is None:
                if voucher.voucher_id not in self.tainted:
                    first = next(iter(voucher.redemptions.values()), None)
                    self._violate(
                        "streams agree",
                        f"voucher {voucher.voucher_id}",
                        "has events but no VoucherIssued",
                        first.event if first else None,
                    )
            elif voucher.voucher_id not in committed and self._checking(
                voucher.voucher_id, voucher.round_id
            ):
                self._violate(
                    "issued ≤ allocated",
                    f"voucher {voucher.voucher_id}",
                    f"issued for {euro(voucher.value_cents)} without a commitment of round "
                    f"{voucher.round_id}'s budget",
                    voucher.issued,
                )

    def _accounts_by_merchant(self) -> dict[tuple[str, str], MerchantTally]:
        return {(a.round_id, a.merchant_id): a for a in self.merchants.values() if a.affiliated}

    def _check_redemptions(self) -> dict[str, int]:
        """Every redemption against its round's rules and its shop's credit, and every credit
        against a redemption. Returns what each round's vouchers spent, net of voids (summed
        on the way: one pass over a big ledger's vouchers is a good part of the end checks)."""
        shops: dict[str, dict[str, MerchantTally]] = {}  # round -> merchant -> account
        for (round_id, merchant_id), shop in self._accounts_by_merchant().items():
            shops.setdefault(round_id, {})[merchant_id] = shop
        no_shops: dict[str, MerchantTally] = {}
        tainted, rounds = self.tainted, self.rounds
        spent: dict[str, int] = {}
        matched = 0  # credits a redemption names
        for voucher in self.vouchers.values():
            redemptions = voucher.redemptions
            if not redemptions:
                continue
            voucher_id, round_id = voucher.voucher_id, voucher.round_id
            round_ = rounds.get(round_id)
            excluded = round_.excluded_categories if round_ is not None else frozenset()
            round_shops = shops.get(round_id, no_shops)
            voucher_tainted = voucher_id in tainted
            net = 0
            for redemption_id, redemption in redemptions.items():
                if redemption.voided is None:
                    net += redemption.amount_cents
                account = round_shops.get(redemption.merchant_id)
                if redemption.goods_category in excluded:
                    self._violate(
                        "redeemed ≤ issued",
                        f"voucher {voucher.voucher_id}",
                        f"spent on excluded goods ({redemption.goods_category})",
                        redemption.event,
                    )
                if account is None:
                    self._violate(
                        "streams agree",
                        f"voucher {voucher.voucher_id}",
                        f"spent at {redemption.merchant_id}, not affiliated to round "
                        f"{voucher.round_id}",
                        redemption.event,
                    )
                    continue
                credit = account.credits.get(redemption_id)
                if credit is not None and not credit.matched:
                    credit.matched = True
                    matched += 1
                if voucher_tainted or (tainted and account.account_id in tainted):
                    continue
                if (
                    credit is None
                    or credit.amount_cents != redemption.amount_cents
                    or credit.voucher_id != voucher_id
                    or (redemption.voided is None) != (credit.debited is None)
                ):
                    self._match_credit(voucher, redemption_id, redemption, account, credit)
            spent[round_id] = spent.get(round_id, 0) + net
        if matched < sum(len(account.credits) for account in self.merchants.values()):
            self._check_unmatched_credits()  # else every credit is named by a redemption
        return spent

    def _check_unmatched_credits(self) -> None:
        """A shop credited for a redemption no voucher records (after the redemptions pass
        has marked the credits it matched)."""
        for account in self.merchants.values():
            for redemption_id, credit in account.credits.items():
                if credit.matched:
                    continue
                if self._checking(account.account_id, credit.voucher_id):
                    self._violate(
                        "redeemed ≤ issued",
                        _shop(account),
                        f"credited {euro(credit.amount_cents)} for redemption {redemption_id}, "
                        f"which voucher {credit.voucher_id} does not record",
                        credit.event,
                    )

    def _match_credit(
        self,
        voucher: VoucherTally,
        redemption_id: str,
        redemption: Redemption,
        account: MerchantTally,
        credit: Credit | None,
    ) -> None:
        """What is wrong between a redemption and its shop's credit (the caller checks that
        something is)."""
        if credit is None:
            self._violate(
                "redeemed ≤ issued",
                _shop(account),
                f"redemption {redemption_id} of {euro(redemption.amount_cents)} was never "
                "credited to the shop",
                redemption.event,
            )
            return
        if (credit.amount_cents, credit.voucher_id) != (
            redemption.amount_cents,
            voucher.voucher_id,
        ):
            other = (
                ""
                if credit.voucher_id == voucher.voucher_id
                else f" for voucher {credit.voucher_id}"
            )
            self._violate(
                "redeemed ≤ issued",
                _shop(account),
                f"redemption {redemption_id}: voucher {voucher.voucher_id} spent "
                f"{euro(redemption.amount_cents)}, the shop was credited "
                f"{euro(credit.amount_cents)}{other}",
                redemption.event,
                credit.event,
            )
        if (redemption.voided is None) != (credit.debited is None):
            where = (
                "the voucher but not on the shop's account"
                if credit.debited is None
                else "the shop's account but not on the voucher"
            )
            self._violate(
                "redeemed ≤ issued",
                _shop(account),
                f"redemption {redemption_id} was voided on {where}",
                redemption.voided or redemption.event,
                credit.debited or credit.event,
            )

    def _check_returns(self) -> None:
        tainted, rounds = self.tainted, self.rounds
        for voucher in self.vouchers.values():
            round_ = rounds.get(voucher.round_id)
            if round_ is None:
                continue
            returned = round_.returns.get(voucher.voucher_id)
            ended = voucher.ended if voucher.ended and voucher.ended[0] > 0 else None
            if ended is None and returned is None:
                continue  # nothing to return: most vouchers
            if tainted and (voucher.voucher_id in tainted or voucher.round_id in tainted):
                continue
            if ended and not returned:
                self._violate(
                    "streams agree",
                    f"round {round_.round_id}",
                    f"voucher {voucher.voucher_id} ended with {euro(ended[0])} unspent that "
                    "never returned to the round",
                    ended[1],
                )
            elif returned and not ended:
                self._violate(
                    "streams agree",
                    f"round {round_.round_id}",
                    f"{euro(returned[0])} returned for voucher {voucher.voucher_id}, which "
                    "did not expire or get revoked with money left",
                    returned[2],
                )
            elif ended and returned and ended[0] != returned[0]:
                self._violate(
                    "streams agree",
                    f"round {round_.round_id}",
                    f"voucher {voucher.voucher_id} ended with {euro(ended[0])}; the round got "
                    f"{euro(returned[0])} back",
                    ended[1],
                    returned[2],
                )

    def _check_totals(self, spent: dict[str, int]) -> None:
        """The funds' and rounds' figures add up; ``spent``: what each round's vouchers spent,
        net of voids (from :meth:`_check_redemptions`)."""
        for fund_id, figures in self.fund_figures().items():
            fund = self.funds[fund_id]
            trails = self.fund_trails(fund_id)
            rules: list[tuple[str, bool, str, str]] = [
                (
                    "issued ≤ allocated",
                    figures["issued_cents"] - figures["returned_cents"]
                    > figures["allocated_cents"],
                    f"issued {euro(figures['issued_cents'])} less returned "
                    f"{euro(figures['returned_cents'])} exceeds the "
                    f"{euro(figures['allocated_cents'])} allocated",
                    "issued_cents",
                ),
                (
                    "redeemed ≤ issued",
                    figures["redeemed_cents"] + figures["returned_cents"] > figures["issued_cents"],
                    f"redeemed {euro(figures['redeemed_cents'])} and returned "
                    f"{euro(figures['returned_cents'])} exceed the "
                    f"{euro(figures['issued_cents'])} issued",
                    "redeemed_cents",
                ),
                (
                    "reimbursed ≤ redeemed",
                    figures["reimbursed_cents"] > figures["redeemed_cents"],
                    f"reimbursed {euro(figures['reimbursed_cents'])} exceeds the "
                    f"{euro(figures['redeemed_cents'])} redeemed",
                    "reimbursed_cents",
                ),
            ]
            for rule, broken, detail, figure in rules:
                if broken:
                    self._violate(
                        rule, f"fund {fund_id}", detail, fund.opened, *trails[figure].last
                    )
        for round_ in self.rounds.values():
            redeemed = spent.get(round_.round_id, 0)
            if redeemed + round_.returned_cents > round_.issued_cents:
                self._violate(
                    "redeemed ≤ issued",
                    f"round {round_.round_id}",
                    f"vouchers spent {euro(redeemed)} and returned "
                    f"{euro(round_.returned_cents)}, more than the "
                    f"{euro(round_.issued_cents)} issued",
                    round_.opened,
                    *round_.issued_trail.last,
                )
