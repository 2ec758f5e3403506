"""The issuing rules (``vouchers.domain.issuing``) on aggregates in memory, no store: the
ranking, serving it strictly in order while the budget lasts, and the money that comes back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest
from vouchers.domain import issuing
from vouchers.domain.codes import new_code, voucher_id_for
from vouchers.domain.errors import InvalidTransition
from vouchers.domain.household_application import HouseholdApplication, Status
from vouchers.domain.round import Round
from vouchers.domain.rules import EntitlementRules

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
RULES = EntitlementRules(
    base_cents=15_000, per_extra_member_cents=5_000, per_minor_cents=0, cap_cents=50_000
)


@dataclass(frozen=True)
class Row:
    name: str
    status: Status
    priority: int
    isee_cents: int
    created_on: datetime


def row(name: str, priority: int, isee: int, minutes: int, status: Status = "approved") -> Row:
    return Row(name, status, priority, isee, NOW + timedelta(minutes=minutes))


def a_round(budget: int = 30_000, validity_days: int = 30) -> Round:
    return Round.open(
        fund_id=uuid4(),
        municipality_istat="096004",
        title="Buoni spesa",
        opens_at=NOW - timedelta(days=1),
        closes_at=NOW + timedelta(days=10),
        budget_cents=budget,
        rules=RULES,
        denominations_cents=[2_500, 5_000],
        validity_days=validity_days,
        excluded_categories=["alcohol"],
        now=NOW,
    )


def approved(round_: Round, members: int = 1, other_support: bool = False) -> HouseholdApplication:
    application = HouseholdApplication(
        round_id=round_.id,
        household_id=uuid4(),
        applicant="b-1",
        members=members,
        minors=0,
        isee_cents=500_000,
        other_support=other_support,
        sealed_personal_data="sealed",
    )
    application.approve(round_.entitlement_rules, tuple(round_.denominations_cents), "sw")
    return application


def serve(round_: Round, application: HouseholdApplication) -> list[Any]:
    codes = [new_code() for _ in application.voucher_values]
    return issuing.issue_to_household(round_, application, codes, "sealed-codes", NOW)


# --- the ranking -------------------------------------------------------------------------------


def test_the_ranking_is_priority_then_need_then_submission_time() -> None:
    rows = [
        row("late_poor", 1, 100_000, minutes=9),
        row("other_support", 2, 0, minutes=0),
        row("early_poor", 1, 100_000, minutes=1),
        row("richer", 1, 400_000, minutes=0),
    ]
    ranked = [r.name for r in issuing.rank(rows)]
    assert ranked == ["early_poor", "late_poor", "richer", "other_support"]


def test_the_ranking_holds_approved_and_waitlisted_households_only() -> None:
    rows = [
        row(status, 1, 0, minutes=n, status=status)
        for n, status in enumerate(("submitted", "approved", "rejected", "waitlisted", "served"))
    ]
    assert [r.name for r in issuing.rank(rows)] == ["approved", "waitlisted"]


def test_ties_keep_the_order_given() -> None:
    rows = [row(name, 1, 0, minutes=0) for name in ("first", "second", "third")]
    assert [r.name for r in issuing.rank(rows)] == ["first", "second", "third"]


# --- serving the ranking strictly in order ---------------------------------------------------


def test_the_ranking_is_served_while_the_budget_lasts_and_nobody_jumps_the_queue() -> None:
    budget = {"left": 30_000}
    entitlements = {"a": 15_000, "b": 20_000, "c": 5_000, "d": 5_000}
    waitlisted: list[tuple[str, int]] = []

    def serve_one(name: str) -> bool:
        if entitlements[name] > budget["left"]:
            return False
        budget["left"] -= entitlements[name]
        return True

    outcome = issuing.serve_in_rank_order(
        entitlements, serve_one, lambda name, rank: waitlisted.append((name, rank))
    )
    assert outcome == issuing.Issuance(served=1, waitlisted=3)
    assert outcome.as_dict() == {"served": 1, "waitlisted": 3}
    # c and d would fit in what is left, but b comes first: they wait behind it.
    assert waitlisted == [("b", 1), ("c", 2), ("d", 3)]
    assert budget["left"] == 15_000


def test_once_blocked_nobody_further_down_is_even_tried() -> None:
    tried: list[str] = []

    def serve_one(name: str) -> bool:
        tried.append(name)
        return name != "b"

    outcome = issuing.serve_in_rank_order(["a", "b", "c"], serve_one, lambda *_: None)
    assert (outcome.served, outcome.waitlisted, tried) == (1, 2, ["a", "b"])


def test_an_empty_ranking_serves_nobody() -> None:
    assert issuing.serve_in_rank_order([], lambda _: True, lambda *_: None).as_dict() == {
        "served": 0,
        "waitlisted": 0,
    }


# --- one household served ----------------------------------------------------------------------


def test_a_household_is_served_its_whole_entitlement_from_the_round_budget() -> None:
    round_ = a_round(budget=30_000, validity_days=20)
    application = approved(round_, members=2)  # 15,000 + 5,000
    assert issuing.covers(round_, application)

    vouchers = serve(round_, application)

    assert sorted(v.value_cents for v in vouchers) == sorted(application.voucher_values)
    assert sum(v.value_cents for v in vouchers) == application.entitlement_cents == 20_000
    assert {v.expires_at for v in vouchers} == {NOW + timedelta(days=20)}
    assert {(v.round_id, v.application_id, v.holder) for v in vouchers} == {
        (round_.id, application.id, "b-1")
    }
    assert application.status == "served"
    assert application.voucher_ids == [str(v.id) for v in vouchers]
    assert (round_.issued_cents, round_.available_cents) == (20_000, 10_000)
    assert (round_.households_served, round_.vouchers_issued) == (1, len(vouchers))


def test_each_voucher_id_is_derived_from_its_code() -> None:
    round_ = a_round()
    application = approved(round_)
    codes = [new_code() for _ in application.voucher_values]
    vouchers = issuing.issue_to_household(round_, application, codes, "sealed", NOW)
    assert [v.id for v in vouchers] == [voucher_id_for(c) for c in codes]


def test_a_household_the_budget_does_not_cover_is_not_covered() -> None:
    round_ = a_round(budget=35_000)
    serve(round_, approved(round_, members=2))  # 20,000 of 35,000: 15,000 left
    assert not issuing.covers(round_, approved(round_, members=2))  # 20,000
    assert issuing.covers(round_, approved(round_, members=1))  # 15,000, exactly what is left


def test_a_household_is_not_served_twice() -> None:
    round_ = a_round(budget=50_000)
    application = approved(round_)
    serve(round_, application)
    with pytest.raises(InvalidTransition):
        serve(round_, application)


# --- money coming back ----------------------------------------------------------------------------


def test_an_expired_voucher_gives_its_unspent_value_back_to_the_round() -> None:
    round_ = a_round(budget=30_000, validity_days=10)
    voucher, *_ = serve(round_, approved(round_))
    before = round_.available_cents

    assert issuing.expire(voucher, round_, NOW + timedelta(days=9)) == 0  # not yet
    returned = issuing.expire(voucher, round_, NOW + timedelta(days=10))

    assert returned == voucher.value_cents and voucher.status == "expired"
    assert round_.available_cents == before + returned
    assert issuing.expire(voucher, round_, NOW + timedelta(days=11)) == 0  # once only


def test_a_revoked_voucher_gives_its_unspent_value_back_to_the_round() -> None:
    round_ = a_round(budget=30_000)
    voucher, *_ = serve(round_, approved(round_))
    returned = issuing.revoke(voucher, round_, "false_declaration")
    assert returned == voucher.value_cents and voucher.status == "revoked"
    assert round_.returned_cents == returned


def test_the_waitlist_is_served_again_only_when_money_came_back_and_households_wait() -> None:
    asked: list[bool] = []

    def waiting(answer: bool) -> Any:
        def ask() -> bool:
            asked.append(answer)
            return answer

        return ask

    assert issuing.waitlist_is_due(2_500, waiting(True))
    assert not issuing.waitlist_is_due(2_500, waiting(False))
    assert not issuing.waitlist_is_due(0, waiting(True))
    assert asked == [True, False]  # nobody asks who waits when no money came back


# --- the round's snapshot ------------------------------------------------------------------------


def test_a_round_snapshot_from_before_the_counts_is_upcast() -> None:
    """Rounds snapshotted before 2026-12 held the ids of every voucher and household served."""
    from eventsourcing.domain import Snapshot

    round_ = a_round(budget=50_000)
    first, second = approved(round_, members=2), approved(round_)
    vouchers = serve(round_, first) + serve(round_, second)
    snapshot = Snapshot.take(round_)
    old_state = {
        k: v
        for k, v in snapshot.state.items()
        if k not in ("households_served", "vouchers_issued", "class_version")
    }
    old_state["voucher_ids"] = [str(v.id) for v in vouchers]
    old_state["served_applications"] = [str(first.id), str(second.id)]
    old = Snapshot(
        originator_id=snapshot.originator_id,
        originator_version=snapshot.originator_version,
        timestamp=snapshot.timestamp,
        topic=snapshot.topic,
        state=old_state,
    )
    restored = old.mutate(None)
    assert isinstance(restored, Round)
    assert (restored.households_served, restored.vouchers_issued) == (2, len(vouchers))
    assert not hasattr(restored, "voucher_ids")
    assert restored.available_cents == round_.available_cents
