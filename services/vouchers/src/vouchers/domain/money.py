"""Money rules shared by the vouchers aggregates. Amounts are integer euro cents."""

from __future__ import annotations

from functools import cache

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


def split_into_denominations(amount_cents: int, denominations: tuple[int, ...]) -> list[int]:
    """The fewest vouchers of the given denominations worth exactly the largest representable
    amount not above ``amount_cents`` (largest first). E.g. 13000 with (1000, 2000, 2500, 5000)
    gives [5000, 5000, 2000, 1000]."""
    for target in range(amount_cents, -1, -1):
        pieces = _fewest(target, tuple(sorted(set(denominations))))
        if pieces is not None:
            return sorted(pieces, reverse=True)
    return []


@cache
def _fewest(amount: int, denominations: tuple[int, ...]) -> tuple[int, ...] | None:
    # Coin change by dynamic programming over multiples of the denominations' gcd; amounts
    # are small (hundreds of euros), so this is cheap and cached.
    if amount == 0:
        return ()
    best: tuple[int, ...] | None = None
    for coin in reversed(denominations):
        if coin <= amount:
            rest = _fewest(amount - coin, denominations)
            if rest is not None and (best is None or len(rest) + 1 < len(best)):
                best = (coin, *rest)
    return best
