"""Money rules shared by the vouchers aggregates. Amounts are integer euro cents."""

from __future__ import annotations

from collections.abc import Iterable
from math import gcd

from vouchers.domain.errors import InvalidAmount

# A single amount above this is almost certainly a typo in cents vs euros (the whole 2020
# national measure was 400 M EUR); refuse it rather than put it in the ledger.
MAX_SINGLE_AMOUNT_CENTS = 40_000_000_000


def check_amount(amount_cents: int, *, allow_zero: bool = False) -> None:
    if isinstance(amount_cents, bool) or not isinstance(amount_cents, int):
        raise InvalidAmount("amounts are integer euro cents")
    if amount_cents < 0 or (amount_cents == 0 and not allow_zero):
        raise InvalidAmount(f"an amount must be positive, got {amount_cents} cents")
    if amount_cents > MAX_SINGLE_AMOUNT_CENTS:
        raise InvalidAmount(
            f"{amount_cents} cents exceeds the largest single amount "
            f"({MAX_SINGLE_AMOUNT_CENTS} cents): check cents vs euros"
        )


# Vouchers are printed in whole euros, from 1 to 500 EUR (2020's were 5-50 EUR): a denomination
# of 1 or 25 cents is a typo for euros, and would split an entitlement into thousands of pieces.
DENOMINATION_RANGE_CENTS = (100, 50_000)
# More vouchers than this for one household means the cap or the denominations are mistyped
# (and each voucher is a stream of its own: a million of them would stall the service).
MAX_VOUCHERS_PER_HOUSEHOLD = 2_000


def check_denominations(denominations_cents: Iterable[int]) -> None:
    values = list(denominations_cents)
    if not values:
        raise InvalidAmount("a round needs at least one voucher denomination")
    low, high = DENOMINATION_RANGE_CENTS
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidAmount("denominations are integer euro cents")
        if value % 100 or not low <= value <= high:
            raise InvalidAmount(
                f"a denomination of {value} cents is not a whole number of euros from "
                f"{low // 100} to {high // 100} EUR (denominations are in cents: 1000 is 10 EUR)"
            )


def split_into_denominations(amount_cents: int, denominations: Iterable[int]) -> list[int]:
    """The fewest vouchers of the given denominations worth exactly the largest representable
    amount not above ``amount_cents`` (largest first). E.g. 13000 with (1000, 2000, 2500, 5000)
    gives [5000, 5000, 2000, 1000]."""
    coins = sorted({d for d in denominations if d > 0})
    if not coins or amount_cents <= 0:
        return []
    # Coin change by dynamic programming, in units of the denominations' gcd (cents are
    # never needed in between): entitlements are hundreds of euros, so this is cheap.
    unit = gcd(*coins)
    units = amount_cents // unit
    steps = [c // unit for c in coins]
    fewest: list[int | None] = [0] + [None] * units
    last_coin = [0] * (units + 1)
    for value in range(1, units + 1):
        for step in steps:
            if step > value:
                break
            before = fewest[value - step]
            if before is not None and (fewest[value] is None or before + 1 < fewest[value]):  # type: ignore[operator]
                fewest[value] = before + 1
                last_coin[value] = step
    value = next(v for v in range(units, -1, -1) if fewest[v] is not None)
    pieces: list[int] = []
    while value:
        pieces.append(last_coin[value] * unit)
        value -= last_coin[value]
    return sorted(pieces, reverse=True)
