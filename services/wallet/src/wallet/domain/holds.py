"""A hold's record in a wallet (``Wallet.holds[hold_id]``: status, amounts, category,
provider, expiry, the accounts that funded it) and the rules on it, as functions of the record
alone: what a capture, release or refund may do, and the transfers each makes. The wallet
checks its balances and records the event."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from wallet.domain import accounts
from wallet.domain.errors import (
    CaptureExceedsHold,
    HoldNotOpen,
    RefundExceedsCapture,
    RequestMismatch,
)

Hold = dict[str, Any]
Transfers = list[dict[str, Any]]


def check_same_request(
    hold: Hold,
    request_id: str,
    provider_id: str,
    category: str,
    amount_cents: int,
    member_id: str | None,
) -> None:
    """A repeated hold request asks for what the first one held; a request id reused for
    something else is refused."""
    asked = (provider_id, category, amount_cents, member_id)
    if (hold["provider_id"], hold["category"], hold["amount"], hold.get("member_id")) != asked:
        raise RequestMismatch(f"request {request_id} already held different funds")


def funding(hold_id: UUID, own: str, own_balance: int, general: str, amount: int) -> Transfers:
    """The transfers into a new hold: the category's own credit first (``own``, holding
    ``own_balance``), the rest from general credit."""
    to = accounts.hold_account(hold_id)
    from_own = min(own_balance, amount)
    transfers = []
    if from_own:
        transfers.append(accounts.transfer(own, to, from_own))
    if amount - from_own:
        transfers.append(accounts.transfer(general, to, amount - from_own))
    return transfers


def give_back(hold_id: UUID, amount: int, sources: list[list[Any]]) -> Transfers:
    """Transfers returning ``amount`` from a hold to the accounts that funded it, the last one
    first (general credit is given back before category credit)."""
    transfers: Transfers = []
    left = amount
    for account, funded in reversed(sources):
        part = min(left, funded)
        if part:
            transfers.append(accounts.transfer(accounts.hold_account(hold_id), account, part))
        left -= part
    return transfers


def check_status(hold: Hold, status: str, doing: str) -> None:
    if hold["status"] != status:
        raise HoldNotOpen(
            f"cannot {doing} a hold that is {hold['status']}", hold_status=hold["status"]
        )


def capture(hold_id: UUID, hold: Hold, amount_cents: int | None) -> tuple[int, Transfers]:
    """What capturing all (``None``) or part of an open hold takes: the cents for the
    provider, and the transfers (to the provider, the rest back to its sources)."""
    check_status(hold, "held", "capture")
    amount = hold["amount"] if amount_cents is None else amount_cents
    accounts.check_amount(amount)
    if amount > hold["amount"]:
        raise CaptureExceedsHold(
            f"the hold reserved {hold['amount']} cents; {amount} cents cannot be captured",
            held_cents=hold["amount"],
        )
    payable = accounts.provider_payable(hold["provider_id"])
    return amount, [
        accounts.transfer(accounts.hold_account(hold_id), payable, amount),
        *give_back(hold_id, hold["amount"] - amount, hold["sources"]),
    ]


def refund(hold: Hold, amount_cents: int) -> Transfers:
    """The transfer giving captured money back from the provider to the account that first
    funded the hold (at most what was captured and not yet refunded)."""
    check_status(hold, "captured", "refund")
    accounts.check_amount(amount_cents)
    refundable = hold["captured"] - hold["refunded"]
    if amount_cents > refundable:
        raise RefundExceedsCapture(
            f"{refundable} cents of this capture can still be refunded; "
            f"{amount_cents} cents were asked",
            refundable_cents=refundable,
        )
    to = hold["sources"][0][0]
    return [accounts.transfer(accounts.provider_payable(hold["provider_id"]), to, amount_cents)]


def is_due(hold: Hold, now: datetime) -> bool:
    """An open hold past its expiry."""
    return hold["status"] == "held" and datetime.fromisoformat(hold["expires_at"]) <= now
