"""Public events of the catalog service, topic ``benecomune.catalog``.

The catalog owns the offer of a territory: providers and their accreditation, offerings with
their prices, time slots with capacity (held, confirmed and released for the booking saga),
multi-provider packages and the shops affiliated to the voucher programme.

**No personal data in contract events.** Providers and merchants are named by their catalog id;
legal names, personal fiscal codes (a sole trader's is a person's), contacts and the subjects
that hold a slot stay in the catalog. The one exception is a merchant's VAT number (partita IVA),
a public business registration the vouchers service needs to reimburse the shop.

**The booking saga.** The catalog consumes ``benecomune.booking``: a ``SlotHoldRequested``
is answered ``SlotHeld`` or ``SlotHoldRefused`` (with a reason code), a ``SlotConfirmRequested``
``SlotHoldConfirmed``, a ``SlotReleaseRequested`` ``SlotReleased``, once per request. Those
answers name the booking in ``holder`` (``booking:<booking id>``): a booking believes only the
answers whose holder is itself. Other callers' holds (the HTTP API's) carry no holder, and the
HTTP API refuses request ids starting with ``booking:``. An offering's booking terms (instant
or the provider's acceptance deadline, its cancellation policy) come with ``OfferingPublished``
and stay fixed while it is published.

**One definition of every field.** The constrained types below (a title, a certification, a
request id, a code...) are exported: the catalog's HTTP models and domain declare their fields
with them (or narrower), so nothing the catalog's API accepts can fail to map to its contract
event later, in the relay, where no one can correct it any more.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from benecomune_contracts.base import Cents, ContractEvent, Identifier, UtcDatetime
from benecomune_contracts.registry import contract
from benecomune_contracts.text import PlainText, ShortText
from benecomune_contracts.topics import CATALOG_TOPIC

__all__ = [
    "BookingHolder",
    "Certification",
    "Code",
    "DeliveryMode",
    "IstatCode",
    "MerchantAffiliated",
    "OfferingPriceChanged",
    "OfferingPublished",
    "OfferingTerms",
    "OfferingWithdrawn",
    "PackageComposed",
    "PackagePart",
    "Places",
    "PriceUnit",
    "ProviderAccredited",
    "ProviderKind",
    "ProviderReinstated",
    "ProviderSuspended",
    "RequestId",
    "SlotHeld",
    "SlotHoldConfirmed",
    "SlotHoldRefused",
    "SlotOpened",
    "SlotReleased",
    "Title",
    "WelfareCategory",
]

IstatCode = Annotated[
    str,
    StringConstraints(pattern=r"^[0-9]{6}$"),
    Field(description="ISTAT code of a municipality: six digits, e.g. 096004 for Biella."),
]
Code = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,39}$")]
ProviderKind = Literal["coop_a", "coop_b", "association", "company", "shop"]
WelfareCategory = Annotated[
    Code,
    Field(
        description=(
            "The wallet credit category the offering can be paid from (TUIR art. 51): "
            '"services_no_cap", "education_childcare", "elderly_care", "transport", '
            '"fringe_purchase".'
        )
    ),
]
DeliveryMode = Literal["at_provider", "at_home", "remote"]
PriceUnit = Literal["hour", "session", "month", "package"]
RequestId = Annotated[
    str,
    StringConstraints(min_length=1, max_length=128),
    Field(description="The caller's id for a hold: the same request id always means one hold."),
]
Title = PlainText
"""A title as people read it: one line, 1-200 characters, no control or bidi characters."""
Certification = ShortText
"""A quality certification's name (e.g. ``UNI/PdR 58:2019``): one line, 1-100 characters."""
Places = Annotated[int, Field(strict=True, gt=0, description="A number of places (people).")]
BookingHolder = Annotated[
    str,
    StringConstraints(pattern=r"^booking:[0-9a-f-]{36}$"),
    Field(
        description="booking:<booking id>: the booking the places are held for (the booking "
        "saga's own hold). Absent when another caller holds them: such answers are not a "
        "booking's."
    ),
]
MAX_ACCEPTANCE_HOURS = 72
MAX_FREE_UNTIL_HOURS = 24 * 30


# --- Providers ---------------------------------------------------------------------------------


@contract
class ProviderAccredited(ContractEvent):
    """The territory's operator accredited a provider: its published offerings can be booked."""

    type_name: ClassVar[str] = "benecomune.catalog.ProviderAccredited.v1"
    topic: ClassVar[str] = CATALOG_TOPIC.name

    provider_id: Identifier
    kind: ProviderKind
    municipalities: list[IstatCode]
    certifications: list[Certification]
    accredited_at: UtcDatetime


@contract
class ProviderSuspended(ContractEvent):
    """The operator suspended a provider: its offerings leave the search and cannot be held."""

    type_name: ClassVar[str] = "benecomune.catalog.ProviderSuspended.v1"
    topic: ClassVar[str] = CATALOG_TOPIC.name

    provider_id: Identifier
    reason_code: Code
    suspended_at: UtcDatetime


@contract
class ProviderReinstated(ContractEvent):
    """A suspended provider was reinstated: its published offerings are bookable again."""

    type_name: ClassVar[str] = "benecomune.catalog.ProviderReinstated.v1"
    topic: ClassVar[str] = CATALOG_TOPIC.name

    provider_id: Identifier
    reinstated_at: UtcDatetime


@contract
class MerchantAffiliated(ContractEvent):
    """A shop joined the territory's voucher programme, for the goods categories listed."""

    type_name: ClassVar[str] = "benecomune.catalog.MerchantAffiliated.v1"
    topic: ClassVar[str] = CATALOG_TOPIC.name

    merchant_id: Identifier
    vat_number: str | None = Field(
        default=None,
        pattern=r"^[0-9]{11}$",
        description="The shop's partita IVA (public business registration), if it has one.",
    )
    goods_categories: list[Code]
    municipalities: list[IstatCode]
    affiliated_at: UtcDatetime


# --- Offerings ---------------------------------------------------------------------------------


class OfferingTerms(BaseModel):
    """How an offering is booked: instantly (accepted when its slot is held) or on the
    provider's acceptance within ``acceptance_hours``, and its cancellation policy: free until
    ``free_until_hours`` before the slot, then ``fee_percent`` of the price; a no-show costs
    ``no_show_fee_percent``. A provider's cancellation is always free for the family."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    instant: bool
    acceptance_hours: int = Field(
        strict=True,
        ge=0,
        le=MAX_ACCEPTANCE_HOURS,
        description="Hours the provider has to accept a booking; 0 for an instant offering.",
    )
    free_until_hours: int = Field(strict=True, ge=0, le=MAX_FREE_UNTIL_HOURS)
    fee_percent: int = Field(strict=True, ge=0, le=100)
    no_show_fee_percent: int = Field(strict=True, ge=0, le=100)


@contract
class OfferingPublished(ContractEvent):
    """An offering entered the marketplace at the price given."""

    type_name: ClassVar[str] = "benecomune.catalog.OfferingPublished.v1"
    topic: ClassVar[str] = CATALOG_TOPIC.name

    offering_id: Identifier
    provider_id: Identifier
    title_it: Title
    title_en: Title | None = None
    category: WelfareCategory
    delivery_mode: DeliveryMode
    price_cents: Cents
    unit: PriceUnit
    municipalities: list[IstatCode]
    published_at: UtcDatetime
    terms: OfferingTerms | None = Field(
        default=None,
        description="How it is booked and cancelled; fixed while the offering is published. "
        "Absent in events published before terms existed: then not instant, 24 hours to "
        "accept, free cancellation until 48 hours before, then 50 %, a no-show 100 %.",
    )


@contract
class OfferingPriceChanged(ContractEvent):
    """An offering's price changes from ``effective_from``; bookings made before keep theirs."""

    type_name: ClassVar[str] = "benecomune.catalog.OfferingPriceChanged.v1"
    topic: ClassVar[str] = CATALOG_TOPIC.name

    offering_id: Identifier
    provider_id: Identifier
    previous_price_cents: Cents
    price_cents: Cents
    unit: PriceUnit
    effective_from: UtcDatetime
    changed_at: UtcDatetime


@contract
class OfferingWithdrawn(ContractEvent):
    """An offering left the marketplace for good."""

    type_name: ClassVar[str] = "benecomune.catalog.OfferingWithdrawn.v1"
    topic: ClassVar[str] = CATALOG_TOPIC.name

    offering_id: Identifier
    provider_id: Identifier
    withdrawn_at: UtcDatetime


# --- Slots -------------------------------------------------------------------------------------


@contract
class SlotOpened(ContractEvent):
    """A time slot of an offering, with the number of people it can take."""

    type_name: ClassVar[str] = "benecomune.catalog.SlotOpened.v1"
    topic: ClassVar[str] = CATALOG_TOPIC.name

    slot_id: Identifier
    offering_id: Identifier
    provider_id: Identifier
    starts_at: UtcDatetime
    ends_at: UtcDatetime
    capacity: Places
    opened_at: UtcDatetime


@contract
class SlotHeld(ContractEvent):
    """Places of a slot are held for a pending booking until ``expires_at``."""

    type_name: ClassVar[str] = "benecomune.catalog.SlotHeld.v1"
    topic: ClassVar[str] = CATALOG_TOPIC.name

    slot_id: Identifier
    offering_id: Identifier
    provider_id: Identifier
    request_id: RequestId
    quantity: Places
    expires_at: UtcDatetime
    held_at: UtcDatetime
    holder: BookingHolder | None = None


@contract
class SlotHoldRefused(ContractEvent):
    """A hold was refused; the same request id stays refused. ``reason``: not_enough_places;
    for a booking's hold also offering_withdrawn, not_bookable (a draft offering, a provider
    not accredited), slot_started, slot_mismatch (not the offering or provider the booking
    named), unknown_slot, hold_expired (its expiry passed before it was handled),
    released_first (its release arrived before it), request_mismatch."""

    type_name: ClassVar[str] = "benecomune.catalog.SlotHoldRefused.v1"
    topic: ClassVar[str] = CATALOG_TOPIC.name

    slot_id: Identifier
    request_id: RequestId
    quantity: Places
    reason: Code
    refused_at: UtcDatetime
    holder: BookingHolder | None = None


@contract
class SlotHoldConfirmed(ContractEvent):
    """A held booking was confirmed: its places are taken."""

    type_name: ClassVar[str] = "benecomune.catalog.SlotHoldConfirmed.v1"
    topic: ClassVar[str] = CATALOG_TOPIC.name

    slot_id: Identifier
    request_id: RequestId
    quantity: Places
    confirmed_at: UtcDatetime
    holder: BookingHolder | None = None


@contract
class SlotReleased(ContractEvent):
    """Places held or confirmed for a request were given back (quantity 0: the request was
    released before any hold arrived, and a late hold with its id will be refused; or, for a
    booking, its hold had been refused and nothing was held)."""

    type_name: ClassVar[str] = "benecomune.catalog.SlotReleased.v1"
    topic: ClassVar[str] = CATALOG_TOPIC.name

    slot_id: Identifier
    request_id: RequestId
    quantity: Annotated[int, Field(strict=True, ge=0)]
    released_at: UtcDatetime
    holder: BookingHolder | None = None


# --- Packages ----------------------------------------------------------------------------------


class PackagePart(BaseModel):
    """One offering of a package, in the order the booking saga books and delivers them."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    offering_id: Identifier
    provider_id: Identifier
    order: int = Field(ge=1, strict=True)
    offset_days: int = Field(ge=0, strict=True, description="Days after the package starts.")
    duration_days: int = Field(ge=1, strict=True)
    required: bool = Field(
        description="If a required part cannot be booked, the whole package is not booked."
    )


@contract
class PackageComposed(ContractEvent):
    """A bundle of offerings from several providers, e.g. a protected hospital discharge."""

    type_name: ClassVar[str] = "benecomune.catalog.PackageComposed.v1"
    topic: ClassVar[str] = CATALOG_TOPIC.name

    package_id: Identifier
    title_it: Title
    title_en: Title | None = None
    price_cents: Cents | None = Field(
        default=None, description="The package's own price; absent: the sum of its parts."
    )
    parts: list[PackagePart]
    composed_at: UtcDatetime
