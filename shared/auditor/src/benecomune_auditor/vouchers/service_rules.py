"""The vouchers tally's rules of service vouchers (buoni servizio): a services round and the
categories it covers, a care provider's account in it, and a booking's holds on a voucher.

* **held ≤ balance** — a hold takes at most what the voucher has left that no other booking
  holds; only a services round's active voucher is held, for a category the round covers and
  a provider with an active account in the round; a voucher never ends (expires, is revoked)
  while it holds money;
* **captured ≤ held, no capture without hold** — a capture or release ends an open hold of the
  voucher, once; a capture takes at most the hold, for the hold's provider, and is a
  redemption like a sale at a till (the voucher's balance drops, the provider's account is
  credited: the end checks match the two, as for a shop);
* a service voucher is never spent at a till (:meth:`ServiceRules._check_service_vouchers`,
  once every event is in).
"""

from __future__ import annotations

from benecomune_auditor.vouchers.entities import HoldTally, Redemption, VoucherTally
from benecomune_auditor.vouchers.naming import EventRef, euro
from benecomune_auditor.vouchers.state import Fields, TallyState

__all__ = ["ServiceRules"]


class ServiceRules(TallyState):
    """The handlers of the service vouchers' events (see :class:`~.tally.VouchersTally`)."""

    def _round_services_covered(self, f: Fields, ref: EventRef) -> None:
        round_ = self.rounds[f["round_id"]]
        round_.kind = "services"
        round_.service_categories = frozenset(f["service_categories"])

    def _provider_account_opened(self, f: Fields, ref: EventRef) -> None:
        account = self.merchants[f["account_id"]]
        account.round_id = f["round_id"]
        account.merchant_id = f["provider_id"]
        account.affiliated = ref
        account.provider = True
        self.provider_accounts[(f["round_id"], f["provider_id"])] = f["account_id"]

    def _voucher_held(self, f: Fields, ref: EventRef) -> None:
        voucher = self.vouchers[f["voucher_id"]]
        amount, hold_id = f["amount_cents"], f["hold_id"]
        if f["voucher_id"] not in self.tainted:
            problem = self._hold_problem(voucher, f)
            if problem is not None:
                self._violate("held ≤ balance", f"voucher {f['voucher_id']}", problem, ref)
            if voucher.holds is not None and hold_id in voucher.holds:
                self._violate(
                    "held ≤ balance",
                    f"voucher {f['voucher_id']}",
                    f"hold {hold_id} was made twice",
                    voucher.holds[hold_id].event,
                    ref,
                )
        if voucher.holds is None:
            voucher.holds = {}
        voucher.holds[hold_id] = HoldTally(amount, f["provider_id"], ref)
        voucher.held_cents += amount

    def _hold_problem(self, voucher: VoucherTally, f: Fields) -> str | None:
        """What is wrong with a hold, before it is counted (None: nothing)."""
        amount = f["amount_cents"]
        round_ = self.rounds.get(voucher.round_id)
        if voucher.status != "active":
            return f"held {euro(amount)} while {voucher.status}"
        if round_ is None or round_.kind != "services":
            return f"held {euro(amount)} of a food voucher (only service vouchers are held)"
        if f["category"] not in round_.service_categories:
            return f"held for {f['category']}, a category its round does not cover"
        account_id = self.provider_accounts.get((voucher.round_id, f["provider_id"]))
        if account_id is None:
            return f"held for {f['provider_id']}, not accredited in round {voucher.round_id}"
        if self.merchants[account_id].suspended is not None:
            return f"held for {f['provider_id']} while the provider was suspended"
        available = voucher.remaining_cents - voucher.held_cents
        if amount > available:
            return f"held {euro(amount)} with {euro(available)} available"
        if f["held_cents"] != voucher.held_cents + amount:
            return (
                f"the hold says {euro(f['held_cents'])} are held; the voucher's history holds "
                f"{euro(voucher.held_cents + amount)}"
            )
        if f["remaining_cents"] != voucher.remaining_cents:
            return (
                f"the hold says {euro(f['remaining_cents'])} remain; the voucher's history "
                f"leaves {euro(voucher.remaining_cents)}"
            )
        return None

    def _open_hold(self, rule: str, f: Fields, ref: EventRef) -> HoldTally | None:
        """The open hold a capture or release ends (a violation, and None, if there is none)."""
        voucher = self.vouchers[f["voucher_id"]]
        hold = voucher.holds.get(f["hold_id"]) if voucher.holds else None
        checking = f["voucher_id"] not in self.tainted
        if hold is None:
            if checking:
                self._violate(
                    rule, f"voucher {f['voucher_id']}", f"ends hold {f['hold_id']}, never made", ref
                )
            return None
        if hold.ended is not None:
            if checking:
                self._violate(
                    rule,
                    f"voucher {f['voucher_id']}",
                    f"ends hold {f['hold_id']} a second time",
                    hold.ended,
                    ref,
                )
            return None
        return hold

    def _voucher_captured(self, f: Fields, ref: EventRef) -> None:
        voucher_id, amount, redemption_id = f["voucher_id"], f["amount_cents"], f["redemption_id"]
        voucher = self.vouchers[voucher_id]
        hold = self._open_hold("no capture without hold", f, ref)
        if hold is not None:
            if voucher_id not in self.tainted:
                if amount > hold.amount_cents:
                    self._violate(
                        "captured ≤ held",
                        f"voucher {voucher_id}",
                        f"captured {euro(amount)} of a hold of {euro(hold.amount_cents)}",
                        hold.event,
                        ref,
                    )
                if f["provider_id"] != hold.provider_id:
                    self._violate(
                        "captured ≤ held",
                        f"voucher {voucher_id}",
                        f"captured for {f['provider_id']} a hold for {hold.provider_id}",
                        hold.event,
                        ref,
                    )
                if f["remaining_cents"] != voucher.remaining_cents - amount:
                    self._violate(
                        "redeemed ≤ issued",
                        f"voucher {voucher_id}",
                        f"the capture says {euro(f['remaining_cents'])} remain; the voucher's "
                        f"history leaves {euro(voucher.remaining_cents - amount)}",
                        ref,
                    )
            hold.ended = ref
            hold.redemption_id = redemption_id
            voucher.held_cents -= hold.amount_cents
        # A redemption, as at a till: the end checks match it with the provider's credit.
        self.captured_redemptions.add(redemption_id)
        voucher.remaining_cents -= amount
        voucher.redemptions[redemption_id] = Redemption(
            f["provider_id"], amount, f["category"], ref
        )
        if voucher.household_id:
            self.households[voucher.household_id].redeemed_cents += amount

    def _voucher_released(self, f: Fields, ref: EventRef) -> None:
        voucher = self.vouchers[f["voucher_id"]]
        hold = self._open_hold("held ≤ balance", f, ref)
        if hold is None:
            return
        if f["voucher_id"] not in self.tainted and f["amount_cents"] != hold.amount_cents:
            self._violate(
                "held ≤ balance",
                f"voucher {f['voucher_id']}",
                f"released {euro(f['amount_cents'])} of a hold of {euro(hold.amount_cents)}",
                hold.event,
                ref,
            )
        hold.ended = ref
        voucher.held_cents -= hold.amount_cents

    def _check_service_vouchers(self) -> None:
        """A services round's vouchers are spent only by captures, never at a till (run once
        every event is in; only the vouchers of services rounds are looked at)."""
        services = {r.round_id for r in self.rounds.values() if r.kind == "services"}
        if not services:
            return
        captured = self.captured_redemptions
        for voucher in self.vouchers.values():
            if voucher.round_id not in services or not voucher.redemptions:
                continue
            for redemption_id, redemption in voucher.redemptions.items():
                if redemption_id not in captured and self._checking(voucher.voucher_id):
                    self._violate(
                        "redeemed ≤ issued",
                        f"voucher {voucher.voucher_id}",
                        f"a service voucher spent {euro(redemption.amount_cents)} at "
                        f"{redemption.merchant_id}'s till",
                        redemption.event,
                    )
