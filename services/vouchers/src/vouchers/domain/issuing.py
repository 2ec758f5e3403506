"""How a round's budget reaches its households: the ranking, serving it while the budget lasts,
and the waitlist served when money comes back (an expired or revoked voucher's unspent value).

The rules, in the order an operator meets them:

- **Ranking.** Approved and waitlisted applications are served by priority (1 first: a
  household already receiving other public support may come after, see
  ``EntitlementRules.priority``), then by need (lower ISEE first), then by submission time.
- **Strict order.** Households are served down the ranking while the round's budget covers
  each one's whole entitlement. The first household it cannot cover waits, and so does every
  household below it, even one whose smaller entitlement would still fit: nobody jumps the
  queue. The waiting households are ranked 1, 2, 3... in ranking order.
- **Money returns.** The unspent value of an expired or revoked voucher goes back to the round.
  When it does and households are waiting, the ranking is served again, by the same rules.
  Where nobody waits, nothing happens: issuing there is the operator's decision.

Everything here works on aggregates in memory (or any rows with the same attributes); the
handlers in ``vouchers.application.handlers.issuing`` get them from the store and save them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

from vouchers.domain.codes import voucher_id_for
from vouchers.domain.household_application import HouseholdApplication, Status
from vouchers.domain.round import Round
from vouchers.domain.voucher import Voucher

# The applications a ranking holds: approved ones, and those already waiting.
RANKED: tuple[Status, ...] = ("approved", "waitlisted")


class Candidate(Protocol):
    """What the ranking reads of an application (the aggregate or a read model's row)."""

    @property
    def status(self) -> Status: ...
    @property
    def priority(self) -> int: ...
    @property
    def isee_cents(self) -> int: ...
    @property
    def created_on(self) -> datetime: ...


CandidateT = TypeVar("CandidateT", bound=Candidate)
T = TypeVar("T")


def ranking_key(candidate: Candidate) -> tuple[int, int, datetime]:
    """Priority, then need (lower ISEE first), then submission time."""
    return (candidate.priority, candidate.isee_cents, candidate.created_on)


def rank(applications: Iterable[CandidateT]) -> list[CandidateT]:
    """The round's applications in the order they are served (the read model's ranking query
    orders its index the same way; ties keep the order given, submission order)."""
    return sorted((a for a in applications if a.status in RANKED), key=ranking_key)


@dataclass(frozen=True)
class Issuance:
    served: int
    waitlisted: int

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def serve_in_rank_order(
    ranking: Iterable[T],
    serve: Callable[[T], bool],
    waitlist: Callable[[T, int], None],
) -> Issuance:
    """Serve the ranking strictly in order: ``serve`` each household until one it cannot serve
    (False: the budget does not cover it); from there on ``waitlist`` everyone, ranked 1, 2...
    Each call changes and saves one household, so what it finds is always fresh."""
    served = waitlisted = 0
    for candidate in ranking:
        if not waitlisted and serve(candidate):
            served += 1
            continue
        waitlisted += 1  # strict ranking: nobody further down jumps the queue
        waitlist(candidate, waitlisted)
    return Issuance(served, waitlisted)


def covers(round_: Round, application: HouseholdApplication) -> bool:
    """Whether what is left of the round's budget covers the household's whole entitlement."""
    return application.entitlement_cents <= round_.available_cents


def issue_to_household(
    round_: Round,
    application: HouseholdApplication,
    codes: Sequence[str],
    sealed_codes: str,
    now: datetime,
) -> list[Voucher]:
    """The household's vouchers, one per value of its entitlement and code (``codes``, sealed
    with its key in ``sealed_codes``), valid for the round's validity from ``now``: committed
    against the round's budget, and the application served."""
    expires_at = now + timedelta(days=round_.validity_days)
    vouchers = [
        Voucher.issue(
            voucher_id_for(code),
            round_id=round_.id,
            application_id=application.id,
            household_id=application.household_id,
            holder=application.applicant,
            value_cents=value,
            expires_at=expires_at,
            kind=round_.kind,
        )
        for code, value in zip(codes, application.voucher_values, strict=True)
    ]
    voucher_ids = [str(v.id) for v in vouchers]
    round_.commit_vouchers(
        application.id, application.household_id, voucher_ids, application.entitlement_cents
    )
    application.serve(voucher_ids, sealed_codes, expires_at)
    return vouchers


def expire(voucher: Voucher, round_: Round, now: datetime) -> int:
    """Expire a voucher past its date; its unspent value returns to the round. Returns it."""
    amount = voucher.expire(now)
    if amount:
        round_.take_back(voucher.id, amount, "expired")
    return amount


def revoke(voucher: Voucher, round_: Round, reason_code: str) -> int:
    """Revoke a voucher (a false declaration); its unspent value returns to the round."""
    amount = voucher.revoke(reason_code)
    if amount:
        round_.take_back(voucher.id, amount, "revoked")
    return amount


def waitlist_is_due(returned_cents: int, households_waiting: Callable[[], bool]) -> bool:
    """Whether to serve the ranking again: money came back and households wait for it (asked
    only once money came back)."""
    return returned_cents > 0 and households_waiting()
