"""An offering: a service a provider sells in the marketplace (home care by the hour, an
after-school month, a tele-assistance package), with its price history.

Lifecycle: draft → published → withdrawn. A price change never rewrites the past: the history
keeps every price with the moment it became valid, so a booking reads the price it saw
(:meth:`Offering.price_at`). Its booking terms (:mod:`catalog.domain.terms`) are set while it is
a draft and fixed once it is published.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, get_args

from benecomune_contracts.catalog import Title
from eventsourcing.domain import event
from servicekit.domain import Aggregate

from catalog.domain.errors import InvalidOffering, InvalidPrice, InvalidTransition
from catalog.domain.slot import MAX_DAYS_AHEAD
from catalog.domain.terms import DEFAULT_TERMS, BookingTerms
from catalog.domain.texts import Description, Reason, checked_text

WelfareCategory = Literal[
    "services_no_cap", "education_childcare", "elderly_care", "transport", "fringe_purchase"
]
"""The wallet's credit categories (TUIR art. 51) an offering can be paid from."""
DeliveryMode = Literal["at_provider", "at_home", "remote"]
PriceUnit = Literal["hour", "session", "month", "package"]
OfferingStatus = Literal["draft", "published", "withdrawn"]

CATEGORIES: tuple[str, ...] = get_args(WelfareCategory)
DELIVERY_MODES: tuple[str, ...] = get_args(DeliveryMode)
PRICE_UNITS: tuple[str, ...] = get_args(PriceUnit)
MAX_PRICE_CENTS = 10_000_000  # 100,000 EUR: a larger figure is a unit mistake (cents vs euros)
MAX_TITLE = 200
MAX_DESCRIPTION = 4000
PAST_TOLERANCE = timedelta(minutes=5)  # a price change "now" sent a little late is still now


@dataclass(frozen=True)
class Price:
    valid_from: datetime
    price_cents: int
    unit: str


def check_price(price_cents: int, unit: str) -> None:
    if not isinstance(price_cents, int) or isinstance(price_cents, bool):
        raise InvalidPrice("a price is integer euro cents")
    if price_cents < 0:
        raise InvalidPrice("a price cannot be negative")
    if price_cents > MAX_PRICE_CENTS:
        raise InvalidPrice(
            f"a price above {MAX_PRICE_CENTS} cents is refused: check cents vs euros"
        )
    if unit not in PRICE_UNITS:
        raise InvalidPrice(f"unit must be one of {', '.join(PRICE_UNITS)}, got {unit!r}")


def price_effective_from(requested: datetime | None, now: datetime) -> datetime:
    """When a price change takes effect: ``requested`` (default ``now``), in UTC, neither in
    the past nor more than two years ahead."""
    effective = (requested or now).astimezone(UTC)
    if effective < now - PAST_TOLERANCE:
        raise InvalidPrice("a price change cannot take effect in the past")
    latest = now + timedelta(days=MAX_DAYS_AHEAD)
    if effective > latest:
        raise InvalidPrice(
            f"a price change takes effect at most {MAX_DAYS_AHEAD} days ahead: "
            f"{effective.isoformat()} is too far",
            latest=latest.isoformat(timespec="seconds"),
        )
    return effective


def check_texts(
    title: dict[str, str], description: dict[str, str], description_required: bool = True
) -> None:
    """Titles as the contract's (one line, 1-200 characters), descriptions up to 4000
    characters on several lines; Italian required, English optional; nothing invisible."""
    for label, texts, kind, required in (
        ("title", title, Title, True),
        ("description", description, Description, description_required),
    ):
        if required and not texts.get("it", "").strip():
            raise InvalidOffering(f"the Italian {label} is required")
        unknown = set(texts) - {"it", "en"}
        if unknown:
            raise InvalidOffering(f"{label} languages are it and en, got {sorted(unknown)}")
        for language, text in texts.items():
            if text.strip():
                checked_text(kind, text, f"the {label} ({language})", InvalidOffering)


class Offering(Aggregate):
    class Drafted(Aggregate.Created):
        provider_id: str
        title: dict[str, str]
        description: dict[str, str]
        category: str
        delivery_mode: str
        price_cents: int
        unit: str
        municipalities: list[str]
        terms: dict[str, Any]  # v2: BookingTerms.as_dict()

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["terms"] = DEFAULT_TERMS.as_dict()

    # Events that leave the service carry what their contract needs (the relay maps one event
    # at a time, without the aggregate's state).
    class Published(Aggregate.Event):
        provider_id: str
        title_it: str
        title_en: str | None
        category: str
        delivery_mode: str
        price_cents: int
        unit: str
        municipalities: list[str]
        terms: dict[str, Any]  # v2, as Drafted's

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["terms"] = DEFAULT_TERMS.as_dict()

    class PriceChanged(Aggregate.Event):
        price_cents: int
        unit: str
        effective_from: datetime
        provider_id: str
        previous_price_cents: int

    class Withdrawn(Aggregate.Event):
        reason: str
        provider_id: str

    @event(Drafted)
    def __init__(
        self,
        provider_id: str,
        title: dict[str, str],
        description: dict[str, str],
        category: str,
        delivery_mode: str,
        price_cents: int,
        unit: str,
        municipalities: list[str],
        terms: dict[str, Any],
    ) -> None:
        self.provider_id = provider_id
        self.terms = BookingTerms.from_dict(terms)
        self.title = dict(title)
        self.description = dict(description)
        self.category = category
        self.delivery_mode = delivery_mode
        self.municipalities = list(municipalities)
        self.status: OfferingStatus = "draft"
        self.prices: list[Price] = [Price(self.created_on, price_cents, unit)]

    @classmethod
    def draft(
        cls,
        provider_id: str,
        title: dict[str, str],
        description: dict[str, str],
        category: str,
        delivery_mode: str,
        price_cents: int,
        unit: str,
        municipalities: list[str],
        terms: BookingTerms = DEFAULT_TERMS,
    ) -> Offering:
        """A new offering, not yet visible. Municipalities must already be checked against the
        territory and the provider's own (the application does both)."""
        check_texts(title, description)
        if category not in CATEGORIES:
            raise InvalidOffering(
                f"category must be one of the wallet's: {', '.join(CATEGORIES)}; got {category!r}"
            )
        if delivery_mode not in DELIVERY_MODES:
            raise InvalidOffering(
                f"delivery mode must be one of {', '.join(DELIVERY_MODES)}, got {delivery_mode!r}"
            )
        check_price(price_cents, unit)
        terms.check()
        if not municipalities:
            raise InvalidOffering("an offering is served in at least one municipality")
        return cls(
            provider_id=provider_id,
            title={k: v.strip() for k, v in title.items() if v.strip()},
            description={k: v.strip() for k, v in description.items() if v.strip()},
            category=category,
            delivery_mode=delivery_mode,
            price_cents=price_cents,
            unit=unit,
            municipalities=sorted(set(municipalities)),
            terms=terms.as_dict(),
        )

    @property
    def current_price(self) -> Price:
        return self.prices[-1]

    def price_at(self, moment: datetime) -> Price | None:
        """The price valid at ``moment``, or None before the offering existed."""
        valid = [p for p in self.prices if p.valid_from <= moment]
        return valid[-1] if valid else None

    def price_valid_at(self, moment: datetime) -> Price:
        """The price valid at ``moment`` (any time zone), or :class:`InvalidPrice` when the
        moment is out of range or before the offering existed."""
        try:
            at = moment.astimezone(UTC)
        except OverflowError:
            raise InvalidPrice(f"{moment.isoformat()} is out of range") from None
        price = self.price_at(at)
        if price is None:
            raise InvalidPrice(f"offering {self.id} had no price at {moment.isoformat()}")
        return price

    def publish(self, terms: BookingTerms | None = None) -> None:
        """Publish with the draft's terms, or with ``terms`` given now."""
        if terms is not None:
            terms.check()
        if self.status == "published":
            if terms is not None and terms != self.terms:
                raise InvalidTransition(
                    "a published offering's booking terms are fixed (bookings were made on "
                    "them): withdraw it and publish a new offering with the new terms"
                )
            return  # publishing twice changes nothing
        if self.status != "draft":
            raise InvalidTransition(f"a {self.status} offering cannot be published again")
        price = self.current_price
        self._publish(
            self.provider_id,
            self.title["it"],
            self.title.get("en"),
            self.category,
            self.delivery_mode,
            price.price_cents,
            price.unit,
            self.municipalities,
            (terms or self.terms).as_dict(),
        )

    def change_price(self, price_cents: int, unit: str, effective_from: datetime) -> None:
        if self.status == "withdrawn":
            raise InvalidTransition("the price of a withdrawn offering cannot change")
        check_price(price_cents, unit)
        if effective_from < self.current_price.valid_from:
            raise InvalidPrice(
                "a new price cannot take effect before the current one "
                f"({self.current_price.valid_from.isoformat()}): history is not rewritten"
            )
        current = self.current_price
        if (price_cents, unit) == (current.price_cents, current.unit):
            return
        self._change_price(price_cents, unit, effective_from, self.provider_id, current.price_cents)

    def withdraw(self, reason: str = "") -> None:
        if self.status == "withdrawn":
            return
        why = checked_text(Reason, reason, "the reason", InvalidOffering)
        self._withdraw(why, self.provider_id)

    def check_can_open_slots(self) -> None:
        if self.status == "withdrawn":
            raise InvalidTransition("a withdrawn offering cannot get new slots")

    @event(Published)
    def _publish(
        self,
        provider_id: str,
        title_it: str,
        title_en: str | None,
        category: str,
        delivery_mode: str,
        price_cents: int,
        unit: str,
        municipalities: list[str],
        terms: dict[str, Any],
    ) -> None:
        self.status = "published"
        self.terms = BookingTerms.from_dict(terms)

    @event(PriceChanged)
    def _change_price(
        self,
        price_cents: int,
        unit: str,
        effective_from: datetime,
        provider_id: str,
        previous_price_cents: int,
    ) -> None:
        self.prices.append(Price(effective_from, price_cents, unit))

    @event(Withdrawn)
    def _withdraw(self, reason: str, provider_id: str) -> None:
        self.status = "withdrawn"
