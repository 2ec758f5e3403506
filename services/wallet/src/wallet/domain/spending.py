"""Spending from a wallet, across the aggregates it involves: who may hold (the employee, their
current delegate), for whom (the employee, a named family member), and the fringe-benefit
year a hold in the ``fringe_purchase`` category counts on — crossing the year's tax-free cap
needs the employee's confirmation, and money that comes back from a fringe hold (released,
expired, not captured, refunded) is given back to the year.

The family and the fringe year are passed as getters, asked for only when a rule needs them:
a command touches no more aggregates than it must, and a test passes in-memory ones.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol
from uuid import UUID

from wallet.domain.accounts import FRINGE
from wallet.domain.family import Family, check_delegate, check_member
from wallet.domain.fringe import FringeYear, OverFringeCap
from wallet.domain.plausible import check_hold_expiry
from wallet.domain.wallet import Wallet

FringeOf = Callable[[], FringeYear]
FamilyOf = Callable[[], Family | None]


class HoldTerms(Protocol):
    """What a hold asks for (the application's ``HoldFunds`` command is one)."""

    @property
    def request_id(self) -> str: ...
    @property
    def provider_id(self) -> str: ...
    @property
    def category(self) -> str: ...
    @property
    def amount_cents(self) -> int: ...
    @property
    def expires_at(self) -> datetime: ...
    @property
    def confirm_taxable(self) -> bool: ...
    @property
    def for_member_id(self) -> str | None: ...


def hold(
    wallet: Wallet,
    terms: HoldTerms,
    at: datetime,
    *,
    family_of: FamilyOf,
    fringe_of: FringeOf,
    delegate_id: str | None = None,
    on_the_spot: bool = False,
    grace: timedelta = timedelta(0),
) -> UUID | OverFringeCap:
    """Reserve money for a pending booking. ``delegate_id``: the employee's delegate holds,
    and must still be the delegate. The same request id gives the same hold, made once. A hold
    expires in the future, within a year and its plan, plus ``grace`` (a booking's hold: see
    ``settlement.py``; ``on_the_spot``: a spend's hold, captured at once). A fringe hold
    crossing the year's cap unconfirmed is refused with the warning recorded
    (``OverFringeCap``); confirmed, the whole year becomes taxable."""
    member_id = terms.for_member_id
    family = family_of() if delegate_id is not None or member_id is not None else None
    if delegate_id is not None:
        check_delegate(family, wallet.employee_id, delegate_id)
    existing = wallet.existing_hold(
        terms.request_id, terms.provider_id, terms.category, terms.amount_cents, member_id
    )
    if existing is not None:
        return existing
    wallet.check_hold(terms.category, terms.amount_cents, at.date())
    if not on_the_spot:
        check_hold_expiry(terms.expires_at, at, wallet.expires_on, grace)
    if member_id is not None:
        check_member(family, wallet.employee_id, member_id)
    fringe = fringe_of() if terms.category == FRINGE else None
    if fringe is not None and fringe.would_cross(terms.amount_cents):
        if not terms.confirm_taxable:
            return fringe.warn(terms.amount_cents)
        fringe.confirm_taxable()
    hold_id = wallet.hold(
        terms.request_id,
        terms.provider_id,
        terms.category,
        terms.amount_cents,
        terms.expires_at.astimezone(UTC),
        at.date(),
        member_id=member_id,
        delegate_id=delegate_id,
    )
    if fringe is not None:
        fringe.commit(hold_id, terms.amount_cents)
    return hold_id


def capture(
    wallet: Wallet, hold_id: UUID, request_id: str, amount_cents: int | None, fringe_of: FringeOf
) -> int:
    """Capture all (``None``) or part of a hold for its provider; what is not captured goes
    back (to the fringe year too). Returns the captured cents; a repeated request changes
    nothing."""
    hold = wallet.get_hold(hold_id)
    was_held = hold["status"] == "held"
    captured = wallet.capture(hold_id, request_id, amount_cents)
    if was_held:
        _fringe_back(wallet, hold_id, hold["amount"] - captured, fringe_of)
    return captured


def release(wallet: Wallet, hold_id: UUID, request_id: str, fringe_of: FringeOf) -> int:
    """Cancel a hold: its money goes back. Returns the released cents (0: a repeat)."""
    released = wallet.release(hold_id, request_id)
    _fringe_back(wallet, hold_id, released, fringe_of)
    return released


def refund(
    wallet: Wallet, hold_id: UUID, request_id: str, amount_cents: int, fringe_of: FringeOf
) -> int:
    """The provider gives captured money back. Returns the refunded cents (0: a repeat)."""
    refunded = wallet.refund(hold_id, request_id, amount_cents)
    _fringe_back(wallet, hold_id, refunded, fringe_of)
    return refunded


def expire_holds(wallet: Wallet, now: datetime, fringe_of: FringeOf) -> int:
    """Release every hold past its expiry; returns the cents that went back."""
    expired = wallet.expire_holds(now)
    for hold_id, category, cents in expired:
        if category == FRINGE:
            fringe_of().give_back(hold_id, cents)
    return sum(cents for _, _, cents in expired)


def _fringe_back(wallet: Wallet, hold_id: UUID, cents: int, fringe_of: FringeOf) -> None:
    if cents and wallet.get_hold(hold_id)["category"] == FRINGE:
        fringe_of().give_back(hold_id, cents)
