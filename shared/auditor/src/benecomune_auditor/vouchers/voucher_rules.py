"""The vouchers tally's rules of a voucher's life: issued, its delegate named, spent at the till
(never below zero, after expiry or revocation, and leaving what its history leaves), a
redemption voided, expired or revoked with its unspent value returned."""

from __future__ import annotations

from benecomune_auditor.vouchers.entities import Redemption
from benecomune_auditor.vouchers.naming import EventRef, euro
from benecomune_auditor.vouchers.state import Fields, TallyState

__all__ = ["VoucherRules"]


class VoucherRules(TallyState):
    """The handlers of the vouchers' events (see :class:`~.tally.VouchersTally`)."""

    def _voucher_issued(self, f: Fields, ref: EventRef) -> None:
        voucher = self.vouchers[f["voucher_id"]]
        voucher.round_id = f["round_id"]
        voucher.application_id = f["application_id"]
        voucher.household_id = f["household_id"]
        voucher.value_cents = voucher.remaining_cents = f["value_cents"]
        voucher.status = "active"
        voucher.issued = ref
        voucher.expires_at = f["expires_at"]
        household = self.households[f["household_id"]]
        household.round_id = f["round_id"]
        household.vouchers += 1
        household.issued_cents += f["value_cents"]

    def _voucher_delegate(self, f: Fields, ref: EventRef) -> None:
        pass  # no money moves

    def _voucher_redeemed(self, f: Fields, ref: EventRef) -> None:
        voucher_id, amount, redemption_id = f["voucher_id"], f["amount_cents"], f["redemption_id"]
        voucher = self.vouchers[voucher_id]
        subject = f"voucher {voucher_id}"
        if voucher_id not in self.tainted:
            if voucher.status != "active":
                self._violate(
                    "redeemed ≤ issued",
                    subject,
                    f"spent {euro(amount)} while {voucher.status}",
                    ref,
                    voucher.issued,
                )
            elif amount > voucher.remaining_cents:
                self._violate(
                    "no voucher remaining < 0",
                    subject,
                    f"spent {euro(amount)} with {euro(voucher.remaining_cents)} left",
                    ref,
                    voucher.issued,
                )
            elif f["remaining_cents"] != voucher.remaining_cents - amount:
                self._violate(
                    "redeemed ≤ issued",
                    subject,
                    f"the redemption says {euro(f['remaining_cents'])} remain; the voucher's "
                    f"history leaves {euro(voucher.remaining_cents - amount)}",
                    ref,
                )
            redeemed_at = f["redeemed_at"]
            if voucher.expires_at is not None and redeemed_at >= voucher.expires_at:
                self._violate(
                    "redeemed ≤ issued",
                    subject,
                    f"spent {euro(amount)} on {redeemed_at:%Y-%m-%d %H:%M} UTC, after it "
                    f"expired on {voucher.expires_at:%Y-%m-%d %H:%M} UTC",
                    ref,
                    voucher.issued,
                )
            if redemption_id in voucher.redemptions:
                self._violate(
                    "redeemed ≤ issued",
                    subject,
                    f"redemption {redemption_id} was spent twice",
                    voucher.redemptions[redemption_id].event,
                    ref,
                )
        voucher.remaining_cents -= amount
        voucher.redemptions[redemption_id] = Redemption(
            f["merchant_id"], amount, f["goods_category"], ref
        )
        if voucher.household_id:
            self.households[voucher.household_id].redeemed_cents += amount

    def _voucher_voided(self, f: Fields, ref: EventRef) -> None:
        voucher = self.vouchers[f["voucher_id"]]
        redemption = voucher.redemptions.get(f["redemption_id"])
        if f["voucher_id"] not in self.tainted:
            problem = None
            if redemption is None:
                problem = f"voids redemption {f['redemption_id']}, which it never had"
            elif redemption.voided is not None:
                problem = f"voids redemption {f['redemption_id']} a second time"
            elif (redemption.merchant_id, redemption.amount_cents) != (
                f["merchant_id"],
                f["amount_cents"],
            ):
                problem = (
                    f"voids {euro(f['amount_cents'])} at {f['merchant_id']} for a redemption of "
                    f"{euro(redemption.amount_cents)} at {redemption.merchant_id}"
                )
            elif voucher.status != "active":
                problem = f"a redemption was voided while the voucher was {voucher.status}"
            if problem:
                self._violate(
                    "redeemed ≤ issued",
                    f"voucher {f['voucher_id']}",
                    problem,
                    redemption.event if redemption else None,
                    ref,
                )
        voucher.remaining_cents += f["amount_cents"]
        if redemption is not None:
            redemption.voided = ref
        if voucher.household_id:
            self.households[voucher.household_id].redeemed_cents -= f["amount_cents"]

    def _voucher_ended(self, status: str, f: Fields, ref: EventRef) -> None:
        """A VoucherExpired (``status`` expired) or VoucherRevoked (revoked)."""
        voucher = self.vouchers[f["voucher_id"]]
        if f["voucher_id"] not in self.tainted:
            if voucher.status != "active":
                self._violate(
                    "redeemed ≤ issued",
                    f"voucher {f['voucher_id']}",
                    f"ended again while already {voucher.status}",
                    voucher.ended[1] if voucher.ended else None,
                    ref,
                )
            elif voucher.held_cents:
                self._violate(
                    "held ≤ balance",
                    f"voucher {f['voucher_id']}",
                    f"ended while holding {euro(voucher.held_cents)} for bookings",
                    ref,
                )
            elif f["amount_cents"] != voucher.remaining_cents:
                self._violate(
                    "redeemed ≤ issued",
                    f"voucher {f['voucher_id']}",
                    f"returns {euro(f['amount_cents'])} but had "
                    f"{euro(voucher.remaining_cents)} left",
                    ref,
                )
        voucher.status = status
        voucher.remaining_cents = 0
        voucher.ended = (f["amount_cents"], ref)
        if voucher.household_id:
            self.households[voucher.household_id].returned_cents += f["amount_cents"]
