"""The figures the vouchers tally adds up, as the service reports them (per fund, per shop
account), and the events behind each (its trail)."""

from __future__ import annotations

from benecomune_auditor.vouchers.entities import MerchantTally, RoundTally
from benecomune_auditor.vouchers.naming import Trail
from benecomune_auditor.vouchers.state import TallyState

__all__ = ["TallyFigures"]


class TallyFigures(TallyState):
    """The tally's figures (see the module's docstring)."""

    def rounds_of(self, fund_id: str) -> list[RoundTally]:
        return [r for r in self.rounds.values() if r.fund_id == fund_id]

    def merchants_of(self, fund_id: str) -> list[MerchantTally]:
        rounds = {r.round_id for r in self.rounds_of(fund_id)}
        return [m for m in self.merchants.values() if m.round_id in rounds]

    def fund_figures(self) -> dict[str, dict[str, int]]:
        """Per fund, the figures the service reports (``FUND_FIGURES``), from events only."""
        result: dict[str, dict[str, int]] = {}
        for fund_id, fund in self.funds.items():
            rounds = self.rounds_of(fund_id)
            merchants = self.merchants_of(fund_id)
            issued = sum(r.issued_cents for r in rounds)
            returned = sum(r.returned_cents for r in rounds)
            result[fund_id] = {
                "allocated_cents": fund.allocated_cents,
                "assigned_to_rounds_cents": fund.assigned_cents,
                "issued_cents": issued,
                "redeemed_cents": sum(m.redeemed_cents for m in merchants),
                "reimbursed_cents": sum(m.reimbursed_cents for m in merchants),
                "returned_cents": returned,
                "available_cents": fund.allocated_cents - issued + returned,
            }
        return result

    def fund_trails(self, fund_id: str) -> dict[str, Trail]:
        fund = self.funds[fund_id]
        rounds = self.rounds_of(fund_id)
        merchants = self.merchants_of(fund_id)
        issued = Trail.merged(r.issued_trail for r in rounds)
        returned = Trail.merged(r.returned_trail for r in rounds)
        return {
            "allocated_cents": fund.allocated_trail,
            "assigned_to_rounds_cents": fund.assigned_trail,
            "issued_cents": issued,
            "redeemed_cents": Trail.merged(m.redeemed_trail for m in merchants),
            "reimbursed_cents": Trail.merged(m.reimbursed_trail for m in merchants),
            "returned_cents": returned,
            "available_cents": Trail.merged([fund.allocated_trail, issued, returned]),
        }

    def merchant_figures(self) -> dict[tuple[str, str], dict[str, int]]:
        """Per (round, merchant), the figures the service reports (``MERCHANT_FIGURES``)."""
        return {
            (m.round_id, m.merchant_id): {
                "redeemed_cents": m.redeemed_cents,
                "claimed_cents": m.claimed_cents,
                "approved_cents": m.approved_cents,
                "reimbursed_cents": m.reimbursed_cents,
            }
            for m in self.merchants.values()
        }

    def merchant_trails(self, round_id: str, merchant_id: str) -> dict[str, Trail]:
        for m in self.merchants.values():
            if (m.round_id, m.merchant_id) == (round_id, merchant_id):
                return {
                    "redeemed_cents": m.redeemed_trail,
                    "claimed_cents": m.claimed_trail,
                    "approved_cents": m.approved_trail,
                    "reimbursed_cents": m.reimbursed_trail,
                }
        return {}
