"""An offering's booking terms: how the booking saga treats its bookings.

* **Instant** offerings are accepted as soon as their slot is held; the others wait for the
  provider's acceptance, within ``acceptance_hours`` (1-72, default 24).
* **Cancellation policy**: free until ``free_until_hours`` before the slot (default 48, at most
  30 days), then ``fee_percent`` of the price (default 50); a no-show costs
  ``no_show_fee_percent`` (default 100). A provider's cancellation is always free for the family.

The terms are set when the offering is drafted (or when it is published) and published with it
(``OfferingPublished.terms``); they stay fixed while it is published, so every booking of a
published offering has the terms the family saw. Other terms mean a new offering.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from benecomune_contracts.catalog import MAX_ACCEPTANCE_HOURS, MAX_FREE_UNTIL_HOURS

from catalog.domain.errors import InvalidOffering

DEFAULT_ACCEPTANCE_HOURS = 24


@dataclass(frozen=True)
class BookingTerms:
    instant: bool = False
    acceptance_hours: int = DEFAULT_ACCEPTANCE_HOURS
    free_until_hours: int = 48
    fee_percent: int = 50
    no_show_fee_percent: int = 100

    @classmethod
    def of(
        cls,
        instant: bool = False,
        acceptance_hours: int | None = None,
        free_until_hours: int = 48,
        fee_percent: int = 50,
        no_show_fee_percent: int = 100,
    ) -> BookingTerms:
        """Checked terms; without ``acceptance_hours``, 0 for an instant offering, else 24."""
        if acceptance_hours is None:
            acceptance_hours = 0 if instant else DEFAULT_ACCEPTANCE_HOURS
        return cls(instant, acceptance_hours, free_until_hours, fee_percent, no_show_fee_percent)

    def __post_init__(self) -> None:
        self.check()

    def check(self) -> None:
        for name, value in asdict(self).items():
            if name != "instant" and (not isinstance(value, int) or isinstance(value, bool)):
                raise InvalidOffering(f"{name} is a whole number")
        if self.instant and self.acceptance_hours:
            raise InvalidOffering(
                "an instant offering is accepted when its slot is held: it has no acceptance "
                f"deadline (acceptance_hours 0, not {self.acceptance_hours})"
            )
        if not self.instant and not 1 <= self.acceptance_hours <= MAX_ACCEPTANCE_HOURS:
            raise InvalidOffering(
                f"a provider accepts a booking within 1 to {MAX_ACCEPTANCE_HOURS} hours, "
                f"not {self.acceptance_hours}"
            )
        if not 0 <= self.free_until_hours <= MAX_FREE_UNTIL_HOURS:
            raise InvalidOffering(
                f"free cancellation ends 0 to {MAX_FREE_UNTIL_HOURS} hours before the slot, "
                f"not {self.free_until_hours}"
            )
        for name, percent in (
            ("fee_percent", self.fee_percent),
            ("no_show_fee_percent", self.no_show_fee_percent),
        ):
            if not 0 <= percent <= 100:
                raise InvalidOffering(f"{name} is 0 to 100 percent, not {percent}")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BookingTerms:
        return cls(**data)


DEFAULT_TERMS = BookingTerms()
