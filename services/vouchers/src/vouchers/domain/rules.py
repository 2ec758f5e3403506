"""A round's eligibility and entitlement rules, as data: the municipality writes them when it
opens a round, they travel in the RoundOpened event, and approval applies them.

Entitlement = base + per extra member + per minor, capped; reduced for households that already
receive other public support when the round says so; rounded down to what the round's
denominations can make.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from vouchers.domain.errors import NotEligible
from vouchers.domain.money import split_into_denominations

OtherSupportPolicy = Literal["none", "lower_priority", "reduced_amount"]


@dataclass(frozen=True)
class EntitlementRules:
    base_cents: int
    per_extra_member_cents: int
    per_minor_cents: int
    cap_cents: int
    isee_threshold_cents: int | None = None
    other_support_policy: OtherSupportPolicy = "lower_priority"
    other_support_reduction_percent: int = 0

    def __post_init__(self) -> None:
        amounts = (self.base_cents, self.per_extra_member_cents, self.per_minor_cents)
        if any(not isinstance(a, int) or a < 0 for a in amounts) or self.cap_cents <= 0:
            raise ValueError("entitlement amounts are non-negative integer cents, cap positive")
        if not 0 <= self.other_support_reduction_percent <= 100:
            raise ValueError("other_support_reduction_percent must be between 0 and 100")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EntitlementRules:
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def check_eligible(self, isee_cents: int) -> None:
        if self.isee_threshold_cents is not None and isee_cents > self.isee_threshold_cents:
            raise NotEligible(
                f"ISEE {isee_cents / 100:.2f} EUR is above the round's threshold of "
                f"{self.isee_threshold_cents / 100:.2f} EUR"
            )

    def priority(self, other_support: bool) -> int:
        """1 is served first; households with other support come after when the round says so."""
        return 2 if other_support and self.other_support_policy == "lower_priority" else 1

    def entitlement(
        self, members: int, minors: int, other_support: bool, denominations: tuple[int, ...]
    ) -> list[int]:
        """The vouchers (their values in cents) a household is entitled to."""
        amount = (
            self.base_cents
            + self.per_extra_member_cents * max(0, members - 1)
            + self.per_minor_cents * minors
        )
        amount = min(amount, self.cap_cents)
        if other_support and self.other_support_policy == "reduced_amount":
            amount = amount * (100 - self.other_support_reduction_percent) // 100
        return split_into_denominations(amount, denominations)
