"""Service vouchers (buoni servizio), rule by rule on the aggregates alone (no store): a booking
holds part of a services round's voucher for an accredited provider, captures it on delivery
(a redemption credited to the provider, as at a till) or releases it; never more than is
available, never a food voucher, never at a shop's till; a voucher with a hold open keeps it
past its expiry."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from vouchers.domain import booking_holds
from vouchers.domain.errors import (
    CaptureOverHold,
    CategoryNotCovered,
    HoldClosed,
    InsufficientBalance,
    InvalidRules,
    MerchantSuspended,
    NotAServiceVoucher,
    NotTheHolder,
    NotTheProvider,
    ProviderNotAccredited,
    ServiceVoucherAtTill,
    VoucherHeld,
)
from vouchers.domain.merchant import MerchantAccount
from vouchers.domain.round import Round
from vouchers.domain.rules import EntitlementRules
from vouchers.domain.voucher import Voucher

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HOLDER = "b-anna"
PROVIDER = "p-coop-assistenza"
BOOKING = str(uuid.uuid4())


def services_round(categories: list[str] | None = None) -> Round:
    return Round.open(
        fund_id=uuid.uuid4(),
        municipality_istat="096004",
        title="Buoni servizio anziani",
        opens_at=NOW - timedelta(days=1),
        closes_at=NOW + timedelta(days=30),
        budget_cents=100_000,
        rules=EntitlementRules(
            base_cents=20_000, per_extra_member_cents=0, per_minor_cents=0, cap_cents=20_000
        ),
        denominations_cents=[10_000],
        validity_days=30,
        excluded_categories=[],
        now=NOW,
        service_categories=categories or ["elderly_care"],
    )


def voucher(round_: Round, value: int = 10_000, kind: str = "services") -> Voucher:
    return Voucher.issue(
        uuid.uuid4(),
        round_id=round_.id,
        application_id=uuid.uuid4(),
        household_id=uuid.uuid4(),
        holder=HOLDER,
        value_cents=value,
        expires_at=NOW + timedelta(days=30),
        kind=kind,
    )


def hold(
    v: Voucher,
    round_: Round,
    account: MerchantAccount | None,
    amount: int,
    *,
    request: str = "h1",
    **changes: Any,
) -> str:
    hold_id = booking_holds.hold_id_for(v.id, request)
    fields: dict[str, Any] = {
        "beneficiary_id": HOLDER,
        "hold_id": hold_id,
        "request_id": f"booking:{BOOKING}:{request}",
        "booking_id": BOOKING,
        "provider_id": PROVIDER,
        "category": "elderly_care",
        "amount_cents": amount,
        "expires_at": NOW + timedelta(days=60),
        "now": NOW,
    }
    booking_holds.hold(v, round_, account, **{**fields, **changes})
    return hold_id


def capture(v: Voucher, account: MerchantAccount, hold_id: str, amount: int) -> uuid.UUID:
    redemption_id = uuid.uuid4()
    booking_holds.capture(
        v,
        account,
        hold_id=hold_id,
        request_id="capture",
        redemption_id=redemption_id,
        provider_id=account.merchant_id,
        amount_cents=amount,
        now=NOW,
    )
    return redemption_id


@pytest.fixture
def round_() -> Round:
    return services_round()


@pytest.fixture
def account(round_: Round) -> MerchantAccount:
    return MerchantAccount.open_for_provider(round_.id, PROVIDER, ["elderly_care"])


def test_a_services_round_names_the_catalog_categories_it_covers() -> None:
    round_ = services_round(["elderly_care", "transport"])
    assert (round_.kind, round_.service_categories) == ("services", ("elderly_care", "transport"))
    assert round_.covers("transport") and not round_.covers("education_childcare")
    with pytest.raises(InvalidRules, match="unknown service categories: pizza"):
        services_round(["pizza"])


def test_a_hold_takes_part_of_the_balance_out_of_what_is_available_without_spending_it(
    round_: Round, account: MerchantAccount
) -> None:
    v = voucher(round_)
    hold(v, round_, account, 6_000)
    assert (v.remaining_cents, v.held_cents, v.available_cents) == (10_000, 6_000, 4_000)
    assert account.redeemed_cents == 0  # a hold is not a redemption


def test_a_capture_is_a_redemption_credited_to_the_provider_and_gives_back_the_rest(
    round_: Round, account: MerchantAccount
) -> None:
    v = voucher(round_)
    hold_id = hold(v, round_, account, 6_000)
    redemption_id = capture(v, account, hold_id, 4_500)
    assert (v.remaining_cents, v.held_cents, v.available_cents) == (5_500, 0, 5_500)
    assert account.redeemed_cents == 4_500
    assert v.redemptions[str(redemption_id)]["merchant_id"] == PROVIDER
    with pytest.raises(HoldClosed):  # one capture per hold
        capture(v, account, hold_id, 1_000)


def test_a_release_gives_the_whole_hold_back(round_: Round, account: MerchantAccount) -> None:
    v = voucher(round_)
    hold_id = hold(v, round_, account, 6_000)
    assert v.release(hold_id, "release") == 6_000
    assert (v.remaining_cents, v.held_cents) == (10_000, 0)
    with pytest.raises(HoldClosed):
        v.release(hold_id, "release-again")


def test_holds_over_the_available_balance_are_refused(
    round_: Round, account: MerchantAccount
) -> None:
    v = voucher(round_)
    hold(v, round_, account, 7_000, request="h1")
    with pytest.raises(InsufficientBalance) as refused:
        hold(v, round_, account, 3_001, request="h2")
    assert refused.value.fields["remaining_cents"] == 3_000
    hold(v, round_, account, 3_000, request="h3")  # exactly what is available
    assert v.available_cents == 0


def test_a_capture_takes_at_most_the_hold_and_only_for_its_provider(
    round_: Round, account: MerchantAccount
) -> None:
    v = voucher(round_)
    hold_id = hold(v, round_, account, 5_000)
    with pytest.raises(CaptureOverHold):
        capture(v, account, hold_id, 5_001)
    other = MerchantAccount.open_for_provider(round_.id, "p-other", ["elderly_care"])
    with pytest.raises(NotTheProvider):
        capture(v, other, hold_id, 1_000)
    assert (v.held_cents, account.redeemed_cents, other.redeemed_cents) == (5_000, 0, 0)


def test_a_food_voucher_cannot_be_held_by_a_booking(
    round_: Round, account: MerchantAccount
) -> None:
    food = voucher(round_, kind="food")
    with pytest.raises(NotAServiceVoucher):
        hold(food, round_, account, 1_000)


def test_a_service_voucher_is_refused_at_a_food_shops_till(round_: Round) -> None:
    v = voucher(round_)
    shop = MerchantAccount(
        round_id=round_.id,
        merchant_id="m-forno",
        vat_number="06363391001",
        goods_categories=["food"],
        excluded_categories=[],
    )
    with pytest.raises(ServiceVoucherAtTill):
        v.redeem(uuid.uuid4(), shop.merchant_id, 1_000, "food", NOW)
    assert v.remaining_cents == 10_000


def test_only_the_holders_booking_of_a_covered_category_at_an_active_accredited_provider_holds(
    round_: Round, account: MerchantAccount
) -> None:
    v = voucher(round_)
    with pytest.raises(NotTheHolder):
        hold(v, round_, account, 1_000, beneficiary_id="b-someone-else")
    with pytest.raises(CategoryNotCovered):
        hold(v, round_, account, 1_000, category="education_childcare")
    with pytest.raises(ProviderNotAccredited):
        hold(v, round_, None, 1_000)
    account.suspend("audit")
    with pytest.raises(MerchantSuspended):
        hold(v, round_, account, 1_000)
    assert v.held_cents == 0


def test_a_hold_keeps_its_value_past_the_vouchers_expiry_which_returns_the_rest_after_it_ends(
    round_: Round, account: MerchantAccount
) -> None:
    v = voucher(round_)
    hold_id = hold(v, round_, account, 4_000)
    after_expiry = v.expires_at + timedelta(hours=1)
    assert not v.due_to_expire(after_expiry)  # the hold keeps the voucher's value
    with pytest.raises(VoucherHeld):
        v.revoke("false_declaration")
    capture(v, account, hold_id, 4_000)  # delivered: captured after the expiry
    assert v.due_to_expire(after_expiry)
    assert v.expire(after_expiry) == 6_000  # the rest returns to the round


def test_a_hold_nobody_ends_lapses_at_its_deadline(round_: Round, account: MerchantAccount) -> None:
    v = voucher(round_)
    hold(v, round_, account, 4_000, expires_at=NOW + timedelta(days=2))
    assert v.lapse_holds(NOW + timedelta(days=1)) == 0
    assert v.lapse_holds(NOW + timedelta(days=2)) == 4_000
    assert (v.held_cents, v.remaining_cents) == (0, 10_000)
    assert v.collect_events()[-1].lapsed
