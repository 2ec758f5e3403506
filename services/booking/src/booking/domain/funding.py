"""How a booking is paid, to the cent.

A booking's price (integer cents) is paid by up to three kinds of **source**: service
vouchers (``voucher:<voucher id>``, one or more), welfare credit (``wallet:<wallet id>``, one
wallet) and a **co-payment** by the family (``co_payment``, collected outside the platform and
recorded as due to the provider). A **split** maps each source to the cents it pays; it always
adds up to the price exactly.

Every later amount — a component's share, a capture, a cancellation or no-show fee, the part
an operator decides to capture after a dispute — is **apportioned** across the sources in
proportion to what each holds, by the largest-remainder rule: each source first gets the whole
cents of its exact quota, then the cents left over go one each to the sources with the largest
fractional remainders (ties: the canonical order, vouchers, then the wallet, then the
co-payment). So the shares always add up to the amount, none is negative, none exceeds what
its source holds (the weights), and each is within one cent of its exact proportion.

Apportioning against what each source still holds (its share less what was already taken)
makes repeated partial captures safe: no source is ever taken beyond its share, and once the
whole amount has been taken, in whatever pieces and order, every source has given exactly its
share.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from booking.domain.errors import InvalidAmount, InvalidSplit

SourceKind = Literal["voucher", "wallet", "co_payment"]
CO_PAYMENT = "co_payment"
MAX_VOUCHERS = 3
_KIND_RANK = {"voucher": 0, "wallet": 1, "co_payment": 2}


def source_key(kind: SourceKind, account_id: str | None = None) -> str:
    """``voucher:<id>``, ``wallet:<id>`` or ``co_payment``."""
    if kind == CO_PAYMENT:
        return CO_PAYMENT
    if not account_id:
        raise InvalidSplit(f"a {kind} source needs the id of its {kind}")
    return f"{kind}:{account_id}"


def kind_of(key: str) -> SourceKind:
    kind = key.partition(":")[0]
    if kind not in _KIND_RANK:
        raise InvalidSplit(f"unknown funding source {key!r}")
    return kind  # type: ignore[return-value]


def account_of(key: str) -> str | None:
    """The voucher or wallet id of a source (None for the co-payment)."""
    return key.partition(":")[2] or None


def canonical(split: Mapping[str, int]) -> dict[str, int]:
    """The split in canonical order: vouchers (in the order given), the wallet, the
    co-payment. Sorting is stable, so vouchers keep their order."""
    return dict(sorted(split.items(), key=lambda item: _KIND_RANK[kind_of(item[0])]))


@dataclass(frozen=True)
class Offer:
    """What a source can pay at most, for the default split."""

    key: str
    available_cents: int


def check_cents(value: int, label: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidAmount(f"{label} must be a whole number of cents, zero or more: {value!r}")


def validate_split(price_cents: int, split: Mapping[str, int]) -> dict[str, int]:
    """The split, checked and in canonical order: known sources, at most one wallet and
    :data:`MAX_VOUCHERS` vouchers, no negative amount, and the amounts add up to the price
    exactly. Sources paying nothing are dropped."""
    check_cents(price_cents, "the price")
    kinds = [kind_of(key) for key in split]
    if kinds.count("wallet") > 1:
        raise InvalidSplit("a booking is paid from one wallet at most")
    if kinds.count("voucher") > MAX_VOUCHERS:
        raise InvalidSplit(f"a booking uses at most {MAX_VOUCHERS} vouchers")
    for key, cents in split.items():
        if kind_of(key) != CO_PAYMENT and not account_of(key):
            raise InvalidSplit(f"the source {key!r} names no account")
        check_cents(cents, f"the amount of {key}")
    total = sum(split.values())
    if total != price_cents:
        raise InvalidSplit(
            f"the split adds up to {total} cents, the price is {price_cents} cents: "
            f"the sources must pay exactly the price",
            split_total_cents=total,
            price_cents=price_cents,
        )
    return canonical({key: cents for key, cents in split.items() if cents})


def default_split(price_cents: int, offers: Sequence[Offer]) -> dict[str, int]:
    """Vouchers first (each up to what it has available, in the order given), then welfare
    credit (up to what the wallet has available), then the co-payment for the rest."""
    check_cents(price_cents, "the price")
    left = price_cents
    split: dict[str, int] = {}
    for offer in sorted(offers, key=lambda o: _KIND_RANK[kind_of(o.key)]):
        if kind_of(offer.key) == CO_PAYMENT:
            continue
        check_cents(offer.available_cents, f"what {offer.key} has available")
        cents = min(left, offer.available_cents)
        if cents:
            split[offer.key] = split.get(offer.key, 0) + cents
            left -= cents
    if left:
        split[CO_PAYMENT] = left
    return validate_split(price_cents, split)


def apportion(amount_cents: int, weights: Mapping[str, int]) -> dict[str, int]:
    """``amount_cents`` shared across the keys of ``weights`` in proportion to them, by the
    largest-remainder rule (ties: the order of ``weights``). The shares add up to the amount
    and none exceeds its weight; the amount may not exceed the weights' total."""
    check_cents(amount_cents, "the amount")
    for key, weight in weights.items():
        check_cents(weight, f"the weight of {key}")
    total = sum(weights.values())
    if amount_cents > total:
        raise InvalidAmount(
            f"{amount_cents} cents cannot be taken from sources holding {total} cents",
            amount_cents=amount_cents,
            available_cents=total,
        )
    if total == 0:
        return dict.fromkeys(weights, 0)
    shares = {key: amount_cents * weight // total for key, weight in weights.items()}
    left = amount_cents - sum(shares.values())
    order = list(weights)
    by_remainder = sorted(
        order, key=lambda key: (-(amount_cents * weights[key] % total), order.index(key))
    )
    for key in by_remainder[:left]:
        shares[key] += 1
    return shares


def split_by_component(split: Mapping[str, int], prices: Sequence[int]) -> list[dict[str, int]]:
    """Each component's share of every source: component after component, its price
    apportioned against what the sources have left, so the shares of every component add up
    to its price and the shares of every source add up to what it pays."""
    if sum(prices) != sum(split.values()):
        raise InvalidSplit("the split does not add up to the sum of the components' prices")
    left = dict(split)
    shares = []
    for price in prices:
        share = apportion(price, left)
        for key, cents in share.items():
            left[key] -= cents
        shares.append(share)
    return shares


def percent_of(amount_cents: int, percent: int) -> int:
    """``percent`` % of an amount, to the cent (half a cent rounds up)."""
    check_cents(amount_cents, "the amount")
    if not 0 <= percent <= 100:
        raise InvalidAmount(f"a percentage is from 0 to 100, not {percent}")
    return (amount_cents * percent * 2 + 100) // 200
