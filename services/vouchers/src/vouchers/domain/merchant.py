"""A merchant's account in a round: affiliation, what the municipality owes it for redemptions,
and its reimbursement claims (claimed → approved → paid). Reimbursed never exceeds redeemed:
a claim takes only redeemed, not yet claimed, not voided credits.

In a services round the account is an accredited care provider's, opened by
``MerchantAccount.open_for_provider`` (``ProviderOpened``: no VAT number, no goods, the round's
service categories): credited with the service vouchers its bookings capture, suspended,
reinstated and claimed like a shop's."""

from __future__ import annotations

import functools
import uuid
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any
from uuid import UUID

from eventsourcing.domain import event
from servicekit.chain import ChainedAggregate

from vouchers.domain.errors import (
    ExcludedGoods,
    InvalidDate,
    InvalidPeriod,
    InvalidTransition,
    MerchantSuspended,
    NothingToClaim,
    VoidRefused,
)

ACCOUNT_NAMESPACE = uuid.UUID("5c2d7b90-9e41-4f0a-b3d8-6a1e2f4c8b75")
# A shop may cancel its own redemption shortly after (a mistaken amount at the till).
VOID_WINDOW = timedelta(minutes=30)


def check_period(period_from: date, period_to: date) -> None:
    """A claim's period is bad input, not a refused transition, when it ends before it starts."""
    if period_to < period_from:
        raise InvalidPeriod(
            f"the claim's period ends before it starts ({period_to} is before {period_from})",
            period_from=period_from.isoformat(),
            period_to=period_to.isoformat(),
        )


class MerchantAccount(ChainedAggregate):
    # Class-level defaults: accounts snapshotted before suspensions existed read as active,
    # and every account opened before service vouchers is a shop's.
    suspended: bool = False
    provider: bool = False
    service_categories: tuple[str, ...] = ()

    class Affiliated(ChainedAggregate.Created):
        round_id: UUID
        merchant_id: str
        vat_number: str
        goods_categories: list[str]
        excluded_categories: list[str]

    class ProviderOpened(ChainedAggregate.Created):
        """A care provider's account in a services round (no VAT number, no goods)."""

        round_id: UUID
        merchant_id: str
        service_categories: list[str]

        def apply(self, account: MerchantAccount) -> None:
            account.provider = True
            account.service_categories = tuple(self.service_categories)

    class Suspended(ChainedAggregate.Event):
        merchant_id: str
        reason_code: str

    class Reinstated(ChainedAggregate.Event):
        merchant_id: str

    class Credited(ChainedAggregate.Event):
        merchant_id: str
        redemption_id: UUID
        voucher_id: UUID
        amount_cents: int
        credited_at: datetime

    class Debited(ChainedAggregate.Event):
        merchant_id: str
        redemption_id: UUID
        amount_cents: int

    class ClaimSubmitted(ChainedAggregate.Event):
        merchant_id: str
        round_id: UUID
        claim_id: UUID
        period_from: date
        period_to: date
        amount_cents: int
        redemption_ids: list[str]

    class ClaimApproved(ChainedAggregate.Event):
        merchant_id: str
        claim_id: UUID
        amount_cents: int
        payment_due_on: date

    class ClaimPaid(ChainedAggregate.Event):
        merchant_id: str
        claim_id: UUID
        amount_cents: int
        payment_reference: str

    @event(Affiliated)
    def __init__(
        self,
        round_id: UUID,
        merchant_id: str,
        vat_number: str | None = None,
        goods_categories: list[str] | None = None,
        excluded_categories: list[str] | None = None,
    ) -> None:
        self.round_id = round_id
        self.merchant_id = merchant_id
        self.vat_number = vat_number
        self.goods_categories = goods_categories or []
        self.excluded_categories = excluded_categories or []
        # Only totals and claims live in the state: a shop's thousands of redemptions stay in
        # its event history (read when it claims or voids), so the till's path loads little.
        # claim id -> amount, status, period, payment due / reference
        self.claims: dict[str, dict[str, Any]] = {}
        self.redeemed_cents = 0
        self.claimed_cents = 0
        self.approved_cents = 0
        self.reimbursed_cents = 0

    @staticmethod
    def create_id(round_id: UUID, merchant_id: str, **_: Any) -> UUID:
        return MerchantAccount.id_for(round_id, merchant_id)

    @classmethod
    def open_for_provider(
        cls, round_id: UUID, provider_id: str, service_categories: list[str]
    ) -> MerchantAccount:
        """An accredited provider's account in a services round."""
        account: MerchantAccount = cls._create(
            cls.ProviderOpened,
            id=cls.id_for(round_id, provider_id),
            round_id=round_id,
            merchant_id=provider_id,
            service_categories=list(service_categories),
        )
        return account

    @staticmethod
    @functools.lru_cache(maxsize=4096)
    def id_for(round_id: UUID, merchant_id: str) -> UUID:
        # Every redemption asks for its shop's account: the few shops of a round are remembered.
        return uuid.uuid5(ACCOUNT_NAMESPACE, f"{round_id}/{merchant_id}")

    def check_active(self) -> None:
        if self.suspended:
            raise MerchantSuspended(
                f"shop {self.merchant_id} is suspended and may not take vouchers until reinstated"
            )

    def suspend(self, reason_code: str) -> bool:
        """Stop the shop taking vouchers in this round; False (no event) if it already is."""
        if self.suspended:
            return False
        self._suspend(self.merchant_id, reason_code)
        return True

    def reinstate(self) -> bool:
        """Let the shop take vouchers again; False (no event) if it was not suspended."""
        if not self.suspended:
            return False
        self._reinstate(self.merchant_id)
        return True

    @event(Suspended)
    def _suspend(self, merchant_id: str, reason_code: str) -> None:
        self.suspended = True

    @event(Reinstated)
    def _reinstate(self, merchant_id: str) -> None:
        self.suspended = False

    def check_goods(self, goods_category: str) -> None:
        if goods_category in self.excluded_categories:
            raise ExcludedGoods(f"vouchers of this round cannot pay for {goods_category}")
        if goods_category not in self.goods_categories:
            raise ExcludedGoods(
                f"this shop is affiliated for {', '.join(self.goods_categories)}, "
                f"not {goods_category}"
            )

    def credit(
        self, redemption_id: UUID, voucher_id: UUID, amount_cents: int, now: datetime
    ) -> None:
        self._credit(self.merchant_id, redemption_id, voucher_id, amount_cents, now)

    def check_can_void(self, credited_at: datetime, claimed: bool, now: datetime) -> None:
        if claimed:
            raise VoidRefused("the redemption is already part of a reimbursement claim")
        if now - credited_at > VOID_WINDOW:
            raise VoidRefused(
                f"a redemption can be voided only within {VOID_WINDOW.seconds // 60} minutes"
            )

    def debit(self, redemption_id: UUID, amount_cents: int) -> None:
        self._debit(self.merchant_id, redemption_id, amount_cents)

    def claim(
        self, claim_id: UUID, period_from: date, period_to: date, history: CreditHistory
    ) -> int:
        """Claim every redeemed, unclaimed, not voided amount credited within the period."""
        check_period(period_from, period_to)
        redemption_ids = history.unclaimed(period_from, period_to)
        if not redemption_ids:
            raise NothingToClaim(
                f"no redeemed, unclaimed amounts between {period_from} and {period_to}"
            )
        amount = sum(history.credits[r][0] for r in redemption_ids)
        self.check_claimable(amount)
        self._claim(
            self.merchant_id,
            self.round_id,
            claim_id,
            period_from,
            period_to,
            amount,
            redemption_ids,
        )
        return amount

    def check_claimable(self, amount_cents: int) -> None:
        if self.claimed_cents + amount_cents > self.redeemed_cents:
            raise NothingToClaim(
                f"claims would reach {self.claimed_cents + amount_cents} cents but only "
                f"{self.redeemed_cents} cents were redeemed"
            )

    def approve_claim(self, claim_id: UUID, payment_due_on: date, today: date) -> None:
        claim = self._claim_in(claim_id, "claimed", action="approve")
        if payment_due_on < today:
            # The shop plans on this date: a promise already broken is no promise.
            raise InvalidDate(
                f"the promised payment date {payment_due_on} is before today ({today})"
            )
        self._approve_claim(self.merchant_id, claim_id, claim["amount_cents"], payment_due_on)

    def pay_claim(self, claim_id: UUID, payment_reference: str) -> None:
        claim = self._claim_in(claim_id, "approved", action="pay")
        self._pay_claim(self.merchant_id, claim_id, claim["amount_cents"], payment_reference)

    def _claim_in(self, claim_id: UUID, status: str, action: str) -> dict[str, Any]:
        claim = self.claims.get(str(claim_id))
        if claim is None:
            raise InvalidTransition(f"no claim {claim_id} for this merchant")
        if claim["status"] != status:
            raise InvalidTransition(f"cannot {action} a claim that is {claim['status']}")
        return claim

    @event(Credited)
    def _credit(
        self,
        merchant_id: str,
        redemption_id: UUID,
        voucher_id: UUID,
        amount_cents: int,
        credited_at: datetime,
    ) -> None:
        self.redeemed_cents += amount_cents

    @event(Debited)
    def _debit(self, merchant_id: str, redemption_id: UUID, amount_cents: int) -> None:
        self.redeemed_cents -= amount_cents

    @event(ClaimSubmitted)
    def _claim(
        self,
        merchant_id: str,
        round_id: UUID,
        claim_id: UUID,
        period_from: date,
        period_to: date,
        amount_cents: int,
        redemption_ids: list[str],
    ) -> None:
        self.claims[str(claim_id)] = {
            "amount_cents": amount_cents,
            "status": "claimed",
            "period_from": period_from.isoformat(),
            "period_to": period_to.isoformat(),
            "payment_due_on": None,
            "payment_reference": None,
        }
        self.claimed_cents += amount_cents

    @event(ClaimApproved)
    def _approve_claim(
        self, merchant_id: str, claim_id: UUID, amount_cents: int, payment_due_on: date
    ) -> None:
        self.claims[str(claim_id)].update(
            status="approved", payment_due_on=payment_due_on.isoformat()
        )
        self.approved_cents += amount_cents

    @event(ClaimPaid)
    def _pay_claim(
        self, merchant_id: str, claim_id: UUID, amount_cents: int, payment_reference: str
    ) -> None:
        self.claims[str(claim_id)].update(status="paid", payment_reference=payment_reference)
        self.reimbursed_cents += amount_cents


class CreditHistory:
    """A merchant account's credits read back from its event history: what was credited, when,
    whether voided or already claimed. Built only when a claim or a void needs it."""

    def __init__(self, events: list[Any], zone: tzinfo = UTC) -> None:
        # A claim's period is in the municipality's calendar: a sale at 00:30 in Rome is on
        # that day, though it is still the day before in UTC.
        self.zone = zone
        # redemption id -> (amount, credited_at)
        self.credits: dict[str, tuple[int, datetime]] = {}
        self.voided: set[str] = set()
        self.claimed: set[str] = set()
        for e in events:
            if isinstance(e, MerchantAccount.Credited):
                self.credits[str(e.redemption_id)] = (e.amount_cents, e.credited_at)
            elif isinstance(e, MerchantAccount.Debited):
                self.voided.add(str(e.redemption_id))
            elif isinstance(e, MerchantAccount.ClaimSubmitted):
                self.claimed.update(e.redemption_ids)

    def unclaimed(self, period_from: date, period_to: date) -> list[str]:
        return [
            redemption_id
            for redemption_id, (_, credited_at) in self.credits.items()
            if redemption_id not in self.claimed
            and redemption_id not in self.voided
            and period_from <= credited_at.astimezone(self.zone).date() <= period_to
        ]
