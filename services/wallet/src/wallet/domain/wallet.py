"""An employee's wallet in one plan: credit per category (``general`` pays for any category the
plan allows), holds for pending bookings (for the employee or one of their family members, made
by the employee or their delegate), captures to providers, refunds, productivity bonuses
converted into credit, reminders before the credit expires, and the end of the plan (expiry back
to the employer, or carry-over into the next plan).

Every change is a balanced transfer; the wallet refuses any that would take one of its accounts
(its category accounts and its holds) below zero, so it can never be overdrawn. Holds and the
commands on them are idempotent by the caller's request id.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, TypeAlias
from uuid import UUID

from eventsourcing.domain import event
from servicekit.chain import ChainedAggregate

from wallet.domain import accounts, holds
from wallet.domain import wallet_events as events
from wallet.domain.errors import (
    CategoryNotAllowed,
    CreditExpired,
    HoldNotFound,
    InsufficientFunds,
    InvalidTransition,
    PlanNotActive,
    RequestMismatch,
)
from wallet.domain.reminders import due_reminder

WALLET_NAMESPACE = uuid.UUID("0b7a3c52-64d1-4e8f-9a27-5d3c1e6f8b94")
HOLD_NAMESPACE = uuid.UUID("e3f1a9c4-2b7d-4c65-8e10-7a9d4b2c6f31")
Transfers = list[dict[str, Any]]


class Wallet(ChainedAggregate):
    # 2: family members and delegates on holds, expiry reminders, converted productivity bonus
    # (attributes added to older snapshots by upcast_v1_v2).
    class_version = 2

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state.setdefault("reminded_days", [])
        state.setdefault("bonus_converted_cents", 0)
        state.setdefault("bonus_requests", {})

    # The events (declared with their apply() in wallet_events.py), named here: each is
    # Wallet.<Name>, the topic stores hold.
    Opened: TypeAlias = events.Opened
    CreditGranted: TypeAlias = events.CreditGranted
    FundsHeld: TypeAlias = events.FundsHeld
    HoldCaptured: TypeAlias = events.HoldCaptured
    HoldReleased: TypeAlias = events.HoldReleased
    HoldExpired: TypeAlias = events.HoldExpired
    Refunded: TypeAlias = events.Refunded
    HoldRefused: TypeAlias = events.HoldRefused
    CreditExpired: TypeAlias = events.CreditExpired
    CreditCarriedOver: TypeAlias = events.CreditCarriedOver
    CreditCarriedIn: TypeAlias = events.CreditCarriedIn
    CreditExpiring: TypeAlias = events.CreditExpiring
    BonusConverted: TypeAlias = events.BonusConverted

    @event(Opened)
    def __init__(
        self,
        plan_id: UUID,
        employer_id: str,
        employee_id: str,
        year: int,
        categories: list[str],
        expires_on: date,
        transfers: Transfers,
    ) -> None:
        self.plan_id = plan_id
        self.employer_id = employer_id
        self.employee_id = employee_id
        self.year = year
        self.categories = categories
        self.expires_on = expires_on
        self.balances: dict[str, int] = {}
        # hold id -> status, amounts, category, provider, expiry, the accounts that funded it
        self.holds: dict[str, dict[str, Any]] = {}
        # "hold:<request id>" or "<capture|release|refund>:<hold id>:<request id>" -> hold id:
        # what a repeated request already did
        self.requests: dict[str, str] = {}
        self.granted_cents = 0
        self.carried_in_cents = 0
        self.carried_out_cents = 0
        self.expired_cents = 0
        self.spent_by_category: dict[str, int] = {}
        self.closed = False
        self.reminded_days: list[int] = []  # the expiry reminders sent (days before)
        self.bonus_converted_cents = 0
        self.bonus_requests: dict[str, int] = {}  # the employer's request id -> cents

    @staticmethod
    def create_id(plan_id: UUID, employee_id: str) -> UUID:
        return Wallet.id_for(plan_id, employee_id)

    @staticmethod
    def id_for(plan_id: UUID, employee_id: str) -> UUID:
        return uuid.uuid5(WALLET_NAMESPACE, f"{plan_id}/{employee_id}")

    @classmethod
    def open(
        cls,
        *,
        plan_id: UUID,
        employer_id: str,
        employee_id: str,
        year: int,
        categories: list[str],
        expires_on: date,
    ) -> Wallet:
        return cls(plan_id, employer_id, employee_id, year, categories, expires_on, [])

    # --- accounts -----------------------------------------------------------------------------

    def owns(self, account: str) -> bool:
        if account.startswith("hold:"):
            return account[5:] in self.holds
        return account.startswith(f"wallet:{self.plan_id}:{self.employee_id}:")

    def account(self, category: str) -> str:
        return accounts.wallet_account(self.plan_id, self.employee_id, category)

    def balance(self, category: str) -> int:
        return self.balances.get(self.account(category), 0)

    def available_for(self, category: str) -> int:
        """What a spend in ``category`` can use: its own credit, then general credit."""
        if category not in self.categories:
            return 0
        return self.balance(category) + self.balance(accounts.GENERAL)

    @property
    def held_cents(self) -> int:
        return sum(h["amount"] for h in self.holds.values() if h["status"] == "held")

    @property
    def total_cents(self) -> int:
        """Credit in the wallet's category accounts (holds not included)."""
        return sum(b for a, b in self.balances.items() if a.startswith("wallet:"))

    # --- credit -------------------------------------------------------------------------------

    def grant_transfer(self, category: str, amount_cents: int) -> dict[str, Any]:
        """The transfer a grant makes; the plan checks and records its side first."""
        if category != accounts.GENERAL and category not in self.categories:
            raise CategoryNotAllowed(f"this wallet's plan does not allow {category}")
        self.check_open()
        funding = accounts.plan_funding(self.plan_id)
        return accounts.transfer(funding, self.account(category), amount_cents)

    def record_grant(self, category: str, transfer: dict[str, Any]) -> None:
        self.trigger_event(
            self.CreditGranted,
            plan_id=self.plan_id,
            employee_id=self.employee_id,
            category=category,
            amount_cents=transfer["amount_cents"],
            transfers=[transfer],
        )

    def check_open(self) -> None:
        if self.closed:
            raise PlanNotActive("the plan of this wallet has ended")

    # --- holds --------------------------------------------------------------------------------

    def hold_id_for(self, request_id: str) -> UUID:
        return uuid.uuid5(HOLD_NAMESPACE, f"{self.id}/{request_id}")

    def existing_hold(
        self,
        request_id: str,
        provider_id: str,
        category: str,
        amount_cents: int,
        member_id: str | None = None,
    ) -> UUID | None:
        """The hold a repeated request made, or None; a request id reused for something else
        is refused."""
        hold_id = self.requests.get(f"hold:{request_id}")
        if hold_id is None:
            return None
        holds.check_same_request(
            self.holds[hold_id], request_id, provider_id, category, amount_cents, member_id
        )
        return UUID(hold_id)

    def check_hold(self, category: str, amount_cents: int, today: date) -> None:
        accounts.check_amount(amount_cents)
        self.check_open()
        if category not in self.categories:
            raise CategoryNotAllowed(
                f"this wallet pays for {', '.join(self.categories)}, not {category}"
            )
        if today > self.expires_on:
            raise CreditExpired(
                f"this wallet's credit expired on {self.expires_on}",
                expired_on=str(self.expires_on),
            )
        available = self.available_for(category)
        if amount_cents > available:
            raise InsufficientFunds(
                f"the wallet has {available} cents available for {category}; "
                f"{amount_cents} cents were asked",
                available_cents=available,
            )

    def hold(
        self,
        request_id: str,
        provider_id: str,
        category: str,
        amount_cents: int,
        expires_at: datetime,
        today: date,
        *,
        member_id: str | None = None,
        delegate_id: str | None = None,
    ) -> UUID:
        """Reserve money. ``member_id``: the family member the booking is for (the caller
        checked they are one); ``delegate_id``: the employee's delegate who holds (checked
        too)."""
        existing = self.existing_hold(request_id, provider_id, category, amount_cents, member_id)
        if existing is not None:
            return existing
        self.check_hold(category, amount_cents, today)
        hold_id = self.hold_id_for(request_id)
        own, general = self.account(category), self.account(accounts.GENERAL)
        transfers = holds.funding(hold_id, own, self.balance(category), general, amount_cents)
        accounts.check_transfers(self.balances, self.owns, transfers)
        self.trigger_event(
            self.FundsHeld,
            employee_id=self.employee_id,
            hold_id=hold_id,
            request_id=request_id,
            provider_id=provider_id,
            category=category,
            amount_cents=amount_cents,
            expires_at=expires_at,
            member_id=member_id,
            delegate_id=delegate_id,
            transfers=transfers,
        )
        return hold_id

    def refuse_hold(
        self,
        request_id: str,
        provider_id: str,
        category: str,
        amount_cents: int,
        reason_code: str,
        reason: str,
    ) -> None:
        """Record that a hold asked by another service (the booking saga) was refused, so the
        saga hears of it; a repeated request is recorded once."""
        if f"refused:{request_id}" in self.requests or f"hold:{request_id}" in self.requests:
            return
        self.trigger_event(
            self.HoldRefused,
            employee_id=self.employee_id,
            request_id=request_id,
            provider_id=provider_id,
            category=category,
            amount_cents=amount_cents,
            reason_code=reason_code,
            reason=reason[:300],
            transfers=[],
        )

    def get_hold(self, hold_id: UUID) -> dict[str, Any]:
        hold = self.holds.get(str(hold_id))
        if hold is None:
            raise HoldNotFound(f"no hold {hold_id} in this wallet")
        return hold

    def capture(self, hold_id: UUID, request_id: str, amount_cents: int | None) -> int:
        """Capture all (``None``) or part of a hold for its provider; the rest goes back.
        Returns the captured cents. A repeated request id changes nothing."""
        hold = self.get_hold(hold_id)
        if f"capture:{hold_id}:{request_id}" in self.requests:
            return int(hold["captured"])
        amount, transfers = holds.capture(hold_id, hold, amount_cents)
        accounts.check_transfers(self.balances, self.owns, transfers)
        self.trigger_event(
            self.HoldCaptured,
            employee_id=self.employee_id,
            hold_id=hold_id,
            request_id=request_id,
            provider_id=hold["provider_id"],
            category=hold["category"],
            amount_cents=amount,
            released_cents=hold["amount"] - amount,
            transfers=transfers,
        )
        return amount

    def release(self, hold_id: UUID, request_id: str) -> int:
        """Cancel a hold: its money goes back. Returns the released cents (0 when a repeated
        request)."""
        hold = self.get_hold(hold_id)
        if f"release:{hold_id}:{request_id}" in self.requests:
            return 0
        holds.check_status(hold, "held", "release")
        transfers = holds.give_back(hold_id, hold["amount"], hold["sources"])
        self.trigger_event(
            self.HoldReleased,
            employee_id=self.employee_id,
            hold_id=hold_id,
            request_id=request_id,
            amount_cents=hold["amount"],
            transfers=transfers,
        )
        return int(hold["amount"])

    def expire_holds(self, now: datetime) -> list[tuple[UUID, str, int]]:
        """Release every hold past its expiry; returns (hold id, category, cents) of each."""
        expired = []
        for hold_id, hold in list(self.holds.items()):
            if holds.is_due(hold, now):
                transfers = holds.give_back(UUID(hold_id), hold["amount"], hold["sources"])
                self.trigger_event(
                    self.HoldExpired,
                    employee_id=self.employee_id,
                    hold_id=UUID(hold_id),
                    amount_cents=hold["amount"],
                    transfers=transfers,
                )
                expired.append((UUID(hold_id), hold["category"], hold["amount"]))
        return expired

    def refund(self, hold_id: UUID, request_id: str, amount_cents: int) -> int:
        """Give captured money back from the provider (a reverse transfer) to the account that
        first funded the hold. Returns the refunded cents (0 for a repeated request)."""
        hold = self.get_hold(hold_id)
        if f"refund:{hold_id}:{request_id}" in self.requests:
            return 0
        transfers = holds.refund(hold, amount_cents)
        self.check_open()
        self.trigger_event(
            self.Refunded,
            employee_id=self.employee_id,
            hold_id=hold_id,
            request_id=request_id,
            provider_id=hold["provider_id"],
            category=hold["category"],
            amount_cents=amount_cents,
            transfers=transfers,
        )
        return amount_cents

    # --- productivity bonus -------------------------------------------------------------------

    def existing_conversion(self, request_id: str, amount_cents: int) -> bool:
        """True when the employer's request was converted already; a request id reused for
        another amount is refused."""
        done = self.bonus_requests.get(request_id)
        if done is None:
            return False
        if done != amount_cents:
            raise RequestMismatch(f"request {request_id} already converted {done} cents")
        return True

    def bonus_transfer(self, amount_cents: int, today: date) -> dict[str, Any]:
        """The transfer a conversion makes: from the employer's bonus account to the wallet's
        general credit (the plan checks and records its side too)."""
        self.check_open()
        if today > self.expires_on:
            raise CreditExpired(
                f"this wallet's credit expired on {self.expires_on}",
                expired_on=str(self.expires_on),
            )
        bonus = accounts.employer_bonus(self.employer_id)
        return accounts.transfer(bonus, self.account(accounts.GENERAL), amount_cents)

    def record_bonus(self, request_id: str, transfer: dict[str, Any]) -> None:
        self.trigger_event(
            self.BonusConverted,
            plan_id=self.plan_id,
            employee_id=self.employee_id,
            request_id=request_id,
            year=self.year,
            amount_cents=transfer["amount_cents"],
            transfers=[transfer],
        )

    # --- expiry reminders ---------------------------------------------------------------------

    def due_reminder(self, today: date) -> int | None:
        """The reminder threshold (days before expiry) due today, or None: the most urgent one
        crossed, unless it or a more urgent one was sent; never for an empty or closed wallet,
        nor once the credit has expired."""
        if self.closed or not self.total_cents:
            return None
        return due_reminder((self.expires_on - today).days, self.reminded_days)

    def remind_expiry(self, today: date) -> int:
        """Record the reminder due today, if any; returns the cents at stake (0: none due)."""
        threshold = self.due_reminder(today)
        if threshold is None:
            return 0
        amount = self.total_cents
        self.trigger_event(
            self.CreditExpiring,
            plan_id=self.plan_id,
            employee_id=self.employee_id,
            expires_on=self.expires_on,
            threshold_days=threshold,
            days_left=(self.expires_on - today).days,
            amount_cents=amount,
            held_cents=self.held_cents,
            transfers=[],
        )
        return amount

    # --- end of plan --------------------------------------------------------------------------

    def check_no_open_holds(self) -> None:
        if self.held_cents:
            raise InvalidTransition(
                f"{self.held_cents} cents are still held: release or capture them first"
            )

    def _sweep(self, to_account: str) -> Transfers:
        return [
            accounts.transfer(account, to_account, balance)
            for account, balance in sorted(self.balances.items())
            if account.startswith("wallet:") and balance > 0
        ]

    def expire_credit(self) -> Transfers:
        """Return every cent left to the employer (plan ``reset``); the plan records its leg."""
        self.check_open()
        self.check_no_open_holds()
        transfers = self._sweep(accounts.plan_returned(self.plan_id))
        amount = sum(t["amount_cents"] for t in transfers)
        self.trigger_event(
            self.CreditExpired,
            plan_id=self.plan_id,
            employee_id=self.employee_id,
            amount_cents=amount,
            transfers=transfers,
        )
        return transfers

    def carry_over(self, to: Wallet) -> int:
        """Move every cent left into the same employee's wallet of the next plan (categories
        the next plan does not allow become general credit)."""
        self.check_open()
        self.check_no_open_holds()
        transfers = [
            accounts.transfer(account, to.account(self._category_of(account, to)), balance)
            for account, balance in sorted(self.balances.items())
            if account.startswith("wallet:") and balance > 0
        ]
        amount = int(sum(t["amount_cents"] for t in transfers))
        self.trigger_event(
            self.CreditCarriedOver,
            plan_id=self.plan_id,
            employee_id=self.employee_id,
            to_wallet_id=to.id,
            amount_cents=amount,
            transfers=transfers,
        )
        to.trigger_event(
            to.CreditCarriedIn,
            plan_id=to.plan_id,
            employee_id=to.employee_id,
            from_wallet_id=self.id,
            amount_cents=amount,
            transfers=transfers,
        )
        return amount

    @staticmethod
    def _category_of(account: str, to: Wallet) -> str:
        category = account.rsplit(":", 1)[1]
        return category if category in to.categories else accounts.GENERAL
