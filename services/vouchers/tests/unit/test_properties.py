"""Properties of the pure money, rules and code functions, checked on generated inputs."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st
from vouchers.domain.codes import (
    ALPHABET,
    CHECK_ALPHABET,
    CODE_LENGTH,
    InvalidVoucherCode,
    check_symbol,
    format_code,
    new_code,
    normalize_code,
    voucher_id_for,
)
from vouchers.domain.money import split_into_denominations
from vouchers.domain.rules import EntitlementRules

FAST = settings(max_examples=200, deadline=None)

denominations = st.lists(st.integers(100, 10_000), min_size=1, max_size=4).map(
    lambda ds: tuple(sorted(set(ds)))
)
amounts = st.integers(0, 300_000)


# --- split_into_denominations -------------------------------------------------------------------


@FAST
@given(amounts, denominations)
@example(90_000, (100,))  # 900 one-euro vouchers: found a RecursionError in the recursive split
@example(300_000, (100, 200))
def test_a_split_never_exceeds_the_amount_and_uses_only_the_given_denominations(
    amount: int, coins: tuple[int, ...]
) -> None:
    pieces = split_into_denominations(amount, coins)
    assert sum(pieces) <= amount
    assert set(pieces) <= set(coins)
    assert pieces == sorted(pieces, reverse=True)


@FAST
@given(st.integers(0, 300), denominations)
def test_a_multiple_of_the_smallest_denomination_is_split_exactly(
    times: int, coins: tuple[int, ...]
) -> None:
    amount = times * min(coins)
    assert sum(split_into_denominations(amount, coins)) == amount


@FAST
@given(st.integers(0, 3_000), st.sets(st.integers(1, 300), min_size=1, max_size=3))
def test_a_split_is_the_largest_representable_amount_with_the_fewest_pieces(
    amount: int, coin_set: set[int]
) -> None:
    coins = tuple(sorted(coin_set))
    # Brute force by dynamic programming: fewest pieces for every representable amount.
    fewest: dict[int, int] = {0: 0}
    for value in range(1, amount + 1):
        options = [fewest[value - c] + 1 for c in coins if value - c in fewest]
        if options:
            fewest[value] = min(options)
    best = max(fewest)
    pieces = split_into_denominations(amount, coins)
    assert sum(pieces) == best
    assert len(pieces) == fewest[best]


def test_the_documented_split_example() -> None:
    assert split_into_denominations(13_000, (1000, 2000, 2500, 5000)) == [5000, 5000, 2000, 1000]


# --- entitlement rules --------------------------------------------------------------------------


@st.composite
def entitlement_rules(draw: st.DrawFn) -> EntitlementRules:
    return EntitlementRules(
        base_cents=draw(st.integers(0, 50_000)),
        per_extra_member_cents=draw(st.integers(0, 20_000)),
        per_minor_cents=draw(st.integers(0, 20_000)),
        cap_cents=draw(st.integers(1, 100_000)),
        other_support_policy=draw(st.sampled_from(["none", "lower_priority", "reduced_amount"])),
        other_support_reduction_percent=draw(st.integers(0, 100)),
    )


@FAST
@given(
    entitlement_rules(),
    st.integers(1, 12),
    st.integers(0, 11),
    st.booleans(),
    denominations,
)
def test_an_entitlement_never_exceeds_the_cap_and_grows_with_members_and_minors(
    rules: EntitlementRules,
    members: int,
    minors: int,
    other_support: bool,
    coins: tuple[int, ...],
) -> None:
    minors = min(minors, members)

    def total(m: int, n: int) -> int:
        values = rules.entitlement(m, n, other_support, coins)
        assert set(values) <= set(coins)
        return sum(values)

    here = total(members, minors)
    assert here <= rules.cap_cents
    assert total(members + 1, minors) >= here
    assert total(members + 1, minors + 1) >= total(members + 1, minors)
    if other_support and rules.other_support_policy == "reduced_amount":
        assert here <= sum(rules.entitlement(members, minors, False, coins))


# --- voucher codes ------------------------------------------------------------------------------

bodies = st.text(alphabet=ALPHABET, min_size=CODE_LENGTH, max_size=CODE_LENGTH)


def code_of(body: str) -> str:
    return format_code(body + check_symbol(body))


# What people do when typing a code at a till: lower case, spaces or no dashes, O for 0, I/L for 1.
_LOOKALIKES = {"0": ["0", "O", "o"], "1": ["1", "I", "i", "L", "l"]}


@st.composite
def as_typed(draw: st.DrawFn, code: str) -> str:
    out = []
    for char in code:
        if char == "-":
            out.append(draw(st.sampled_from(["-", "", " ", " - "])))
            continue
        char = draw(st.sampled_from(_LOOKALIKES.get(char, [char])))
        out.append(char.lower() if draw(st.booleans()) else char)
    return draw(st.sampled_from(["", " "])) + "".join(out) + draw(st.sampled_from(["", "  "]))


@FAST
@given(st.data(), bodies)
def test_a_code_round_trips_through_what_people_type(data: st.DataObject, body: str) -> None:
    code = code_of(body)
    typed = data.draw(as_typed(code))
    assert normalize_code(typed) == code
    assert voucher_id_for(typed) == voucher_id_for(code)


def test_new_codes_are_well_formed_and_distinct() -> None:
    codes = [new_code() for _ in range(500)]
    assert len(set(codes)) == len(codes)
    assert all(normalize_code(c) == c for c in codes)


# Every character a typo can put in a code (after normalisation, so O/I/L are not typos of 0/1).
TYPABLE = sorted(set(ALPHABET + CHECK_ALPHABET))


@FAST
@given(bodies, st.integers(0, CODE_LENGTH), st.sampled_from(TYPABLE))
def test_any_single_character_typo_is_caught_by_the_check_character(
    body: str, position: int, typo: str
) -> None:
    raw = body + check_symbol(body)
    assume(raw[position] != typo)
    mistyped = raw[:position] + typo + raw[position + 1 :]
    with pytest.raises(InvalidVoucherCode):
        normalize_code(format_code(mistyped))


@FAST
@given(bodies, st.integers(0, CODE_LENGTH - 2))
def test_swapping_two_neighbouring_characters_is_caught(body: str, position: int) -> None:
    assume(body[position] != body[position + 1])
    swapped = body[:position] + body[position + 1] + body[position] + body[position + 2 :]
    with pytest.raises(InvalidVoucherCode):
        normalize_code(format_code(swapped + check_symbol(body)))


@FAST
@given(bodies, bodies)
def test_different_codes_give_different_voucher_ids(first: str, second: str) -> None:
    assume(first != second)
    assert voucher_id_for(code_of(first)) != voucher_id_for(code_of(second))


def test_the_check_alphabet_has_37_distinct_symbols() -> None:
    assert len(CHECK_ALPHABET) == 37 == len(Counter(CHECK_ALPHABET))
