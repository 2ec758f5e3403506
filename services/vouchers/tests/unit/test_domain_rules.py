"""The vouchers rules, one by one, through the application on a throw-away SQLite store."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from pydantic import ValidationError
from servicekit.italian_ids import fiscal_code_check_character
from servicekit.problems import status_of
from vouchers.application import commands as cmd
from vouchers.application.app import VouchersApplication
from vouchers.domain.errors import (
    AlreadyApplied,
    ExcludedGoods,
    InsufficientBalance,
    InvalidAmount,
    InvalidDate,
    InvalidPeriod,
    InvalidTransition,
    NotAffiliated,
    NotEligible,
    NothingToClaim,
    RequestReused,
    VoidRefused,
    VoucherNotSpendable,
)
from vouchers.domain.voucher import Voucher
from vouchers.settings import VouchersSettings

from ..stories import open_round

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
_people = itertools.count(1)


def person(minor: bool = False) -> cmd.Person:
    n = next(_people)
    body = f"RSSMRA{n % 100:02d}A{1 + (n // 100) % 28:02d}A562"
    return cmd.Person(
        fiscal_code=body + fiscal_code_check_character(body),
        first_name="Mario",
        last_name="Rossi",
        minor=minor,
    )


def apply(
    app: VouchersApplication,
    round_id: UUID,
    *members: cmd.Person,
    isee: int = 500_000,
    other_support: bool = False,
    approve: bool = False,
    account: str | None = None,
) -> UUID:
    people = list(members) or [person()]
    application_id = app.submit_application(
        cmd.SubmitApplication(
            round_id=str(round_id),
            applicant=people[0],
            other_members=people[1:],
            address="Via Italia 1, Biella",
            isee_cents=isee,
            other_public_support=other_support,
            self_declaration=True,
        ),
        applicant=account or f"b-{people[0].fiscal_code}",
        now=NOW,
    )
    if approve:
        app.approve_application(application_id, "social_worker")
    return application_id


def served_household(
    app: VouchersApplication, round_id: UUID, *members: cmd.Person
) -> tuple[UUID, list[str]]:
    application_id = apply(app, round_id, *members, approve=True)
    app.issue_vouchers(round_id, now=NOW)
    return application_id, app.codes_of(app.get_application(application_id))


def affiliate(
    app: VouchersApplication, round_id: UUID, merchant_id: str = "m-1", *goods: str
) -> None:
    app.affiliate_merchant(
        round_id,
        cmd.AffiliateMerchant(
            merchant_id=merchant_id,
            vat_number="06363391001",
            goods_categories=list(goods or ["food", "hygiene"]),
        ),
    )


def redeem(
    app: VouchersApplication,
    code: str,
    amount: int,
    *,
    merchant_id: str = "m-1",
    goods: str = "food",
    request_id: str | None = None,
    at: datetime = NOW,
) -> str:
    return app.redeem(
        merchant_id,
        cmd.Redeem(
            code=code,
            amount_cents=amount,
            goods_category=goods,
            request_id=request_id or f"till-{next(_people)}",
        ),
        now=at,
    )


def void(
    app: VouchersApplication, code: str, redemption_id: str, merchant_id: str, at: datetime
) -> None:
    app.void_redemption(
        merchant_id, cmd.VoidRedemption(code=code, redemption_id=redemption_id), now=at
    )


# --- one application per household per round -------------------------------------------------


def test_a_household_applies_once_per_round_whichever_member_applies(
    app: VouchersApplication,
) -> None:
    _, round_id = open_round(app)
    mother, child = person(), person(minor=True)
    apply(app, round_id, mother, child)
    # The child's other parent applies, naming the child again: the same household.
    before = app.recorder.max_notification_id()
    with pytest.raises(AlreadyApplied):
        apply(app, round_id, person(), child)
    assert app.recorder.max_notification_id() == before  # nothing stored
    with pytest.raises(AlreadyApplied):
        apply(app, round_id, child)
    assert len(app.applications_in_round(round_id)) == 1


def test_one_account_applies_once_per_round_whatever_codes_it_types(
    app: VouchersApplication,
) -> None:
    """The fiscal codes are typed in: one account naming other people (a neighbour's codes)
    would otherwise collect a second entitlement, and lock that household out."""
    _, round_id = open_round(app)
    apply(app, round_id, person(), account="b-x")
    before = app.recorder.max_notification_id()
    with pytest.raises(AlreadyApplied, match="this account"):
        apply(app, round_id, person(), person(minor=True), account="b-x")
    assert app.recorder.max_notification_id() == before  # nothing stored
    neighbour = person()
    apply(app, round_id, neighbour, account="b-neighbour")  # their codes were not taken


def test_the_same_person_may_apply_in_another_round(app: VouchersApplication) -> None:
    fund, first = open_round(app)
    second = app.open_round(
        cmd.OpenRound(
            fund_id=str(fund),
            title="Secondo avviso",
            opens_at=NOW - timedelta(days=1),
            closes_at=NOW + timedelta(days=10),
            budget_cents=10_000,
            rules=cmd.EntitlementRulesInput(
                base_cents=10_000, per_extra_member_cents=0, per_minor_cents=0, cap_cents=10_000
            ),
        ),
        now=NOW,
    )
    mario = person()
    apply(app, first, mario)
    apply(app, second, mario)
    assert len(app.applications_in_round(second)) == 1


# --- approval ----------------------------------------------------------------------------------


def test_an_isee_above_the_threshold_is_not_eligible(app: VouchersApplication) -> None:
    _, round_id = open_round(app, isee_threshold_cents=1_000_000)
    application_id = apply(app, round_id, isee=1_000_001)
    with pytest.raises(NotEligible):
        app.approve_application(application_id, "social_worker")
    assert app.get_application(application_id).status == "submitted"


def test_an_application_is_approved_once_and_a_served_one_cannot_be_rejected(
    app: VouchersApplication,
) -> None:
    _, round_id = open_round(app)
    application_id, _ = served_household(app, round_id)
    with pytest.raises(InvalidTransition):
        app.approve_application(application_id, "social_worker")
    with pytest.raises(InvalidTransition):
        app.reject_application(
            application_id, cmd.RejectApplication(reason_code="late", reason="x"), "sw"
        )


def test_the_entitlement_grows_with_the_household_up_to_the_cap(app: VouchersApplication) -> None:
    _, round_id = open_round(app, budget=500_000, cap=30_000)
    single = apply(app, round_id, approve=True)
    family = apply(app, round_id, person(), person(), person(minor=True), approve=True)
    large = apply(app, round_id, *(person() for _ in range(6)), approve=True)
    entitled = [app.get_application(a).entitlement_cents for a in (single, family, large)]
    assert entitled == [15_000, 15_000 + 2 * 5_000 + 2_500, 30_000]


def test_a_round_of_one_euro_vouchers_entitles_a_large_household_without_crashing(
    app: VouchersApplication,
) -> None:
    # The recursive split hit Python's recursion limit around 900 vouchers.
    _, round_id = open_round(app, budget=500_000, base=150_000, cap=150_000, denominations=[100])
    application_id = apply(app, round_id, approve=True)
    approved = app.get_application(application_id)
    assert approved.voucher_values == [100] * 1_500


@pytest.mark.parametrize(
    ("rules", "refusal"),
    [
        ({"denominations": [1]}, "1 cents is not a whole number of euros"),
        ({"denominations": [10, 20, 25, 50]}, "1000 is 10 EUR"),  # euros typed as cents
        ({"denominations": [100_000]}, "from 1 to 500 EUR"),
        ({"base": 10**20, "cap": 10**20, "budget": 10**20}, "check cents vs euros"),
        ({"base": 4 * 10**9, "cap": 4 * 10**9, "budget": 5 * 10**9}, "vouchers per household"),
    ],
)
def test_a_round_with_mistyped_amounts_is_refused_and_nothing_is_stored(
    app: VouchersApplication, rules: dict[str, Any], refusal: str
) -> None:
    fund, _ = open_round(app)
    before = app.recorder.max_notification_id()
    base = rules.get("base", 15_000)
    command = cmd.OpenRound(
        fund_id=str(fund),
        title="Buoni spesa",
        opens_at=NOW,
        closes_at=NOW + timedelta(days=10),
        budget_cents=rules.get("budget", 60_000),
        rules=cmd.EntitlementRulesInput(
            base_cents=base,
            per_extra_member_cents=0,
            per_minor_cents=0,
            cap_cents=rules.get("cap", base),
        ),
        denominations_cents=rules.get("denominations"),
    )
    with pytest.raises(InvalidAmount, match=refusal):
        app.open_round(command, now=NOW)
    assert app.recorder.max_notification_id() == before


# --- ranking and waitlist ----------------------------------------------------------------------


def test_the_ranking_is_priority_then_lower_isee_then_earlier_submission(
    app: VouchersApplication,
) -> None:
    _, round_id = open_round(app, budget=500_000, other_support_policy="lower_priority")
    supported = apply(app, round_id, isee=0, other_support=True, approve=True)
    richer = apply(app, round_id, isee=900_000, approve=True)
    poorer_first = apply(app, round_id, isee=100_000, approve=True)
    poorer_later = apply(app, round_id, isee=100_000, approve=True)
    assert [a.id for a in app.ranking(round_id)] == [
        poorer_first,
        poorer_later,
        richer,
        supported,
    ]


def test_when_the_budget_runs_out_everyone_further_down_waits_in_rank_order(
    app: VouchersApplication,
) -> None:
    # 40 000 cents: the first household (15 000) is served, the next (30 000) does not fit in
    # the 25 000 left, and the last (15 000) would fit but must not jump the queue.
    _, round_id = open_round(app, budget=40_000)
    first = apply(app, round_id, isee=100_000, approve=True)
    big = apply(app, round_id, *(person() for _ in range(4)), isee=200_000, approve=True)
    small = apply(app, round_id, isee=300_000, approve=True)

    assert app.issue_vouchers(round_id, now=NOW) == {"served": 1, "waitlisted": 2}
    assert app.get_application(first).status == "served"
    waiting = [app.get_application(a) for a in (big, small)]
    assert [(a.status, a.rank) for a in waiting] == [("waitlisted", 1), ("waitlisted", 2)]
    assert app.get_round(round_id).available_cents == 25_000
    # Issuing again changes nothing while no money comes back.
    assert app.issue_vouchers(round_id, now=NOW) == {"served": 0, "waitlisted": 2}


def test_an_issue_racing_another_finds_the_served_household_done(
    app: VouchersApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two issues at once (an operator's and the clock job's): the one that comes second,
    with the ranking it read before, finds the household served and stores nothing."""
    _, round_id = open_round(app)
    served = apply(app, round_id, approve=True)
    ranking_read_before = app.ranking(round_id)
    app.issue_vouchers(round_id, now=NOW)
    monkeypatch.setattr(app, "ranking", lambda _: ranking_read_before)
    events_before = app.recorder.max_notification_id()

    assert app.issue_vouchers(round_id, now=NOW) == {"served": 1, "waitlisted": 0}
    assert app.recorder.max_notification_id() == events_before
    assert len(app.get_application(served).voucher_ids) > 0


def test_money_returned_on_expiry_serves_the_waitlist(app: VouchersApplication) -> None:
    _, round_id = open_round(app, budget=20_000, validity_days=7)
    affiliate(app, round_id)
    first, codes = served_household(app, round_id)
    second = apply(app, round_id, approve=True)
    assert app.issue_vouchers(round_id, now=NOW) == {"served": 0, "waitlisted": 1}

    redeem(app, codes[0], 1_000)
    assert app.get_round(round_id).available_cents == 5_000

    # A week later the first household's unspent 14 000 cents come back, and the waiting
    # household is served with them, without an operator.
    assert app.expire_vouchers(round_id, now=NOW + timedelta(days=7)) == 14_000
    assert app.get_application(second).status == "served"
    assert app.get_round(round_id).available_cents == 19_000 - 15_000
    assert all(app.voucher_by_code(c).status == "expired" for c in codes)
    assert app.get_application(first).status == "served"


def test_money_returned_on_revocation_serves_the_waitlist(app: VouchersApplication) -> None:
    _, round_id = open_round(app, budget=20_000)
    affiliate(app, round_id)
    cheat, codes = served_household(app, round_id)
    honest = apply(app, round_id, approve=True)
    app.issue_vouchers(round_id, now=NOW)
    redeem(app, codes[0], 2_000)

    returned = app.revoke_application(cheat, cmd.Revoke(reason_code="false_declaration"))
    assert returned == 13_000
    assert {app.voucher_by_code(c).status for c in codes} == {"revoked"}
    with pytest.raises(VoucherNotSpendable, match="revoked"):
        redeem(app, codes[1], 100)
    assert app.get_application(honest).status == "served"  # served with the money returned
    figures = app.fund_figures(app.get_round(round_id).fund_id)
    assert (figures.issued_cents, figures.redeemed_cents, figures.returned_cents) == (
        30_000,
        2_000,
        13_000,
    )


# --- spending ----------------------------------------------------------------------------------


@pytest.fixture
def voucher(app: VouchersApplication) -> tuple[UUID, str]:
    """A served household's 50-euro voucher, and a food shop (m-1) and a bakery (m-2)."""
    _, round_id = open_round(app, denominations=[5_000])
    affiliate(app, round_id, "m-1")
    affiliate(app, round_id, "m-2", "food")
    _, codes = served_household(app, round_id)
    return round_id, codes[0]


def test_a_voucher_is_spent_in_parts_and_gives_no_change(
    app: VouchersApplication, voucher: tuple[UUID, str]
) -> None:
    _, code = voucher
    redeem(app, code, 1_234)
    assert app.voucher_by_code(code).remaining_cents == 3_766
    with pytest.raises(InsufficientBalance, match="no change") as refused:
        redeem(app, code, 3_767)
    assert refused.value.fields == {"remaining_cents": 3_766, "requested_cents": 3_767}
    redeem(app, code, 3_766)
    assert app.voucher_by_code(code).remaining_cents == 0
    with pytest.raises(InsufficientBalance):
        redeem(app, code, 1)


def test_a_till_that_retries_with_the_same_request_id_spends_once(
    app: VouchersApplication, voucher: tuple[UUID, str]
) -> None:
    round_id, code = voucher
    first = redeem(app, code, 1_000, request_id="sale-42")
    again = redeem(app, code, 1_000, request_id="sale-42")
    assert first == again
    assert app.voucher_by_code(code).remaining_cents == 4_000
    assert app.merchant_figures(round_id, "m-1").redeemed_cents == 1_000


def test_a_request_id_reused_for_another_sale_is_refused_and_changes_nothing(
    app: VouchersApplication, voucher: tuple[UUID, str]
) -> None:
    round_id, code = voucher
    redeem(app, code, 100, request_id="till-1")
    with pytest.raises(RequestReused, match="already used for a sale of 100 cents"):
        redeem(app, code, 4_000, request_id="till-1")  # the till would print 40 EUR paid
    with pytest.raises(RequestReused):
        redeem(app, code, 100, goods="hygiene", request_id="till-1")
    assert app.voucher_by_code(code).remaining_cents == 4_900
    assert app.merchant_figures(round_id, "m-1").redeemed_cents == 100


def test_a_retried_sale_tells_what_is_left_now_even_after_a_void(
    app: VouchersApplication, voucher: tuple[UUID, str]
) -> None:
    """The till's receipt for a retry comes from the store: the group writer's warm copy of
    the voucher does not know of the void, which was saved outside it."""
    _, code = voucher
    sale = cmd.Redeem(code=code, amount_cents=1_000, goods_category="food", request_id="sale-7")
    first = asyncio.run(app.redeem_async("m-1", sale, now=NOW))
    assert first.remaining_cents == 4_000
    void(app, code, first.redemption_id, "m-1", NOW + timedelta(minutes=5))
    retried = asyncio.run(app.redeem_async("m-1", sale, now=NOW))
    assert retried.redemption_id == first.redemption_id  # the same sale, not spent again
    assert retried.remaining_cents == 5_000 == app.voucher_by_code(code).remaining_cents


def test_a_code_typed_in_lower_case_with_spaces_is_accepted(
    app: VouchersApplication, voucher: tuple[UUID, str]
) -> None:
    _, code = voucher
    typed = code.replace("-", " ").lower().replace("0", "o").replace("1", "i")
    redeem(app, typed, 500)
    assert app.voucher_by_code(code).remaining_cents == 4_500


def test_excluded_goods_and_shops_of_other_rounds_are_refused(
    app: VouchersApplication, voucher: tuple[UUID, str]
) -> None:
    _, code = voucher
    with pytest.raises(ExcludedGoods):
        redeem(app, code, 500, goods="alcohol")  # excluded by the round
    with pytest.raises(ExcludedGoods):
        redeem(app, code, 500, merchant_id="m-2", goods="hygiene")  # not the bakery's trade
    with pytest.raises(NotAffiliated):
        redeem(app, code, 500, merchant_id="m-9")
    assert app.voucher_by_code(code).remaining_cents == 5_000


def test_a_voucher_cannot_be_spent_once_it_has_expired(
    app: VouchersApplication, voucher: tuple[UUID, str]
) -> None:
    round_id, code = voucher
    expires_at = app.voucher_by_code(code).expires_at
    redeem(app, code, 100, at=expires_at - timedelta(seconds=1))
    with pytest.raises(VoucherNotSpendable, match="expired"):
        redeem(app, code, 100, at=expires_at)
    assert app.expire_vouchers(round_id, now=expires_at) == 4_900 + 2 * 5_000
    with pytest.raises(VoucherNotSpendable, match="expired"):
        redeem(app, code, 100, at=expires_at - timedelta(days=1))


def test_the_holder_and_their_delegate_may_spend_a_voucher(
    app: VouchersApplication, voucher: tuple[UUID, str]
) -> None:
    _, code = voucher
    v = app.voucher_by_code(code)
    assert v.may_be_spent_by(v.holder)
    assert not v.may_be_spent_by("b-neighbour")
    with pytest.raises(NotAffiliated):
        app.name_delegate(v.id, "b-someone-else", cmd.NameDelegate(delegate_id="x-1"))
    with pytest.raises(InvalidAmount):
        app.name_delegate(v.id, v.holder, cmd.NameDelegate(delegate_id=v.holder))
    app.name_delegate(v.id, v.holder, cmd.NameDelegate(delegate_id="b-neighbour"))
    v = app.voucher_by_code(code)
    assert v.may_be_spent_by("b-neighbour")
    assert v.may_be_spent_by(v.holder)
    assert [d.id for d in app.vouchers_delegated_to("b-neighbour")] == [v.id]


def test_may_be_spent_by_without_a_delegate_is_only_the_holder() -> None:
    v = Voucher.issue(
        UUID(int=1),
        round_id=UUID(int=2),
        application_id=UUID(int=3),
        household_id=UUID(int=4),
        holder="beneficiary:b-1",
        value_cents=1_000,
        expires_at=NOW,
    )
    assert v.may_be_spent_by("beneficiary:b-1")
    assert not v.may_be_spent_by("beneficiary:b-2")
    v.name_delegate("beneficiary:b-2")
    assert v.may_be_spent_by("beneficiary:b-2")


# --- voids -------------------------------------------------------------------------------------


def test_only_the_shop_that_made_a_sale_can_void_it(
    app: VouchersApplication, voucher: tuple[UUID, str]
) -> None:
    round_id, code = voucher
    sale = redeem(app, code, 2_000)
    with pytest.raises(VoidRefused):
        void(app, code, sale, "m-2", NOW)
    with pytest.raises(NotAffiliated):
        void(app, code, sale, "m-9", NOW)
    assert app.voucher_by_code(code).remaining_cents == 3_000
    void(app, code, sale, "m-1", NOW)
    assert app.voucher_by_code(code).remaining_cents == 5_000
    assert app.merchant_figures(round_id, "m-1").redeemed_cents == 0
    with pytest.raises(VoidRefused):
        void(app, code, sale, "m-1", NOW)  # not twice


def test_a_sale_can_be_voided_within_30_minutes_only(
    app: VouchersApplication, voucher: tuple[UUID, str]
) -> None:
    _, code = voucher
    late = redeem(app, code, 1_000)
    on_time = redeem(app, code, 1_000)
    with pytest.raises(VoidRefused, match="30 minutes"):
        void(app, code, late, "m-1", NOW + timedelta(minutes=30, seconds=1))
    void(app, code, on_time, "m-1", NOW + timedelta(minutes=30))
    assert app.voucher_by_code(code).remaining_cents == 4_000


def test_a_sale_in_a_reimbursement_claim_cannot_be_voided(
    app: VouchersApplication, voucher: tuple[UUID, str]
) -> None:
    round_id, code = voucher
    sale = redeem(app, code, 1_000)
    app.claim_reimbursement(
        round_id, "m-1", cmd.ClaimReimbursement(period_from=NOW.date(), period_to=NOW.date())
    )
    with pytest.raises(VoidRefused, match="claim"):
        void(app, code, sale, "m-1", NOW)


def test_a_voucher_can_be_spent_again_after_a_sale_is_voided(
    app: VouchersApplication, voucher: tuple[UUID, str]
) -> None:
    # The till's mistake: the whole voucher instead of 30 euros. The group-commit writer kept
    # the voucher as it saved it (nothing left) and refused the corrected sale on that stale
    # copy, although the void had given the value back.
    round_id, code = voucher
    wrong = redeem(app, code, 5_000)
    void(app, code, wrong, "m-1", NOW)
    redeem(app, code, 3_000)
    assert app.voucher_by_code(code).remaining_cents == 2_000
    assert app.merchant_figures(round_id, "m-1").redeemed_cents == 3_000


# --- reimbursement claims ----------------------------------------------------------------------


def test_a_claim_takes_only_unclaimed_and_not_voided_sales_of_its_period(
    app: VouchersApplication, voucher: tuple[UUID, str]
) -> None:
    round_id, code = voucher
    monday, tuesday = NOW, NOW + timedelta(days=1)
    redeem(app, code, 700, at=monday)
    voided = redeem(app, code, 900, at=tuesday)
    redeem(app, code, 300, at=tuesday)
    redeem(app, code, 50, merchant_id="m-2", at=tuesday)  # another shop's sale
    void(app, code, voided, "m-1", tuesday)

    _, amount = app.claim_reimbursement(
        round_id,
        "m-1",
        cmd.ClaimReimbursement(period_from=tuesday.date(), period_to=tuesday.date()),
    )
    assert amount == 300
    with pytest.raises(NothingToClaim):
        app.claim_reimbursement(
            round_id,
            "m-1",
            cmd.ClaimReimbursement(period_from=tuesday.date(), period_to=tuesday.date()),
        )
    _, amount = app.claim_reimbursement(
        round_id,
        "m-1",
        cmd.ClaimReimbursement(period_from=monday.date(), period_to=tuesday.date()),
    )
    assert amount == 700
    figures = app.merchant_figures(round_id, "m-1")
    assert (figures.redeemed_cents, figures.claimed_cents, figures.unclaimed_cents) == (
        1_000,
        1_000,
        0,
    )


def test_a_claim_whose_period_ends_before_it_starts_is_refused(
    app: VouchersApplication, voucher: tuple[UUID, str]
) -> None:
    round_id, code = voucher
    redeem(app, code, 700)
    reversed_period = {"period_from": NOW.date(), "period_to": NOW.date() - timedelta(days=1)}
    with pytest.raises(ValidationError, match=r"period_to .* is before period_from"):
        cmd.ClaimReimbursement(**reversed_period)
    # The domain refuses it too, as bad input (422), not as a refused transition (409).
    with pytest.raises(InvalidPeriod, match="ends before it starts") as refused:
        app.claim_reimbursement(
            round_id, "m-1", cmd.ClaimReimbursement.model_construct(**reversed_period)
        )
    assert status_of(refused.value) == 422
    assert app.merchant_account(round_id, "m-1").claims == {}


def a_claim_of_todays_sale(
    app: VouchersApplication, voucher: tuple[UUID, str], amount: int
) -> tuple[UUID, UUID]:
    """Shop m-1 sells ``amount`` today and claims it: the round and the claim."""
    round_id, code = voucher
    redeem(app, code, amount)
    claim_id, _ = app.claim_reimbursement(
        round_id, "m-1", cmd.ClaimReimbursement(period_from=NOW.date(), period_to=NOW.date())
    )
    return round_id, claim_id


def test_a_claim_is_approved_then_paid_never_the_other_way_round(
    app: VouchersApplication, voucher: tuple[UUID, str]
) -> None:
    round_id, claim_id = a_claim_of_todays_sale(app, voucher, 1_500)
    with pytest.raises(InvalidTransition, match="pay a claim that is claimed"):
        app.pay_claim(round_id, "m-1", claim_id, "CRO 1")
    app.approve_claim(round_id, "m-1", claim_id, date(2026, 4, 1), NOW)
    with pytest.raises(InvalidTransition, match="approve a claim that is approved"):
        app.approve_claim(round_id, "m-1", claim_id, date(2026, 4, 1), NOW)
    app.pay_claim(round_id, "m-1", claim_id, "CRO 1")
    with pytest.raises(InvalidTransition, match="pay a claim that is paid"):
        app.pay_claim(round_id, "m-1", claim_id, "CRO 2")
    with pytest.raises(InvalidTransition, match="no claim"):
        app.approve_claim(round_id, "m-2", claim_id, date(2026, 4, 1), NOW)

    figures = app.merchant_figures(round_id, "m-1")
    assert (figures.approved_cents, figures.reimbursed_cents) == (1_500, 1_500)
    claim = figures.claims[str(claim_id)]
    assert (claim["status"], claim["payment_reference"]) == ("paid", "CRO 1")
    assert app.fund_figures(app.get_round(round_id).fund_id).reimbursed_cents == 1_500


def test_days_are_the_municipalitys_calendar_days_not_utc_ones(
    app: VouchersApplication, voucher: tuple[UUID, str]
) -> None:
    """A sale at 00:30 in Biella on 3 March is 23:30 UTC on 2 March: the shop claims it on
    3 March."""
    round_id, code = voucher
    after_midnight_in_rome = datetime(2026, 3, 2, 23, 30, tzinfo=UTC)
    redeem(app, code, 700, at=after_midnight_in_rome)
    with pytest.raises(NothingToClaim):
        app.claim_reimbursement(
            round_id,
            "m-1",
            cmd.ClaimReimbursement(period_from=date(2026, 3, 2), period_to=date(2026, 3, 2)),
        )
    _, claimed = app.claim_reimbursement(
        round_id,
        "m-1",
        cmd.ClaimReimbursement(period_from=date(2026, 3, 3), period_to=date(2026, 3, 3)),
    )
    assert claimed == 700


def test_a_claim_is_not_promised_for_a_past_day_nor_paid_without_a_reference(
    app: VouchersApplication, voucher: tuple[UUID, str]
) -> None:
    round_id, claim_id = a_claim_of_todays_sale(app, voucher, 1_500)
    with pytest.raises(InvalidDate, match="1999-01-01 is before today"):
        app.approve_claim(round_id, "m-1", claim_id, date(1999, 1, 1), NOW)
    assert app.merchant_figures(round_id, "m-1").claims[str(claim_id)]["status"] == "claimed"
    app.approve_claim(round_id, "m-1", claim_id, NOW.date(), NOW)  # today is a fair promise
    with pytest.raises(ValidationError):
        cmd.PayClaim(payment_reference="   ")
    assert cmd.PayClaim(payment_reference=" CRO 7 ").payment_reference == "CRO 7"


# --- erasure -----------------------------------------------------------------------------------


def test_erasing_a_household_hides_its_personal_data_and_leaves_the_money_as_it_was(
    app: VouchersApplication, voucher: tuple[UUID, str]
) -> None:
    round_id, code = voucher
    redeem(app, code, 1_000)
    application = app.get_application(app.voucher_by_code(code).application_id)
    data = app.personal_data(application)
    assert data is not None
    assert data["address"] == "Via Italia 1, Biella"
    fund_id = app.get_round(round_id).fund_id
    before = app.fund_figures(fund_id)
    events_before = app.recorder.max_notification_id()

    assert app.erase_household(application.household_id) is True

    assert app.personal_data(application) is None
    assert app.codes_of(application) == []
    assert app.fund_figures(fund_id) == before
    assert app.recorder.max_notification_id() == events_before  # the ledger is untouched
    redeem(app, code, 500)  # the voucher itself still works at the till
    assert app.erase_household(application.household_id) is False  # already erased


def test_a_rejection_reason_is_never_stored_in_clear_and_goes_with_erasure(
    app: VouchersApplication,
) -> None:
    """The social worker's words may name people: they are sealed with the household's key."""
    _, round_id = open_round(app)
    application_id = apply(app, round_id)
    words = "Il signor Verdi dichiara un reddito non documentato"
    app.reject_application(
        application_id,
        cmd.RejectApplication(reason_code="undocumented_income", reason=words),
        "social_worker:anna",
    )
    rejected = app.get_application(application_id)
    assert app.rejection_reason(rejected) == words
    stored = app.recorder.select_notifications(start=1, limit=10_000)
    assert not any(b"Verdi" in n.state for n in stored)

    assert app.erase_household(rejected.household_id) is True
    assert app.rejection_reason(app.get_application(application_id)) is None
    assert app.get_application(application_id).status == "rejected"


def test_a_pending_household_cannot_be_erased(app: VouchersApplication) -> None:
    _, round_id = open_round(app)
    application_id = apply(app, round_id)
    household_id = app.get_application(application_id).household_id
    with pytest.raises(InvalidTransition):
        app.erase_household(household_id)
    app.reject_application(
        application_id, cmd.RejectApplication(reason_code="withdrawn", reason="Ritirata"), "sw"
    )
    assert app.erase_household(household_id) is True
    assert app.personal_data(app.get_application(application_id)) is None


# --- long streams ------------------------------------------------------------------------------


def test_a_shop_with_many_sales_reads_the_same_after_a_restart(tmp_path: Path) -> None:
    # Merchant accounts are snapshotted every 50 events: a fresh process reads them back.
    app = VouchersApplication(VouchersSettings(data_dir=tmp_path))
    _, round_id = open_round(app, denominations=[5_000])
    affiliate(app, round_id)
    _, codes = served_household(app, round_id)
    for i in range(60):
        redeem(app, codes[i % len(codes)], 10, request_id=f"sale-{i}")
    before = app.merchant_figures(round_id, "m-1")
    app.__dict__["_batcher"].close()
    app.close()
    app.vault.close()

    restarted = VouchersApplication(VouchersSettings(data_dir=tmp_path))
    try:
        assert restarted.merchant_figures(round_id, "m-1") == before
        assert before.redeemed_cents == 600
        _, amount = restarted.claim_reimbursement(
            round_id, "m-1", cmd.ClaimReimbursement(period_from=NOW.date(), period_to=NOW.date())
        )
        assert amount == 600
    finally:
        restarted.close()
        restarted.vault.close()


def test_the_clock_job_expires_every_rounds_vouchers_once(app: VouchersApplication) -> None:
    from vouchers.service import DEFINITION

    [job] = [j for j in DEFINITION.periodic if j.name == "expire_vouchers"]
    _, short = open_round(app, budget=20_000, validity_days=7)
    _, long = open_round(app, budget=20_000, validity_days=60)
    for round_id in (short, long):
        affiliate(app, round_id)
        served_household(app, round_id)
    later = NOW + timedelta(days=8)
    assert job.run(app, later) == 15_000  # only the 7-day round's voucher value
    assert job.run(app, later) == 0  # a second run (or a second instance) changes nothing
    assert app.get_round(short).available_cents == 20_000
    assert app.get_round(long).available_cents == 5_000
