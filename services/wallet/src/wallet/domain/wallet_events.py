"""What happens to a wallet, and how each event changes it (its ``apply``). The ``Wallet``
aggregate (``wallet.py``) decides, and names these classes: the aggregate's metaclass makes each
one ``Wallet.<Name>``, so events are stored under ``wallet.domain.wallet:Wallet.<Name>`` as they
always were (``tests/unit/test_stored_topics.py``). Every event lists the balanced transfers it
made (none for the events that move no money)."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from servicekit.chain import ChainedAggregate

from wallet.domain import accounts

if TYPE_CHECKING:
    from wallet.domain.wallet import Wallet

Transfers = list[dict[str, Any]]


def _record(wallet: Wallet, transfers: Transfers) -> None:
    accounts.apply_transfers(wallet.balances, wallet.owns, transfers)


class Opened(ChainedAggregate.Created):
    plan_id: UUID
    employer_id: str
    employee_id: str
    year: int
    categories: list[str]
    expires_on: date
    transfers: Transfers


class CreditGranted(ChainedAggregate.Event):
    plan_id: UUID
    employee_id: str
    category: str
    amount_cents: int
    transfers: Transfers

    def apply(self, wallet: Wallet) -> None:
        _record(wallet, self.transfers)
        wallet.granted_cents += self.amount_cents


class FundsHeld(ChainedAggregate.Event):
    # 2: the family member the hold is for, the delegate who made it (None in older events).
    class_version = 2

    employee_id: str
    hold_id: UUID
    request_id: str
    provider_id: str
    category: str
    amount_cents: int
    expires_at: datetime
    member_id: str | None
    delegate_id: str | None
    transfers: Transfers

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state.setdefault("member_id", None)
        state.setdefault("delegate_id", None)

    def apply(self, wallet: Wallet) -> None:
        wallet.holds[str(self.hold_id)] = {
            "status": "held",
            "amount": self.amount_cents,
            "captured": 0,
            "refunded": 0,
            "category": self.category,
            "provider_id": self.provider_id,
            "expires_at": self.expires_at.isoformat(),
            "sources": [[t["from_account"], t["amount_cents"]] for t in self.transfers],
            "request_id": self.request_id,
            "member_id": self.member_id,
            "delegate_id": self.delegate_id,
        }
        wallet.requests[f"hold:{self.request_id}"] = str(self.hold_id)
        _record(wallet, self.transfers)


class HoldCaptured(ChainedAggregate.Event):
    employee_id: str
    hold_id: UUID
    request_id: str
    provider_id: str
    category: str
    amount_cents: int
    released_cents: int
    transfers: Transfers

    def apply(self, wallet: Wallet) -> None:
        wallet.holds[str(self.hold_id)].update(status="captured", captured=self.amount_cents)
        wallet.requests[f"capture:{self.hold_id}:{self.request_id}"] = str(self.hold_id)
        spent = wallet.spent_by_category
        spent[self.category] = spent.get(self.category, 0) + self.amount_cents
        _record(wallet, self.transfers)


class HoldReleased(ChainedAggregate.Event):
    employee_id: str
    hold_id: UUID
    request_id: str
    amount_cents: int
    transfers: Transfers

    def apply(self, wallet: Wallet) -> None:
        wallet.holds[str(self.hold_id)]["status"] = "released"
        wallet.requests[f"release:{self.hold_id}:{self.request_id}"] = str(self.hold_id)
        _record(wallet, self.transfers)


class HoldExpired(ChainedAggregate.Event):
    employee_id: str
    hold_id: UUID
    amount_cents: int
    transfers: Transfers

    def apply(self, wallet: Wallet) -> None:
        wallet.holds[str(self.hold_id)]["status"] = "expired"
        _record(wallet, self.transfers)


class Refunded(ChainedAggregate.Event):
    employee_id: str
    hold_id: UUID
    request_id: str
    provider_id: str
    category: str
    amount_cents: int
    transfers: Transfers

    def apply(self, wallet: Wallet) -> None:
        wallet.holds[str(self.hold_id)]["refunded"] += self.amount_cents
        wallet.requests[f"refund:{self.hold_id}:{self.request_id}"] = str(self.hold_id)
        spent = wallet.spent_by_category
        spent[self.category] = spent.get(self.category, 0) - self.amount_cents
        _record(wallet, self.transfers)


class HoldRefused(ChainedAggregate.Event):
    employee_id: str
    request_id: str
    provider_id: str
    category: str
    amount_cents: int
    reason_code: str
    reason: str
    transfers: Transfers

    def apply(self, wallet: Wallet) -> None:
        wallet.requests[f"refused:{self.request_id}"] = ""


class CreditExpired(ChainedAggregate.Event):
    plan_id: UUID
    employee_id: str
    amount_cents: int
    transfers: Transfers

    def apply(self, wallet: Wallet) -> None:
        _record(wallet, self.transfers)
        wallet.expired_cents += self.amount_cents
        wallet.closed = True


class CreditCarriedOver(ChainedAggregate.Event):
    plan_id: UUID
    employee_id: str
    to_wallet_id: UUID
    amount_cents: int
    transfers: Transfers

    def apply(self, wallet: Wallet) -> None:
        _record(wallet, self.transfers)
        wallet.carried_out_cents += self.amount_cents
        wallet.closed = True


class CreditCarriedIn(ChainedAggregate.Event):
    plan_id: UUID
    employee_id: str
    from_wallet_id: UUID
    amount_cents: int
    transfers: Transfers

    def apply(self, wallet: Wallet) -> None:
        _record(wallet, self.transfers)
        wallet.carried_in_cents += self.amount_cents


class CreditExpiring(ChainedAggregate.Event):
    plan_id: UUID
    employee_id: str
    expires_on: date
    threshold_days: int
    days_left: int
    amount_cents: int
    held_cents: int
    transfers: Transfers

    def apply(self, wallet: Wallet) -> None:
        wallet.reminded_days.append(self.threshold_days)


class BonusConverted(ChainedAggregate.Event):
    plan_id: UUID
    employee_id: str
    request_id: str
    year: int
    amount_cents: int
    transfers: Transfers

    def apply(self, wallet: Wallet) -> None:
        _record(wallet, self.transfers)
        wallet.bonus_converted_cents += self.amount_cents
        wallet.bonus_requests[self.request_id] = self.amount_cents
