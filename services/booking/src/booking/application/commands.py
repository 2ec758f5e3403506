"""What the booking service's callers send, validated at the edge (pydantic) before the domain
checks its own rules. Ids have the shape the contract events and the tokens' subjects allow;
texts are the contracts' text types; money is integer cents; times carry their time zone."""

from __future__ import annotations

from typing import Annotated, Literal

from benecomune_contracts.text import NoteText, ShortText
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

Id = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._@:-]{0,127}$"),
    Field(description="A pseudonymous id: letters, digits, '.', '_', '@', ':' or '-'."),
]
ClientRequestId = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"),
    Field(description="The caller's id of this request: sent again, it is done once."),
]
Category = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,39}$"),
    Field(description="The welfare (tax) category, e.g. elderly_care, services_no_cap."),
]
Cents = Annotated[int, Field(strict=True, ge=0, le=100_000_000, description="Euro cents")]
Index = Annotated[int, Field(ge=1, le=10, description="The component, from 1")]


class Command(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CancellationPolicyInput(Command):
    free_until_hours: int = Field(default=48, ge=0, le=720, strict=True)
    fee_percent: int = Field(default=50, ge=0, le=100, strict=True)
    no_show_fee_percent: int = Field(default=100, ge=0, le=100, strict=True)


class ComponentInput(Command):
    """One offering at one slot. Its facts (provider, price, tax category, instant or the
    provider's acceptance hours, cancellation policy, the slot's times) are the catalog's, as
    the booking service learned them from the catalog's events: send the ids only. A price
    sent along is the one the caller saw: a booking is refused (409 ``price_changed``) if the
    catalog's is now another. The other facts are read only for an offering the catalog has
    not published to the booking service, and only where the service is set to trust them
    (``BOOKING_REQUEST_FACTS_FALLBACK``, tests and demos)."""

    offering_id: Id
    slot_id: Id
    provider_id: Id | None = None
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    price_cents: Cents | None = Field(
        default=None, description="The price the caller saw: refused if it is no longer so"
    )
    category: Category | None = None
    instant: bool | None = None
    acceptance_hours: int | None = Field(
        default=None, ge=0, le=72, strict=True, description="0 for an instant offering"
    )
    cancellation: CancellationPolicyInput | None = None
    order: int = Field(default=1, ge=1, le=10, strict=True)


class VoucherInput(Command):
    voucher_id: Id
    available_cents: Cents


class WalletInput(Command):
    wallet_id: Id
    available_cents: Cents
    confirm_taxable: bool = False


class SplitPart(Command):
    source: Literal["voucher", "wallet", "co_payment"]
    account_id: Id | None = Field(default=None, description="The voucher or wallet id")
    amount_cents: Cents


class FundingInput(Command):
    vouchers: list[VoucherInput] = Field(default_factory=list, max_length=3)
    wallet: WalletInput | None = None
    split: list[SplitPart] | None = Field(
        default=None,
        max_length=5,
        description="How the price is paid; absent: vouchers first, then credit, then co-payment",
    )


class RequestBooking(Command):
    request_id: ClientRequestId
    beneficiary_id: Id | None = Field(
        default=None, description="Who the booking is for; absent: the calling beneficiary"
    )
    for_member_id: Id | None = Field(
        default=None, description="The employee's family member the care is for"
    )
    consent_reference: ShortText | None = Field(
        default=None, description="A social worker's reference of the beneficiary's consent"
    )
    package_id: Id | None = None
    components: list[ComponentInput] = Field(min_length=1, max_length=10)
    funding: FundingInput = Field(default_factory=FundingInput)


class Cancel(Command):
    request_id: ClientRequestId
    accept_fee_cents: Cents | None = Field(
        default=None,
        description="The fee the preview showed: refused (409 fee_changed) if it is now another",
    )


class Reschedule(Command):
    """Another slot of the component's offering: its times are the catalog's (sent times are
    read only where the service trusts request facts, for a slot the catalog has not
    published to it)."""

    request_id: ClientRequestId
    component: Index
    slot_id: Id
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None


class Note(Command):
    note: NoteText | None = None


class Dispute(Command):
    reason: NoteText


class Resolve(Command):
    decision: Literal["capture", "partial_capture", "refund"]
    amount_cents: Cents | None = Field(default=None, description="For a partial capture")
    note: NoteText | None = None
