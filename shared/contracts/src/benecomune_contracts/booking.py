"""Public events of the booking service, topic ``benecomune.booking``.

The booking service runs each booking as a saga across the catalog (slots), the wallet and the
vouchers (funds) and the providers. It speaks to them **only through these events**:

* **requests** to a participant (commands as events): ``SlotHoldRequested``,
  ``SlotConfirmRequested``, ``SlotReleaseRequested`` for the catalog; ``FundsHoldRequested``,
  ``FundsCaptureRequested``, ``FundsReleaseRequested`` for the wallet (``source="wallet"``) or
  the vouchers service (``source="voucher"``); ``ProviderAcceptanceRequested`` for the provider
  (answered on the booking's own API). Each carries a ``request_id`` derived from the booking
  id and the step (``booking:<booking id>:<step>``): a request sent again has the same id, so
  the participant does it once, and its answer names the booking.
* **facts** for whoever follows bookings (notifications, the provider's and the auditor's
  systems): ``BookingRequested``, ``BookingConfirmed``, ``BookingCompensated`` (with the
  reason's code), ``BookingCancelled``, ``ComponentCancelled``, ``ComponentRescheduled``,
  ``ComponentDelivered``, ``ComponentDisputed``, ``ComponentCaptured`` (what each source paid
  for it), ``CoPaymentDue``.

The participants answer with their own events, once per request id: the catalog's
``SlotHeld``, ``SlotHoldRefused``, ``SlotHoldConfirmed`` and ``SlotReleased`` (naming the
booking in ``holder``); the wallet's ``FundsHeld``, ``HoldRefused``, ``HoldCaptured``,
``HoldReleased``, ``HoldExpired`` and ``RequestRefused``; the vouchers service's
``ServiceVoucherHeld``, ``ServiceVoucherHoldRefused``, ``ServiceVoucherCaptured``,
``ServiceVoucherReleased`` and ``ServiceVoucherRequestRefused``. The booking believes an answer
only if it is for itself: the catalog's holder (when given) is the booking and the request one
of its slot requests, for the slot it asked; a funds answer names the account (wallet or
voucher) the booking asked that request of, and the booking when the contract carries it. A
refused capture or release of a hold the participant no longer has (released, lapsed, never
held) pays nothing; one of a hold still open leaves the booking stuck for the operator. The
offerings' facts a booking keeps (price in force, provider, category, terms, the slot's times)
come from the catalog's ``OfferingPublished``, ``OfferingPriceChanged``,
``OfferingWithdrawn`` and ``SlotOpened``.

**No personal data.** Beneficiaries, family members and providers are pseudonymous ids; a
provider's note, a family's dispute and a social worker's consent stay in the booking service.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from benecomune_contracts.base import Cents, ContractEvent, Identifier, PositiveCents, UtcDatetime
from benecomune_contracts.registry import contract
from benecomune_contracts.topics import BOOKING_TOPIC

__all__ = [
    "BookingCancelled",
    "BookingCompensated",
    "BookingConfirmed",
    "BookingRequestId",
    "BookingRequested",
    "CoPaymentDue",
    "ComponentCancelled",
    "ComponentCaptured",
    "ComponentDelivered",
    "ComponentDisputed",
    "ComponentFacts",
    "ComponentIndex",
    "ComponentRescheduled",
    "FundsCaptureRequested",
    "FundsHoldRequested",
    "FundsReleaseRequested",
    "FundsSource",
    "ProviderAcceptanceRequested",
    "SlotConfirmRequested",
    "SlotHoldRequested",
    "SlotReleaseRequested",
    "SourcePaid",
]

BookingRequestId = Annotated[
    str,
    StringConstraints(pattern=r"^booking:[0-9a-f-]{36}:[A-Za-z0-9:_.-]{1,80}$"),
    Field(
        description="booking:<booking id>:<step>: the same booking and step always give the "
        "same id, so the participant does the request once, and its answer names the booking."
    ),
]
ComponentIndex = Annotated[
    int, Field(strict=True, ge=1, le=10, description="The component of the booking, from 1.")
]
FundsSource = Literal["wallet", "voucher"]
Category = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,39}$"),
    Field(description="The welfare (tax) category of the offering, e.g. elderly_care."),
]
ReasonCode = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,39}$")]


class _BookingEvent(ContractEvent):
    booking_id: Identifier


class ComponentFacts(BaseModel):
    """One component of a booking: an offering of a provider, at a slot, at a price."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    component: ComponentIndex
    offering_id: Identifier
    provider_id: Identifier
    slot_id: Identifier
    starts_at: UtcDatetime
    price_cents: Cents
    category: Category


class SourcePaid(BaseModel):
    """What one funding source paid (or owes, for the co-payment)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    source: Literal["wallet", "voucher", "co_payment"]
    account_id: Identifier | None = Field(
        default=None, description="The wallet or voucher id; absent for the co-payment."
    )
    amount_cents: Cents


# --- Requests to the catalog -------------------------------------------------------------------


@contract
class SlotHoldRequested(_BookingEvent):
    """The catalog is asked to hold one place of a slot until ``expires_at``."""

    type_name: ClassVar[str] = "benecomune.booking.SlotHoldRequested.v1"
    topic: ClassVar[str] = BOOKING_TOPIC.name

    component: ComponentIndex
    request_id: BookingRequestId
    slot_id: Identifier
    offering_id: Identifier
    provider_id: Identifier
    quantity: int = Field(default=1, strict=True, ge=1, le=1000)
    expires_at: UtcDatetime
    requested_at: UtcDatetime


@contract
class SlotConfirmRequested(_BookingEvent):
    """The catalog is asked to confirm the hold ``request_id``: its places are taken."""

    type_name: ClassVar[str] = "benecomune.booking.SlotConfirmRequested.v1"
    topic: ClassVar[str] = BOOKING_TOPIC.name

    component: ComponentIndex
    request_id: BookingRequestId
    slot_id: Identifier
    requested_at: UtcDatetime


@contract
class SlotReleaseRequested(_BookingEvent):
    """The catalog is asked to give back the places of the hold ``request_id`` (held or
    confirmed); a release that arrives before its hold must make the late hold refused."""

    type_name: ClassVar[str] = "benecomune.booking.SlotReleaseRequested.v1"
    topic: ClassVar[str] = BOOKING_TOPIC.name

    component: ComponentIndex
    request_id: BookingRequestId
    slot_id: Identifier
    requested_at: UtcDatetime


# --- Requests to the wallet or the vouchers service --------------------------------------------


@contract
class FundsHoldRequested(_BookingEvent):
    """The wallet (or the vouchers service, for a service voucher) is asked to hold an amount
    for a provider until ``expires_at``; it answers held or refused."""

    type_name: ClassVar[str] = "benecomune.booking.FundsHoldRequested.v1"
    topic: ClassVar[str] = BOOKING_TOPIC.name

    component: ComponentIndex
    request_id: BookingRequestId
    source: FundsSource
    account_id: Identifier = Field(description="The wallet id, or the service voucher's id.")
    amount_cents: PositiveCents
    category: Category
    provider_id: Identifier
    for_member_id: Identifier | None = Field(
        default=None, description="The employee's family member the booking is for."
    )
    beneficiary_id: Identifier | None = Field(
        default=None,
        description="Whose booking it is (pseudonymous): the wallet refuses a hold of a wallet "
        "this beneficiary does not hold (not_wallet_holder); absent from older requests.",
    )
    confirm_taxable: bool = False
    expires_at: UtcDatetime
    requested_at: UtcDatetime


@contract
class FundsCaptureRequested(_BookingEvent):
    """The hold is asked to pay ``amount_cents`` to the provider; the rest of the hold goes
    back (one capture per hold)."""

    type_name: ClassVar[str] = "benecomune.booking.FundsCaptureRequested.v1"
    topic: ClassVar[str] = BOOKING_TOPIC.name

    component: ComponentIndex
    request_id: BookingRequestId
    source: FundsSource
    account_id: Identifier
    hold_id: Identifier | None = Field(
        default=None, description="The participant's hold id, from its answer to the hold."
    )
    hold_request_id: BookingRequestId
    provider_id: Identifier
    amount_cents: PositiveCents
    requested_at: UtcDatetime


@contract
class FundsReleaseRequested(_BookingEvent):
    """The hold is asked to give all its money back."""

    type_name: ClassVar[str] = "benecomune.booking.FundsReleaseRequested.v1"
    topic: ClassVar[str] = BOOKING_TOPIC.name

    component: ComponentIndex
    request_id: BookingRequestId
    source: FundsSource
    account_id: Identifier
    hold_id: Identifier | None = None
    hold_request_id: BookingRequestId
    requested_at: UtcDatetime


# --- Requests to providers ---------------------------------------------------------------------


@contract
class ProviderAcceptanceRequested(_BookingEvent):
    """A provider is asked to accept a component by ``due_at`` (on the booking's API)."""

    type_name: ClassVar[str] = "benecomune.booking.ProviderAcceptanceRequested.v1"
    topic: ClassVar[str] = BOOKING_TOPIC.name

    component: ComponentIndex
    request_id: BookingRequestId
    provider_id: Identifier
    offering_id: Identifier
    starts_at: UtcDatetime
    due_at: UtcDatetime
    requested_at: UtcDatetime


# --- Facts -------------------------------------------------------------------------------------


@contract
class BookingRequested(_BookingEvent):
    """A booking was requested, by the beneficiary, their delegate or a social worker."""

    type_name: ClassVar[str] = "benecomune.booking.BookingRequested.v1"
    topic: ClassVar[str] = BOOKING_TOPIC.name

    beneficiary_id: Identifier
    requested_by: Literal["beneficiary", "delegate", "social_worker"]
    package_id: Identifier | None = None
    components: list[ComponentFacts]
    total_cents: Cents
    split: list[SourcePaid]
    requested_at: UtcDatetime


@contract
class BookingConfirmed(_BookingEvent):
    """Every slot and every source is held and every provider accepted."""

    type_name: ClassVar[str] = "benecomune.booking.BookingConfirmed.v1"
    topic: ClassVar[str] = BOOKING_TOPIC.name

    beneficiary_id: Identifier
    total_cents: Cents
    confirmed_at: UtcDatetime


@contract
class BookingCompensated(_BookingEvent):
    """The booking did not go through: everything held was released. ``reason_code``:
    slot_unavailable, funds_refused, provider_declined, provider_no_answer, holds_unanswered,
    hold_expired, cancelled_by_requester."""

    type_name: ClassVar[str] = "benecomune.booking.BookingCompensated.v1"
    topic: ClassVar[str] = BOOKING_TOPIC.name

    beneficiary_id: Identifier
    reason_code: ReasonCode
    compensated_at: UtcDatetime


@contract
class ComponentCancelled(_BookingEvent):
    """A confirmed component was cancelled, by the family (with the policy's fee) or by its
    provider (always free for the family)."""

    type_name: ClassVar[str] = "benecomune.booking.ComponentCancelled.v1"
    topic: ClassVar[str] = BOOKING_TOPIC.name

    component: ComponentIndex
    provider_id: Identifier
    by: Literal["family", "provider"]
    fee_cents: Cents
    cancelled_at: UtcDatetime


@contract
class BookingCancelled(_BookingEvent):
    """A cancellation of the booking (its components are in ``ComponentCancelled``)."""

    type_name: ClassVar[str] = "benecomune.booking.BookingCancelled.v1"
    topic: ClassVar[str] = BOOKING_TOPIC.name

    beneficiary_id: Identifier
    by: Literal["family", "provider"]
    fee_cents: Cents
    cancelled_at: UtcDatetime


@contract
class ComponentRescheduled(_BookingEvent):
    """A component moved to another slot of its offering (held before the old one went)."""

    type_name: ClassVar[str] = "benecomune.booking.ComponentRescheduled.v1"
    topic: ClassVar[str] = BOOKING_TOPIC.name

    component: ComponentIndex
    provider_id: Identifier
    slot_id: Identifier
    starts_at: UtcDatetime
    rescheduled_at: UtcDatetime


@contract
class ComponentDelivered(_BookingEvent):
    """The provider marked a component delivered; the family confirms it, or it is confirmed
    at ``confirmation_due`` unless disputed."""

    type_name: ClassVar[str] = "benecomune.booking.ComponentDelivered.v1"
    topic: ClassVar[str] = BOOKING_TOPIC.name

    component: ComponentIndex
    provider_id: Identifier
    confirmation_due: UtcDatetime
    delivered_at: UtcDatetime


@contract
class ComponentDisputed(_BookingEvent):
    """The family disputed a delivered component: the operator decides."""

    type_name: ClassVar[str] = "benecomune.booking.ComponentDisputed.v1"
    topic: ClassVar[str] = BOOKING_TOPIC.name

    component: ComponentIndex
    disputed_at: UtcDatetime


@contract
class ComponentCaptured(_BookingEvent):
    """A component is settled: what each source paid the provider for it (the co-payment is
    due to the provider, collected outside the platform). Their sum is what the component
    cost the family: its price, a fee, or what the operator decided."""

    type_name: ClassVar[str] = "benecomune.booking.ComponentCaptured.v1"
    topic: ClassVar[str] = BOOKING_TOPIC.name

    component: ComponentIndex
    provider_id: Identifier
    paid: list[SourcePaid]
    total_cents: Cents
    captured_at: UtcDatetime


@contract
class CoPaymentDue(_BookingEvent):
    """The family owes the provider a co-payment (collected outside the platform)."""

    type_name: ClassVar[str] = "benecomune.booking.CoPaymentDue.v1"
    topic: ClassVar[str] = BOOKING_TOPIC.name

    component: ComponentIndex
    provider_id: Identifier
    amount_cents: PositiveCents
    why: Literal["delivery", "resolution", "cancellation", "no_show"]
    due_at: UtcDatetime
