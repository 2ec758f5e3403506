"""A voucher: a value in cents a household spends at affiliated shops, in parts, until it
expires. Its id is derived from its code (see codes.py); the code itself is not stored."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from eventsourcing.domain import event
from servicekit.chain import ChainedAggregate

from vouchers.domain.errors import (
    InsufficientBalance,
    InvalidAmount,
    RequestReused,
    VoidRefused,
    VoucherNotSpendable,
)
from vouchers.domain.money import check_amount

Status = Literal["active", "expired", "revoked"]


class Voucher(ChainedAggregate):
    class Issued(ChainedAggregate.Created):
        round_id: UUID
        application_id: UUID
        household_id: UUID
        holder: str
        value_cents: int
        expires_at: datetime

    class DelegateNamed(ChainedAggregate.Event):
        delegate_id: str

    class Redeemed(ChainedAggregate.Event):
        round_id: UUID
        redemption_id: UUID
        merchant_id: str
        amount_cents: int
        goods_category: str
        remaining_cents: int
        # The till's time, which the expiry was checked against (the event's own timestamp is
        # when it was recorded). Absent from redemptions recorded before 2026-11-25.
        redeemed_at: datetime | None = None

    class RedemptionVoided(ChainedAggregate.Event):
        round_id: UUID
        redemption_id: UUID
        merchant_id: str
        amount_cents: int

    class Expired(ChainedAggregate.Event):
        round_id: UUID
        amount_cents: int

    class Revoked(ChainedAggregate.Event):
        round_id: UUID
        amount_cents: int
        reason_code: str

    @event(Issued)
    def __init__(
        self,
        round_id: UUID,
        application_id: UUID,
        household_id: UUID,
        holder: str,
        value_cents: int,
        expires_at: datetime,
    ) -> None:
        self.round_id = round_id
        self.application_id = application_id
        self.household_id = household_id
        self.holder = holder
        self.value_cents = value_cents
        self.remaining_cents = value_cents
        self.expires_at = expires_at
        self.status: Status = "active"
        self.delegate_id: str | None = None
        # redemption id -> merchant, amount, when, voided
        self.redemptions: dict[str, dict[str, Any]] = {}

    @classmethod
    def issue(
        cls,
        code_id: UUID,
        *,
        round_id: UUID,
        application_id: UUID,
        household_id: UUID,
        holder: str,
        value_cents: int,
        expires_at: datetime,
    ) -> Voucher:
        """A new voucher whose id is derived from its code (codes.voucher_id_for)."""
        check_amount(value_cents)
        voucher: Voucher = cls._create(
            cls.Issued,
            id=code_id,
            round_id=round_id,
            application_id=application_id,
            household_id=household_id,
            holder=holder,
            value_cents=value_cents,
            expires_at=expires_at,
        )
        return voucher

    def may_be_spent_by(self, beneficiary: str) -> bool:
        return beneficiary in (self.holder, self.delegate_id)

    def name_delegate(self, delegate_id: str) -> None:
        if delegate_id == self.holder:
            raise InvalidAmount("the holder cannot be their own delegate")
        self._name_delegate(delegate_id)

    def check_spendable(self, now: datetime) -> None:
        if self.status != "active":
            raise VoucherNotSpendable(f"the voucher is {self.status}")
        if now >= self.expires_at:
            raise VoucherNotSpendable(f"the voucher expired on {self.expires_at:%Y-%m-%d}")

    def redeem(
        self,
        redemption_id: UUID,
        merchant_id: str,
        amount_cents: int,
        goods_category: str,
        now: datetime,
    ) -> bool:
        """Spend part of the value; False (and no change) when this redemption id was already
        applied — a till that retries never spends twice. A retry must be the same sale: the
        same request id for another amount or goods is refused, or the till would print a sale
        that was never made."""
        known = self.redemptions.get(str(redemption_id))
        if known is not None:
            self.check_same_sale(known, amount_cents, goods_category)
            return False
        check_amount(amount_cents)
        self.check_spendable(now)
        if amount_cents > self.remaining_cents:
            raise InsufficientBalance(
                f"the voucher has {self.remaining_cents} cents left; "
                f"{amount_cents} were asked (no change is given)",
                remaining_cents=self.remaining_cents,
                requested_cents=amount_cents,
            )
        self._redeem(
            self.round_id,
            redemption_id,
            merchant_id,
            amount_cents,
            goods_category,
            self.remaining_cents - amount_cents,
            now,
        )
        return True

    @staticmethod
    def check_same_sale(known: dict[str, Any], amount_cents: int, goods_category: str) -> None:
        # Redemptions recorded before the goods were kept in the state carry none to compare.
        known_goods = known.get("goods_category", goods_category)
        if (known["amount_cents"], known_goods) != (amount_cents, goods_category):
            raise RequestReused(
                f"this request id was already used for a sale of {known['amount_cents']} cents "
                f"({known_goods}); a new sale needs a new request id"
            )

    def void(self, redemption_id: UUID, merchant_id: str) -> int:
        """Give back a redemption's amount; returns it."""
        redemption = self.redemptions.get(str(redemption_id))
        if redemption is None or redemption["merchant_id"] != merchant_id:
            raise VoidRefused("no such redemption by this merchant on this voucher")
        if redemption["voided"]:
            raise VoidRefused("the redemption was already voided")
        if self.status != "active":
            raise VoidRefused(f"the voucher is {self.status}")
        amount: int = redemption["amount_cents"]
        self._void(self.round_id, redemption_id, merchant_id, amount)
        return amount

    def due_to_expire(self, now: datetime) -> bool:
        return self.status == "active" and now >= self.expires_at

    def expire(self, now: datetime) -> int:
        if not self.due_to_expire(now):
            return 0
        amount = self.remaining_cents
        self._expire(self.round_id, amount)
        return amount

    def revoke(self, reason_code: str) -> int:
        if self.status != "active":
            raise VoucherNotSpendable(f"the voucher is already {self.status}")
        amount = self.remaining_cents
        self._revoke(self.round_id, amount, reason_code)
        return amount

    @event(DelegateNamed)
    def _name_delegate(self, delegate_id: str) -> None:
        self.delegate_id = delegate_id

    @event(Redeemed)
    def _redeem(
        self,
        round_id: UUID,
        redemption_id: UUID,
        merchant_id: str,
        amount_cents: int,
        goods_category: str,
        remaining_cents: int,
        redeemed_at: datetime | None = None,
    ) -> None:
        self.remaining_cents = remaining_cents
        self.redemptions[str(redemption_id)] = {
            "merchant_id": merchant_id,
            "amount_cents": amount_cents,
            "goods_category": goods_category,
            "voided": False,
        }

    @event(RedemptionVoided)
    def _void(
        self, round_id: UUID, redemption_id: UUID, merchant_id: str, amount_cents: int
    ) -> None:
        self.remaining_cents += amount_cents
        self.redemptions[str(redemption_id)]["voided"] = True

    @event(Expired)
    def _expire(self, round_id: UUID, amount_cents: int) -> None:
        self.status = "expired"
        self.remaining_cents = 0

    @event(Revoked)
    def _revoke(self, round_id: UUID, amount_cents: int, reason_code: str) -> None:
        self.status = "revoked"
        self.remaining_cents = 0
