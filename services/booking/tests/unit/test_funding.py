"""The funding split and its apportionment, to the cent: examples, then properties."""

from __future__ import annotations

import pytest
from booking.domain.errors import InvalidAmount, InvalidSplit
from booking.domain.funding import (
    CO_PAYMENT,
    Offer,
    apportion,
    default_split,
    percent_of,
    split_by_component,
    validate_split,
)
from hypothesis import given
from hypothesis import strategies as st

VOUCHER = "voucher:v-1"
WALLET = "wallet:w-1"


def test_a_split_that_pays_the_price_exactly_is_kept_in_canonical_order() -> None:
    split = validate_split(10_000, {CO_PAYMENT: 1_000, WALLET: 4_000, VOUCHER: 5_000})
    assert list(split.items()) == [(VOUCHER, 5_000), (WALLET, 4_000), (CO_PAYMENT, 1_000)]


def test_a_split_that_does_not_add_up_to_the_price_is_refused_with_both_figures() -> None:
    with pytest.raises(InvalidSplit) as refused:
        validate_split(10_000, {WALLET: 4_000, CO_PAYMENT: 5_999})
    assert refused.value.fields == {"split_total_cents": 9_999, "price_cents": 10_000}


def test_a_negative_amount_or_a_second_wallet_is_refused() -> None:
    with pytest.raises(InvalidAmount):
        validate_split(100, {WALLET: 200, CO_PAYMENT: -100})
    with pytest.raises(InvalidSplit):
        validate_split(100, {WALLET: 50, "wallet:w-2": 50})
    with pytest.raises(InvalidSplit):
        validate_split(100, {"cash:x": 100})


def test_the_default_split_fills_vouchers_then_credit_then_the_co_payment() -> None:
    offers = [Offer(WALLET, 3_000), Offer(VOUCHER, 5_000)]
    assert default_split(10_000, offers) == {VOUCHER: 5_000, WALLET: 3_000, CO_PAYMENT: 2_000}
    assert default_split(4_000, offers) == {VOUCHER: 4_000}
    assert default_split(7_000, offers) == {VOUCHER: 5_000, WALLET: 2_000}
    assert default_split(500, []) == {CO_PAYMENT: 500}


def test_a_fee_is_shared_by_the_largest_remainder_and_ties_go_in_canonical_order() -> None:
    # 100 cents over 1:1:1: 33 each, the cent left over to the first of the tie.
    assert apportion(100, {VOUCHER: 1_000, WALLET: 1_000, CO_PAYMENT: 1_000}) == {
        VOUCHER: 34,
        WALLET: 33,
        CO_PAYMENT: 33,
    }
    # 10 over 5000:3000:2000 → 5, 3, 2 exactly
    assert apportion(10, {VOUCHER: 5_000, WALLET: 3_000, CO_PAYMENT: 2_000}) == {
        VOUCHER: 5,
        WALLET: 3,
        CO_PAYMENT: 2,
    }


def test_more_than_the_sources_hold_cannot_be_apportioned() -> None:
    with pytest.raises(InvalidAmount):
        apportion(101, {WALLET: 60, CO_PAYMENT: 40})


def test_a_package_is_split_per_component_and_every_source_pays_exactly_its_part() -> None:
    split = {VOUCHER: 3_333, WALLET: 3_333, CO_PAYMENT: 3_334}
    shares = split_by_component(split, [2_500, 2_500, 5_000])
    assert [sum(s.values()) for s in shares] == [2_500, 2_500, 5_000]
    for key, cents in split.items():
        assert sum(s[key] for s in shares) == cents


def test_a_percentage_rounds_half_a_cent_up() -> None:
    assert percent_of(1_001, 50) == 501
    assert percent_of(1_000, 0) == 0
    assert percent_of(999, 100) == 999


# --- properties ---------------------------------------------------------------------------------


def _sources(amounts: list[int]) -> dict[str, int]:
    """Vouchers, then a wallet, then the co-payment: as many as amounts."""
    keys = [f"voucher:v{i}" for i in range(len(amounts) - 2)] + [WALLET, CO_PAYMENT]
    return dict(zip(keys[-len(amounts) :], amounts, strict=True))


weights_st = st.lists(st.integers(0, 2_000_000), min_size=1, max_size=5).map(_sources)


@st.composite
def weights_and_amount(draw: st.DrawFn) -> tuple[dict[str, int], int]:
    weights = draw(weights_st)
    return weights, draw(st.integers(0, sum(weights.values())))


@given(weights_and_amount())
def test_shares_add_up_are_never_negative_and_never_over_a_source(
    case: tuple[dict[str, int], int],
) -> None:
    weights, amount = case
    shares = apportion(amount, weights)
    assert sum(shares.values()) == amount
    assert all(0 <= shares[k] <= weights[k] for k in weights)


@given(weights_and_amount())
def test_every_share_is_within_one_cent_of_its_exact_proportion(
    case: tuple[dict[str, int], int],
) -> None:
    weights, amount = case
    total = sum(weights.values())
    shares = apportion(amount, weights)
    for key, weight in weights.items():
        # |share - amount * weight / total| < 1, in integers
        assert abs(shares[key] * total - amount * weight) < max(total, 1)


@st.composite
def split_and_pieces(draw: st.DrawFn) -> tuple[dict[str, int], list[int]]:
    weights = draw(weights_st)
    total = sum(weights.values())
    cuts = sorted(draw(st.lists(st.integers(0, total), max_size=6)))
    pieces = [b - a for a, b in zip([0, *cuts], [*cuts, total], strict=True)]
    return weights, draw(st.permutations(pieces))


@given(split_and_pieces())
def test_repeated_partial_captures_never_over_capture_and_end_at_the_split_in_any_order(
    case: tuple[dict[str, int], list[int]],
) -> None:
    split, pieces = case
    left = dict(split)
    taken = dict.fromkeys(split, 0)
    for piece in pieces:
        share = apportion(piece, left)
        assert sum(share.values()) == piece
        for key, cents in share.items():
            assert 0 <= cents <= left[key]
            left[key] -= cents
            taken[key] += cents
    # whatever the pieces and their order, the whole amount taken is exactly the split
    assert taken == split


@given(
    st.lists(st.integers(0, 500_000), min_size=1, max_size=4),
    st.integers(0, 300_000),
    st.integers(0, 300_000),
)
def test_a_default_split_by_component_adds_up_both_ways(
    prices: list[int], voucher: int, credit: int
) -> None:
    split = default_split(sum(prices), [Offer(VOUCHER, voucher), Offer(WALLET, credit)])
    assert split.get(VOUCHER, 0) == min(voucher, sum(prices))
    shares = split_by_component(split, prices)
    assert [sum(s.values()) for s in shares] == prices
    for key, cents in split.items():
        assert sum(s[key] for s in shares) == cents
