"""Commands the catalog service accepts, validated at the edge (pydantic) before the domain checks
its own invariants. Money is integer cents; times are timezone-aware.

Every field that reaches a contract event is declared with the contract's own type
(:mod:`benecomune_contracts.catalog`), or a narrower one built on it: what the API accepts, the
relay can always publish. Text people type is plain text (:mod:`benecomune_contracts.text`):
control characters, NUL and bidirectional overrides are refused with a 422 naming them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Annotated

from benecomune_contracts import catalog as contract
from benecomune_contracts.base import Cents, Identifier
from benecomune_contracts.dates import IsoDate, IsoMoment
from benecomune_contracts.text import SINGLE_LINE, PlainText
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from catalog.domain.offering import MAX_PRICE_CENTS, DeliveryMode, PriceUnit, WelfareCategory
from catalog.domain.provider import ProviderKind
from catalog.domain.slot import BOOKING_HOLDER
from catalog.domain.terms import BookingTerms
from catalog.domain.texts import Description, Reason

Code = contract.Code
Istat = contract.IstatCode
ProviderId = Annotated[Identifier, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{1,63}$")]
REQUEST_ID_PATTERN = r"^[A-Za-z0-9._:@/-]+$"


def _not_a_bookings(request_id: str) -> str:
    if request_id.startswith(BOOKING_HOLDER):
        raise ValueError(
            f"request ids starting with '{BOOKING_HOLDER}' are the booking saga's own (its "
            "holds come by event, on the booking topic): use another request id"
        )
    return request_id


RequestId = Annotated[
    contract.RequestId,
    StringConstraints(pattern=REQUEST_ID_PATTERN),
    AfterValidator(_not_a_bookings),
]
Title = contract.Title
Certification = contract.Certification
Text = PlainText
LongText = Description
Price = Annotated[Cents, Field(le=MAX_PRICE_CENTS, description="Integer euro cents")]
Places = Annotated[contract.Places, Field(le=1000)]
Municipalities = Annotated[list[Istat], Field(max_length=500)]
EARLIEST_YEAR, LATEST_YEAR = 2000, 2100


def _in_utc(value: datetime) -> datetime:
    """The moment in UTC, if it is between the years 2000 and 2100 (a typing mistake otherwise:
    2019 for 2029, 9999 for "never"); the domain checks the rules that depend on now."""
    try:
        moment = value.astimezone(UTC)
    except OverflowError:
        raise ValueError("the date is out of range") from None
    if not EARLIEST_YEAR <= moment.year <= LATEST_YEAR:
        raise ValueError(f"a date between {EARLIEST_YEAR} and {LATEST_YEAR} is expected")
    return moment


Moment = Annotated[IsoMoment, AfterValidator(_in_utc)]
"""A timezone-aware moment, given in any offset, kept in UTC."""


class Command(BaseModel):
    model_config = ConfigDict(extra="forbid")


def bilingual(italian: str, english: str | None) -> dict[str, str]:
    """A text by language: Italian always, English when given."""
    return {"it": italian, **({"en": english} if english else {})}


Email = Annotated[str, StringConstraints(strip_whitespace=True, max_length=254), SINGLE_LINE]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, max_length=40), SINGLE_LINE]
Website = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200), SINGLE_LINE]
Street = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200), SINGLE_LINE]


class AddressInput(Command):
    """The seat (sede) of a provider."""

    street: Street = Field(description="Street and number, e.g. Via Italia 12")
    municipality_istat: Istat = Field(description="ISTAT code of a municipality of the territory")
    postcode: Annotated[str, StringConstraints(max_length=10), SINGLE_LINE] = Field(
        description="CAP, 5 digits, e.g. 13900"
    )


class ContactPersonInput(Command):
    """Personal data: shown only to the territory's operator and the provider itself."""

    name: Annotated[str, StringConstraints(max_length=120), SINGLE_LINE] = Field(
        description="e.g. Maria Rossi"
    )
    role: Annotated[str, StringConstraints(max_length=80), SINGLE_LINE] | None = Field(
        default=None, description="e.g. coordinatrice dei servizi"
    )
    phone: Phone | None = Field(default=None, description="Italian number, e.g. 333 123 4567")
    email: Email | None = None


class RegisterProvider(Command):
    provider_id: ProviderId = Field(description="The provider's own short id, e.g. coop-la-rete")
    legal_name: Text
    kind: ProviderKind
    vat_number: Annotated[str, StringConstraints(max_length=20), SINGLE_LINE] | None = Field(
        default=None, description="Partita IVA, 11 digits"
    )
    fiscal_code: Annotated[str, StringConstraints(max_length=20), SINGLE_LINE] | None = Field(
        default=None, description="Codice fiscale (16 or 11 chars)"
    )
    municipalities: Municipalities = Field(min_length=1)
    certifications: list[Certification] = Field(
        default_factory=list, max_length=20, description="Each 1-100 characters, one line"
    )
    contact_email: Email | None = None
    phone: Phone | None = Field(default=None, description="Italian number, e.g. 015 252 3456")
    website: Website | None = Field(default=None, description="e.g. https://www.cooperativa.it")
    address: AddressInput | None = None
    contact_person: ContactPersonInput | None = None


class UpdateContacts(Command):
    """Only the fields present change; ``null`` clears one (a contact person set to ``null`` is
    removed and its sealed personal data erased)."""

    contact_email: Email | None = None
    phone: Phone | None = None
    website: Website | None = None
    address: AddressInput | None = None
    contact_person: ContactPersonInput | None = None

    @model_validator(mode="after")
    def _something(self) -> UpdateContacts:
        if not self.model_fields_set:
            raise ValueError(
                "name at least one of contact_email, phone, website, address, contact_person"
            )
        return self


class SuspendProvider(Command):
    reason_code: Code
    reason: Reason = ""


class AddCertification(Command):
    certification: Certification


class AffiliateMerchant(Command):
    goods_categories: list[Code] = Field(min_length=1, max_length=50)


class TermsInput(Command):
    """How the offering is booked and cancelled (all optional: the defaults below)."""

    instant: bool = Field(
        default=False, description="Accepted as soon as the slot is held, without the provider"
    )
    acceptance_hours: int | None = Field(
        default=None,
        ge=0,
        le=contract.MAX_ACCEPTANCE_HOURS,
        strict=True,
        description="Hours the provider has to accept a booking (1-72); default 24, or 0 for "
        "an instant offering",
    )
    free_until_hours: int = Field(
        default=48,
        ge=0,
        le=contract.MAX_FREE_UNTIL_HOURS,
        strict=True,
        description="Free cancellation until this many hours before the slot",
    )
    fee_percent: int = Field(
        default=50, ge=0, le=100, strict=True, description="The fee after that, in percent"
    )
    no_show_fee_percent: int = Field(default=100, ge=0, le=100, strict=True)

    def terms(self) -> BookingTerms:
        return BookingTerms.of(
            self.instant,
            self.acceptance_hours,
            self.free_until_hours,
            self.fee_percent,
            self.no_show_fee_percent,
        )


class DraftOffering(Command):
    title_it: Title
    title_en: Title | None = None
    description_it: LongText = Field(min_length=1)
    description_en: LongText | None = None
    category: WelfareCategory
    delivery_mode: DeliveryMode
    price_cents: Price
    unit: PriceUnit
    municipalities: Municipalities = Field(
        default_factory=list, description="Default: all the provider serves"
    )
    terms: TermsInput = Field(default_factory=TermsInput)

    def titles(self) -> dict[str, str]:
        return bilingual(self.title_it, self.title_en)

    def descriptions(self) -> dict[str, str]:
        return bilingual(self.description_it, self.description_en)


class PublishOffering(Command):
    terms: TermsInput | None = Field(
        default=None,
        description="Booking terms to publish with, instead of the draft's; fixed once published",
    )


class ChangePrice(Command):
    price_cents: Price
    unit: PriceUnit
    effective_from: Moment | None = Field(
        default=None, description="Default: now; at most two years ahead"
    )


class WithdrawOffering(Command):
    reason: Reason = ""


class OpenSlot(Command):
    """A slot starts in the future (at most two years ahead), ends after it starts and lasts at
    most 31 days; otherwise 422 ``invalid_slot`` says which rule it breaks."""

    starts_at: Moment
    ends_at: Moment
    capacity: Places


class WeeklyTime(Command):
    weekday: int = Field(ge=0, le=6, description="0 = Monday … 6 = Sunday")
    start: time
    duration_minutes: int = Field(ge=5, le=24 * 60)


class OpenWeeklySlots(Command):
    """Weekly availability between two dates (local time of the territory), minus exceptions."""

    from_date: IsoDate
    to_date: IsoDate
    weekly: list[WeeklyTime] = Field(min_length=1, max_length=50)
    except_dates: list[date] = Field(default_factory=list, max_length=366)
    capacity: Places

    @model_validator(mode="after")
    def _bounded(self) -> OpenWeeklySlots:
        if self.to_date < self.from_date:
            raise ValueError("to_date must not be before from_date")
        if (self.to_date - self.from_date).days > 366:
            raise ValueError("at most one year of slots at a time")
        return self


class HoldSlot(Command):
    request_id: RequestId = Field(
        description="Your own id for this hold: a retry with the same id never holds twice. "
        "It is scoped by the caller: another caller's same id is another hold."
    )
    quantity: Places = 1
    hold_seconds: int | None = Field(default=None, ge=30, le=7 * 24 * 3600)


class PackagePartInput(Command):
    offering_id: Identifier
    order: int = Field(ge=1, le=20, strict=True)
    offset_days: int = Field(default=0, ge=0, le=366, strict=True)
    duration_days: int = Field(default=1, ge=1, le=366, strict=True)
    required: bool = True


class ComposePackage(Command):
    title_it: Title
    title_en: Title | None = None
    description_it: LongText = ""
    description_en: LongText | None = None
    price_cents: Price | None = None
    parts: list[PackagePartInput] = Field(min_length=2, max_length=20)

    def titles(self) -> dict[str, str]:
        return bilingual(self.title_it, self.title_en)

    def descriptions(self) -> dict[str, str]:
        return bilingual(self.description_it, self.description_en)
