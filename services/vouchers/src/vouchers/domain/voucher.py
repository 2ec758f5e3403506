"""A voucher: a value in cents a household spends in parts until it expires. Its id is derived
from its code (see codes.py); the code itself is not stored.

A food voucher (``kind`` food) is spent at affiliated shops' tills. A service voucher (of a
services round) is never spent at a till: a booking **holds** part of it for a provider (the
balance stays, what is available drops), then **captures** the hold on delivery (a redemption
credited to the provider, at most the hold; the rest is available again) or **releases** it.
A hold keeps its value until its own deadline, even past the voucher's expiry: a voucher with
open holds does not expire; once its last hold ends, the next expiry run returns the rest. A
hold still open at its deadline lapses (released, ``lapsed``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, TypeAlias
from uuid import UUID

from eventsourcing.domain import event
from servicekit.chain import ChainedAggregate

from vouchers.domain import voucher_holds as holds
from vouchers.domain.errors import (
    CaptureOverHold,
    HoldClosed,
    InsufficientBalance,
    InvalidAmount,
    NoSuchHold,
    NotAServiceVoucher,
    NotTheProvider,
    RequestReused,
    ServiceVoucherAtTill,
    VoidRefused,
    VoucherHeld,
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
        # "services" for a services round's voucher; absent from vouchers issued before.
        kind: str

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
        # The end of the code the shop typed (codes.code_hint), for its sales list. Absent from
        # redemptions recorded before 2026-12-07.
        code_hint: str | None = None

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

    # A booking's holds (declared with their apply() in voucher_holds.py), named here: each is
    # Voucher.<Name>, the topic stores hold.
    Held: TypeAlias = holds.Held
    HoldCaptured: TypeAlias = holds.HoldCaptured
    HoldReleased: TypeAlias = holds.HoldReleased

    @event(Issued)
    def __init__(
        self,
        round_id: UUID,
        application_id: UUID,
        household_id: UUID,
        holder: str,
        value_cents: int,
        expires_at: datetime,
        kind: str = "food",
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
        self.kind = kind
        # hold id -> request, booking, provider, category, amount, deadline, status
        self.holds: dict[str, dict[str, Any]] = {}
        self.held_cents = 0

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
        kind: str = "food",
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
            kind=kind,
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
        code_hint: str | None = None,
    ) -> bool:
        """Spend part of the value; False (and no change) when this redemption id was already
        applied — a till that retries never spends twice. A retry must be the same sale: the
        same request id for another amount or goods is refused, or the till would print a sale
        that was never made."""
        known = self.redemptions.get(str(redemption_id))
        if known is not None:
            self.check_same_sale(known, amount_cents, goods_category)
            return False
        self.check_spent_at_till()
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
            code_hint,
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
        if redemption.get("captured"):
            raise VoidRefused("a booking's capture is not voided at a till")
        if self.status != "active":
            raise VoidRefused(f"the voucher is {self.status}")
        amount: int = redemption["amount_cents"]
        self._void(self.round_id, redemption_id, merchant_id, amount)
        return amount

    def due_to_expire(self, now: datetime) -> bool:
        """Past its date and holding nothing for a booking (a hold keeps its value)."""
        return self.status == "active" and now >= self.expires_at and not self.held_cents

    def expire(self, now: datetime) -> int:
        if not self.due_to_expire(now):
            return 0
        amount = self.remaining_cents
        self._expire(self.round_id, amount)
        return amount

    def revoke(self, reason_code: str) -> int:
        if self.status != "active":
            raise VoucherNotSpendable(f"the voucher is already {self.status}")
        self.check_holds_nothing()
        amount = self.remaining_cents
        self._revoke(self.round_id, amount, reason_code)
        return amount

    def check_holds_nothing(self) -> None:
        if self.held_cents:
            raise VoucherHeld(
                f"the voucher holds {self.held_cents} cents for bookings: it can be revoked "
                "once they are captured or released",
                held_cents=self.held_cents,
            )

    # --- held by bookings (service vouchers) ----------------------------------------------------

    def check_spent_at_till(self) -> None:
        if self.kind == "services":
            raise ServiceVoucherAtTill(
                "a service voucher is not spent at a till: it pays for a booked care service"
            )

    def check_is_service_voucher(self) -> None:
        if self.kind != "services":
            raise NotAServiceVoucher("a food voucher is spent at a shop, not held by a booking")

    @property
    def available_cents(self) -> int:
        """What a new hold may take: the balance less what bookings hold."""
        return self.remaining_cents - self.held_cents

    def hold(
        self,
        hold_id: str,
        *,
        request_id: str,
        booking_id: str,
        provider_id: str,
        category: str,
        amount_cents: int,
        expires_at: datetime,
        now: datetime,
    ) -> None:
        """Hold ``amount_cents`` for a booking's provider until ``expires_at``: not spent, no
        longer available. Never more than is available."""
        self.check_is_service_voucher()
        check_amount(amount_cents)
        self.check_spendable(now)
        if amount_cents > self.available_cents:
            raise InsufficientBalance(
                f"the voucher has {self.available_cents} cents available; "
                f"{amount_cents} were asked",
                remaining_cents=self.available_cents,
                requested_cents=amount_cents,
            )
        self.trigger_event(
            self.Held,
            round_id=self.round_id,
            hold_id=hold_id,
            request_id=request_id,
            booking_id=booking_id,
            provider_id=provider_id,
            category=category,
            amount_cents=amount_cents,
            held_cents=self.held_cents + amount_cents,
            remaining_cents=self.remaining_cents,
            expires_at=expires_at,
        )

    def open_hold(self, hold_id: str) -> dict[str, Any]:
        hold = self.holds.get(hold_id)
        if hold is None:
            raise NoSuchHold("the voucher has no such hold")
        if hold["status"] != "held":
            raise HoldClosed(f"the hold is already {hold['status']}", status=hold["status"])
        return hold

    def capture(
        self,
        hold_id: str,
        *,
        request_id: str,
        redemption_id: UUID,
        provider_id: str,
        amount_cents: int,
    ) -> None:
        """Spend at most the hold for its provider (a redemption); the rest is available."""
        hold = self.open_hold(hold_id)
        if provider_id != hold["provider_id"]:
            raise NotTheProvider(f"the hold is for provider {hold['provider_id']}")
        check_amount(amount_cents)
        if amount_cents > hold["amount_cents"]:
            raise CaptureOverHold(
                f"the hold is of {hold['amount_cents']} cents; {amount_cents} were asked",
                held_cents=hold["amount_cents"],
            )
        self.trigger_event(
            self.HoldCaptured,
            round_id=self.round_id,
            hold_id=hold_id,
            request_id=request_id,
            booking_id=hold["booking_id"],
            redemption_id=redemption_id,
            provider_id=provider_id,
            category=hold["category"],
            amount_cents=amount_cents,
            released_cents=hold["amount_cents"] - amount_cents,
            held_cents=self.held_cents - hold["amount_cents"],
            remaining_cents=self.remaining_cents - amount_cents,
        )

    def release(self, hold_id: str, request_id: str | None, *, lapsed: bool = False) -> int:
        """Give the whole hold back; returns its amount."""
        hold = self.open_hold(hold_id)
        amount: int = hold["amount_cents"]
        self.trigger_event(
            self.HoldReleased,
            round_id=self.round_id,
            hold_id=hold_id,
            request_id=request_id,
            booking_id=hold["booking_id"],
            amount_cents=amount,
            held_cents=self.held_cents - amount,
            lapsed=lapsed,
        )
        return amount

    def lapse_holds(self, now: datetime) -> int:
        """Release the holds past their deadline that no booking captured or released."""
        due = [
            hold_id
            for hold_id, hold in self.holds.items()
            if hold["status"] == "held" and now >= hold["expires_at"]
        ]
        return sum(self.release(hold_id, None, lapsed=True) for hold_id in due)

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
        code_hint: str | None = None,
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
