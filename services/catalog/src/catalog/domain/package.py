"""A package: offerings of several providers bundled for one need, e.g. the "dimissioni protette"
after a hospital discharge (a nurse at home, meals delivered, remote tele-assistance for 30
days).

Each part says when it starts (days after the package starts), how long it lasts, its order for
the booking saga, and whether it is required: if a required part cannot be booked, the saga books
nothing; an optional part may fail alone. The package has its own price or costs the sum of its
parts.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from eventsourcing.domain import event
from servicekit.domain import Aggregate, DomainError

from catalog.domain.bookability import is_bookable
from catalog.domain.errors import InvalidPackage, InvalidTransition
from catalog.domain.offering import MAX_PRICE_CENTS, Offering, check_texts
from catalog.domain.provider import Provider

MAX_PARTS = 20
MAX_OFFSET_DAYS = 366


@dataclass(frozen=True)
class PackagePart:
    offering_id: UUID
    provider_id: str
    order: int
    offset_days: int
    duration_days: int
    required: bool

    def as_dict(self) -> dict[str, object]:
        return {
            "offering_id": str(self.offering_id),
            "provider_id": self.provider_id,
            "order": self.order,
            "offset_days": self.offset_days,
            "duration_days": self.duration_days,
            "required": self.required,
        }

    @classmethod
    def of(
        cls,
        offering: Offering,
        provider: Provider,
        order: int,
        offset_days: int,
        duration_days: int,
        required: bool,
    ) -> PackagePart:
        """A part for ``offering`` (of ``provider``): a package bundles only bookable
        offerings."""
        if not is_bookable(offering, provider):
            raise InvalidPackage(
                f"offering {offering.id} is {offering.status} and its provider "
                f"{provider.status}: a package bundles only bookable offerings"
            )
        return cls(offering.id, offering.provider_id, order, offset_days, duration_days, required)

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> PackagePart:
        return cls(
            offering_id=UUID(str(data["offering_id"])),
            provider_id=str(data["provider_id"]),
            order=int(str(data["order"])),
            offset_days=int(str(data["offset_days"])),
            duration_days=int(str(data["duration_days"])),
            required=bool(data["required"]),
        )


def check_parts(parts: list[PackagePart]) -> None:
    if len(parts) < 2:
        raise InvalidPackage("a package bundles at least two offerings")
    if len(parts) > MAX_PARTS:
        raise InvalidPackage(f"a package has at most {MAX_PARTS} parts")
    if len({p.offering_id for p in parts}) != len(parts):
        raise InvalidPackage("an offering appears twice in the package")
    if sorted(p.order for p in parts) != list(range(1, len(parts) + 1)):
        raise InvalidPackage("the parts' order must be 1, 2, 3… without gaps or repeats")
    if not any(p.required for p in parts):
        raise InvalidPackage("at least one part must be required")
    for part in parts:
        if not 0 <= part.offset_days <= MAX_OFFSET_DAYS:
            raise InvalidPackage(f"a part starts 0-{MAX_OFFSET_DAYS} days after the package")
        if not 1 <= part.duration_days <= MAX_OFFSET_DAYS:
            raise InvalidPackage(f"a part lasts 1-{MAX_OFFSET_DAYS} days")


class Package(Aggregate):
    class Composed(Aggregate.Created):
        title: dict[str, str]
        description: dict[str, str]
        price_cents: int | None
        parts: list[dict[str, object]]
        composed_by: str

    class Withdrawn(Aggregate.Event):
        pass

    @event(Composed)
    def __init__(
        self,
        title: dict[str, str],
        description: dict[str, str],
        price_cents: int | None,
        parts: list[dict[str, object]],
        composed_by: str,
    ) -> None:
        self.title = dict(title)
        self.description = dict(description)
        self.price_cents = price_cents
        self.parts = [PackagePart.from_dict(p) for p in parts]
        self.composed_by = composed_by
        self.status = "composed"

    @classmethod
    def compose(
        cls,
        title: dict[str, str],
        description: dict[str, str],
        price_cents: int | None,
        parts: list[PackagePart],
        composed_by: str,
    ) -> Package:
        """Parts made with :meth:`PackagePart.of` are published offerings of accredited
        providers."""
        try:
            check_texts(title, description, description_required=False)
        except DomainError as refused:
            raise InvalidPackage(str(refused)) from None
        if price_cents is not None and not 0 <= price_cents <= MAX_PRICE_CENTS:
            raise InvalidPackage(f"a package price is 0-{MAX_PRICE_CENTS} cents")
        check_parts(parts)
        ordered = sorted(parts, key=lambda p: p.order)
        return cls(
            title={k: v.strip() for k, v in title.items() if v.strip()},
            description={k: v.strip() for k, v in description.items() if v.strip()},
            price_cents=price_cents,
            parts=[p.as_dict() for p in ordered],
            composed_by=composed_by,
        )

    @property
    def provider_ids(self) -> list[str]:
        return sorted({p.provider_id for p in self.parts})

    def withdraw(self) -> None:
        if self.status == "withdrawn":
            return
        if self.status != "composed":
            raise InvalidTransition(f"a {self.status} package cannot be withdrawn")
        self._withdraw()

    @event(Withdrawn)
    def _withdraw(self) -> None:
        self.status = "withdrawn"
