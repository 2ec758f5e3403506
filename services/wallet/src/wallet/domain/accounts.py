"""The double-entry vocabulary: account names and balanced transfers (the module was
``ledger.py``: every aggregate of the wallet is a ledger; this one holds their accounts).

Every movement of money is a :class:`Transfer` from one account to another; an event lists the
transfers it made. An aggregate keeps the balances of the accounts it *owns* and refuses any
transfer that would take one of them below zero. A transfer between accounts owned by two
aggregates is recorded in both streams (same ``transfer_id``), in one transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal

from wallet.domain.errors import InsufficientFunds, InvalidAmount

Category = Literal[
    "general",
    "services_no_cap",
    "education_childcare",
    "elderly_care",
    "transport",
    "fringe_purchase",
]
SPENDING_CATEGORIES: tuple[str, ...] = (
    "services_no_cap",
    "education_childcare",
    "elderly_care",
    "transport",
    "fringe_purchase",
)
GENERAL = "general"
FRINGE = "fringe_purchase"

# A single amount above this is almost certainly cents typed as euros (or worse).
MAX_SINGLE_AMOUNT_CENTS = 10_000_000_000


def may_go_negative(account: str) -> bool:
    """Where money enters the ledger (an employer's contributions and productivity bonuses) and
    the memo ledgers' contra accounts (fringe benefits, converted bonus) may go negative; every
    other account never does."""
    return account.startswith("employer:") or (
        account.startswith(("fringe:", "bonus:")) and account.endswith(":contra")
    )


def check_amount(amount_cents: int) -> None:
    if isinstance(amount_cents, bool) or not isinstance(amount_cents, int):
        raise InvalidAmount("amounts are integer euro cents")
    if amount_cents <= 0:
        raise InvalidAmount(f"an amount must be positive, got {amount_cents} cents")
    if amount_cents > MAX_SINGLE_AMOUNT_CENTS:
        raise InvalidAmount(
            f"{amount_cents} cents exceeds the largest single amount "
            f"({MAX_SINGLE_AMOUNT_CENTS} cents): check cents vs euros"
        )


def employer_contributions(employer_id: str) -> str:
    return f"employer:{employer_id}:contributions"


def employer_bonus(employer_id: str) -> str:
    """Where the productivity bonuses an employer's employees convert into credit come from."""
    return f"employer:{employer_id}:productivity_bonus"


def plan_funding(plan_id: Any) -> str:
    return f"plan:{plan_id}:funding"


def plan_returned(plan_id: Any) -> str:
    return f"plan:{plan_id}:returned"


def wallet_account(plan_id: Any, employee_id: str, category: str) -> str:
    return f"wallet:{plan_id}:{employee_id}:{category}"


def hold_account(hold_id: Any) -> str:
    return f"hold:{hold_id}"


def provider_payable(provider_id: str) -> str:
    return f"provider:{provider_id}:payable"


def fringe_account(employee_id: str, year: int, kind: str) -> str:
    return f"fringe:{employee_id}:{year}:{kind}"


def bonus_account(employee_id: str, year: int, kind: str) -> str:
    return f"bonus:{employee_id}:{year}:{kind}"


def transfer(from_account: str, to_account: str, amount_cents: int) -> dict[str, Any]:
    """A new balanced transfer, as stored in events (plain JSON)."""
    check_amount(amount_cents)
    return {
        "transfer_id": str(uuid.uuid4()),
        "from_account": from_account,
        "to_account": to_account,
        "amount_cents": amount_cents,
    }


Owns = Callable[[str], bool]


def check_transfers(
    balances: Mapping[str, int], owns: Owns, transfers: Iterable[Mapping[str, Any]]
) -> None:
    """Refuse unless applying ``transfers`` keeps every owned, guarded account at zero or more.
    ``balances`` are the owned accounts' balances (they are not changed here)."""
    after = dict(balances)
    for t in transfers:
        for account, sign in ((t["from_account"], -1), (t["to_account"], 1)):
            if owns(account):
                after[account] = after.get(account, 0) + sign * t["amount_cents"]
    for account, balance in after.items():
        if balance < 0 and not may_go_negative(account):
            had = balances.get(account, 0)
            raise InsufficientFunds(
                f"account {account} has {had} cents; the movement needs {had - balance} cents"
            )


def apply_transfers(
    balances: dict[str, int], owns: Owns, transfers: Iterable[Mapping[str, Any]]
) -> None:
    for t in transfers:
        if owns(t["from_account"]):
            balances[t["from_account"]] = balances.get(t["from_account"], 0) - t["amount_cents"]
        if owns(t["to_account"]):
            balances[t["to_account"]] = balances.get(t["to_account"], 0) + t["amount_cents"]
