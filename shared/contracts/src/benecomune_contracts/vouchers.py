"""Public events of the vouchers service ("Cura Italia" spending vouchers), topic
``benecomune.vouchers``.

A round issues **food** vouchers (buoni spesa, spent at affiliated shops' tills) or, when its
``RoundServicesCovered`` says so, **service** vouchers (buoni servizio) for care services of
the catalog's categories it covers, spent at accredited providers through a booking: the
booking saga asks (``FundsHoldRequested`` with ``source="voucher"`` on ``benecomune.booking``)
and the vouchers service answers ``ServiceVoucherHeld`` or ``ServiceVoucherHoldRefused``, then
``ServiceVoucherCaptured`` (a redemption, with the provider's ``MerchantCredited``) or
``ServiceVoucherReleased``; a capture or release it cannot do is ``ServiceVoucherRequestRefused``.

The vouchers topic is a ledger: it is kept forever and an auditor replays it to check every
euro cent of public money (issued ≤ allocated, redeemed ≤ issued, reimbursed ≤ redeemed).

**No personal data in contract events.** Beneficiaries are fragile people: events carry only
pseudonymous ids (household, application, voucher, merchant ids), never names, fiscal codes,
addresses, ISEE figures, e-mail addresses or phone numbers. Those stay in the vouchers
service's own erasable storage, so personal data can be erased without rewriting the ledger.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, StringConstraints

from benecomune_contracts.base import (
    Cents,
    ContractEvent,
    Identifier,
    PositiveCents,
    UtcDatetime,
)
from benecomune_contracts.chain import LedgerEvent
from benecomune_contracts.registry import contract
from benecomune_contracts.text import SINGLE_LINE
from benecomune_contracts.topics import VOUCHERS_TOPIC

IstatCode = Annotated[
    str,
    StringConstraints(pattern=r"^[0-9]{6}$"),
    Field(description="ISTAT code of the municipality: six digits, e.g. 096004 for Biella."),
]
FundSourceKind = Literal["state_transfer", "donation"]
"""Where money of a voucher fund comes from: a State transfer or a donation."""
ReturnReason = Literal["expired", "revoked"]
GoodsCategory = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z_]{1,39}$")]
ServiceCategory = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,39}$"),
    Field(description="A welfare category of the catalog's offerings, e.g. elderly_care."),
]
ReasonCode = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,39}$")]
# Typed texts are one line with nothing invisible (benecomune_contracts.text). Not trimmed here:
# a ledger event's hash covers its text exactly as it was published.
SourceReference = Annotated[
    str,
    StringConstraints(min_length=1, max_length=200),
    SINGLE_LINE,
    Field(description='The act or receipt behind the money, e.g. "OCDPC 658/2020".'),
]


# --- Funds: money allocated to a municipality --------------------------------------------------


@contract
class FundAllocated(LedgerEvent):
    """A municipality's voucher fund was created with its first allocation of money."""

    type_name: ClassVar[str] = "benecomune.vouchers.FundAllocated.v1"
    topic: ClassVar[str] = VOUCHERS_TOPIC.name

    fund_id: Identifier
    municipality_istat: IstatCode
    source_kind: FundSourceKind
    source_reference: SourceReference
    amount_cents: PositiveCents
    allocated_at: UtcDatetime


@contract
class FundToppedUp(LedgerEvent):
    """More money was added to an existing voucher fund."""

    type_name: ClassVar[str] = "benecomune.vouchers.FundToppedUp.v1"
    topic: ClassVar[str] = VOUCHERS_TOPIC.name

    fund_id: Identifier
    source_kind: FundSourceKind
    source_reference: SourceReference
    amount_cents: PositiveCents
    topped_up_at: UtcDatetime


@contract
class FundBudgetAssigned(LedgerEvent):
    """Part of a fund was set aside as the budget of a voucher round."""

    type_name: ClassVar[str] = "benecomune.vouchers.FundBudgetAssigned.v1"
    topic: ClassVar[str] = VOUCHERS_TOPIC.name

    fund_id: Identifier
    round_id: Identifier
    amount_cents: PositiveCents
    assigned_at: UtcDatetime


# --- Rounds: calls for applications with their rules and budget --------------------------------


@contract
class RoundOpened(LedgerEvent):
    """A call for applications opened, with its rules as data and its budget."""

    type_name: ClassVar[str] = "benecomune.vouchers.RoundOpened.v1"
    topic: ClassVar[str] = VOUCHERS_TOPIC.name

    round_id: Identifier
    fund_id: Identifier
    municipality_istat: IstatCode
    title: Annotated[str, StringConstraints(min_length=1, max_length=200), SINGLE_LINE]
    opens_at: UtcDatetime
    closes_at: UtcDatetime
    budget_cents: PositiveCents
    rules: dict[str, Any] = Field(description="Eligibility and entitlement rules, as data.")
    denominations_cents: list[PositiveCents]
    validity_days: int = Field(strict=True, ge=1)
    excluded_categories: list[GoodsCategory]
    opened_at: UtcDatetime


@contract
class RoundVouchersCommitted(LedgerEvent):
    """Money of the round's budget was committed to an approved application as vouchers."""

    type_name: ClassVar[str] = "benecomune.vouchers.RoundVouchersCommitted.v1"
    topic: ClassVar[str] = VOUCHERS_TOPIC.name

    round_id: Identifier
    application_id: Identifier
    household_id: Identifier
    voucher_ids: list[Identifier]
    amount_cents: PositiveCents
    committed_at: UtcDatetime


@contract
class RoundValueReturned(LedgerEvent):
    """Unspent value of an expired or revoked voucher came back to the round's budget."""

    type_name: ClassVar[str] = "benecomune.vouchers.RoundValueReturned.v1"
    topic: ClassVar[str] = VOUCHERS_TOPIC.name

    round_id: Identifier
    voucher_id: Identifier
    amount_cents: PositiveCents
    reason: ReturnReason
    returned_at: UtcDatetime


@contract
class RoundClosed(LedgerEvent):
    """The round stopped taking applications."""

    type_name: ClassVar[str] = "benecomune.vouchers.RoundClosed.v1"
    topic: ClassVar[str] = VOUCHERS_TOPIC.name

    round_id: Identifier
    closed_at: UtcDatetime


@contract
class RoundServicesCovered(LedgerEvent):
    """The round issues service vouchers (buoni servizio), for the catalog's offerings of these
    categories at the accredited providers of its municipality; it follows the round's
    ``RoundOpened`` in the same transaction. A round without it issues food vouchers."""

    type_name: ClassVar[str] = "benecomune.vouchers.RoundServicesCovered.v1"
    topic: ClassVar[str] = VOUCHERS_TOPIC.name

    round_id: Identifier
    service_categories: list[ServiceCategory] = Field(min_length=1)
    covered_at: UtcDatetime


# --- Applications (pseudonymous: no names, fiscal codes or incomes) ----------------------------


@contract
class ApplicationSubmitted(ContractEvent):
    type_name: ClassVar[str] = "benecomune.vouchers.ApplicationSubmitted.v1"
    topic: ClassVar[str] = VOUCHERS_TOPIC.name

    application_id: Identifier
    round_id: Identifier
    household_id: Identifier
    members: int = Field(strict=True, ge=1)
    minors: int = Field(strict=True, ge=0)
    submitted_at: UtcDatetime
    applicant_id: Identifier | None = Field(
        default=None,
        description="The applying beneficiary's pseudonymous id (their token's subject id, "
        "never a name or fiscal code): where the household's notices about this application "
        "go. Absent for applications submitted before it was published.",
    )


@contract
class ApplicationApproved(ContractEvent):
    type_name: ClassVar[str] = "benecomune.vouchers.ApplicationApproved.v1"
    topic: ClassVar[str] = VOUCHERS_TOPIC.name

    application_id: Identifier
    round_id: Identifier
    household_id: Identifier
    entitlement_cents: PositiveCents
    priority: int = Field(strict=True, ge=1, description="1 is served first.")
    approved_at: UtcDatetime


@contract
class ApplicationRejected(ContractEvent):
    type_name: ClassVar[str] = "benecomune.vouchers.ApplicationRejected.v1"
    topic: ClassVar[str] = VOUCHERS_TOPIC.name

    application_id: Identifier
    round_id: Identifier
    household_id: Identifier
    reason_code: Identifier
    rejected_at: UtcDatetime


@contract
class ApplicationWaitlisted(ContractEvent):
    type_name: ClassVar[str] = "benecomune.vouchers.ApplicationWaitlisted.v1"
    topic: ClassVar[str] = VOUCHERS_TOPIC.name

    application_id: Identifier
    round_id: Identifier
    household_id: Identifier
    rank: int = Field(strict=True, ge=1)
    waitlisted_at: UtcDatetime


@contract
class ApplicationServed(ContractEvent):
    """The household of an approved application got its vouchers: how many, their total and
    until when they may be spent (what the household is told). Not a ledger event: the money
    moves in the round's ``RoundVouchersCommitted`` and each voucher's ``VoucherIssued``.
    The figures are absent only for households served before this event was published."""

    type_name: ClassVar[str] = "benecomune.vouchers.ApplicationServed.v1"
    topic: ClassVar[str] = VOUCHERS_TOPIC.name

    application_id: Identifier
    round_id: Identifier
    household_id: Identifier
    voucher_count: int = Field(strict=True, ge=1)
    amount_cents: PositiveCents | None = Field(
        default=None, description="The vouchers' total value."
    )
    expires_at: UtcDatetime | None = Field(
        default=None, description="When the vouchers expire (all of them at once)."
    )
    from_waitlist: bool | None = Field(
        default=None, description="Served when money came back, after waiting in the ranking."
    )
    served_at: UtcDatetime


# --- Vouchers ----------------------------------------------------------------------------------


@contract
class VoucherIssued(LedgerEvent):
    type_name: ClassVar[str] = "benecomune.vouchers.VoucherIssued.v1"
    topic: ClassVar[str] = VOUCHERS_TOPIC.name

    voucher_id: Identifier
    round_id: Identifier
    application_id: Identifier
    household_id: Identifier
    value_cents: PositiveCents
    expires_at: UtcDatetime
    issued_at: UtcDatetime


@contract
class VoucherDelegateNamed(LedgerEvent):
    """The beneficiary named a delegate (a caregiver) who may also spend the voucher."""

    type_name: ClassVar[str] = "benecomune.vouchers.VoucherDelegateNamed.v1"
    topic: ClassVar[str] = VOUCHERS_TOPIC.name

    voucher_id: Identifier
    delegate_id: Identifier
    named_at: UtcDatetime


@contract
class VoucherRedeemed(LedgerEvent):
    type_name: ClassVar[str] = "benecomune.vouchers.VoucherRedeemed.v1"
    topic: ClassVar[str] = VOUCHERS_TOPIC.name

    voucher_id: Identifier
    round_id: Identifier
    redemption_id: Identifier
    merchant_id: Identifier
    amount_cents: PositiveCents
    goods_category: GoodsCategory
    remaining_cents: Cents
    redeemed_at: UtcDatetime


@contract
class ServiceVoucherHeld(LedgerEvent):
    """Part of a service voucher's balance was held for a booking (``request_id``, the saga's
    ``FundsHoldRequested``), for the provider, until ``expires_at``: it is not spent yet (the
    balance ``remaining_cents`` is unchanged), but no longer available (``held_cents``, the
    voucher's holds after this one, never exceeds the balance)."""

    type_name: ClassVar[str] = "benecomune.vouchers.ServiceVoucherHeld.v1"
    topic: ClassVar[str] = VOUCHERS_TOPIC.name

    voucher_id: Identifier
    round_id: Identifier
    hold_id: Identifier
    request_id: Identifier
    booking_id: Identifier
    provider_id: Identifier
    category: ServiceCategory
    amount_cents: PositiveCents
    held_cents: PositiveCents
    remaining_cents: Cents
    expires_at: UtcDatetime
    held_at: UtcDatetime


@contract
class ServiceVoucherCaptured(LedgerEvent):
    """A hold was captured on delivery: ``amount_cents`` (at most the hold's) is a redemption
    ``redemption_id`` credited to the provider's account in the round (its
    ``MerchantCredited``), exactly as a sale at a till; the rest of the hold
    (``released_cents``) is available again. One capture per hold."""

    type_name: ClassVar[str] = "benecomune.vouchers.ServiceVoucherCaptured.v1"
    topic: ClassVar[str] = VOUCHERS_TOPIC.name

    voucher_id: Identifier
    round_id: Identifier
    hold_id: Identifier
    request_id: Identifier
    booking_id: Identifier
    redemption_id: Identifier
    provider_id: Identifier
    category: ServiceCategory
    amount_cents: PositiveCents
    released_cents: Cents
    held_cents: Cents = Field(description="What the voucher still holds for other bookings.")
    remaining_cents: Cents
    captured_at: UtcDatetime


@contract
class ServiceVoucherReleased(LedgerEvent):
    """A hold gave all its money back: the booking released it (``request_id``), or it lapsed
    at its deadline uncaptured (``lapsed``, no request)."""

    type_name: ClassVar[str] = "benecomune.vouchers.ServiceVoucherReleased.v1"
    topic: ClassVar[str] = VOUCHERS_TOPIC.name

    voucher_id: Identifier
    round_id: Identifier
    hold_id: Identifier
    request_id: Identifier | None = None
    booking_id: Identifier
    amount_cents: PositiveCents
    held_cents: Cents = Field(description="What the voucher still holds for other bookings.")
    lapsed: bool = False
    released_at: UtcDatetime


@contract
class ServiceVoucherHoldRefused(ContractEvent):
    """A booking's hold on a voucher was refused: nothing was held. ``reason_code``:
    unknown_voucher, not_a_service_voucher, not_the_holder, booking_unknown,
    category_not_covered, provider_not_accredited, provider_suspended, voucher_not_spendable,
    insufficient_balance, invalid_amount."""

    type_name: ClassVar[str] = "benecomune.vouchers.ServiceVoucherHoldRefused.v1"
    topic: ClassVar[str] = VOUCHERS_TOPIC.name

    voucher_id: Identifier = Field(description="The voucher id the booking named.")
    booking_id: Identifier
    request_id: Identifier
    provider_id: Identifier
    amount_cents: PositiveCents
    reason_code: ReasonCode
    refused_at: UtcDatetime


@contract
class ServiceVoucherRequestRefused(ContractEvent):
    """A booking's capture or release of a voucher hold could not be done (nothing moved):
    ``reason_code`` no_such_hold (nothing was ever held), hold_captured, hold_released or
    hold_lapsed (the hold already ended: nothing is held any more), capture_over_hold,
    not_the_provider, provider_suspended, provider_not_accredited."""

    type_name: ClassVar[str] = "benecomune.vouchers.ServiceVoucherRequestRefused.v1"
    topic: ClassVar[str] = VOUCHERS_TOPIC.name

    voucher_id: Identifier
    booking_id: Identifier
    request_id: Identifier
    hold_request_id: Identifier
    request: Literal["capture", "release"]
    reason_code: ReasonCode
    refused_at: UtcDatetime


@contract
class VoucherRedemptionVoided(LedgerEvent):
    type_name: ClassVar[str] = "benecomune.vouchers.VoucherRedemptionVoided.v1"
    topic: ClassVar[str] = VOUCHERS_TOPIC.name

    voucher_id: Identifier
    round_id: Identifier
    redemption_id: Identifier
    merchant_id: Identifier
    amount_cents: PositiveCents
    voided_at: UtcDatetime


@contract
class VoucherExpired(LedgerEvent):
    type_name: ClassVar[str] = "benecomune.vouchers.VoucherExpired.v1"
    topic: ClassVar[str] = VOUCHERS_TOPIC.name

    voucher_id: Identifier
    round_id: Identifier
    amount_cents: Cents
    expired_at: UtcDatetime


@contract
class VoucherRevoked(LedgerEvent):
    type_name: ClassVar[str] = "benecomune.vouchers.VoucherRevoked.v1"
    topic: ClassVar[str] = VOUCHERS_TOPIC.name

    voucher_id: Identifier
    round_id: Identifier
    amount_cents: Cents
    reason_code: Identifier
    revoked_at: UtcDatetime


# --- Merchants: affiliation, redeemed money owed, reimbursement claims -------------------------


@contract
class MerchantAffiliated(LedgerEvent):
    type_name: ClassVar[str] = "benecomune.vouchers.MerchantAffiliated.v1"
    topic: ClassVar[str] = VOUCHERS_TOPIC.name

    account_id: Identifier
    round_id: Identifier
    merchant_id: Identifier
    vat_number: Annotated[str, StringConstraints(pattern=r"^[0-9]{11}$")]
    goods_categories: list[GoodsCategory]
    excluded_categories: list[GoodsCategory]
    affiliated_at: UtcDatetime


@contract
class ProviderAccountOpened(LedgerEvent):
    """An accredited care provider joined a services round: its account there is credited
    with the service vouchers its bookings capture, as a shop's with its sales (suspended,
    reinstated, credited and claimed by the same events as a shop's account)."""

    type_name: ClassVar[str] = "benecomune.vouchers.ProviderAccountOpened.v1"
    topic: ClassVar[str] = VOUCHERS_TOPIC.name

    account_id: Identifier
    round_id: Identifier
    provider_id: Identifier
    service_categories: list[ServiceCategory]
    opened_at: UtcDatetime


@contract
class MerchantSuspended(LedgerEvent):
    """The shop may take no vouchers in this round until reinstated (the catalogue suspended
    it). Moves no money: what it is owed stays owed."""

    type_name: ClassVar[str] = "benecomune.vouchers.MerchantSuspended.v1"
    topic: ClassVar[str] = VOUCHERS_TOPIC.name

    account_id: Identifier
    merchant_id: Identifier
    reason_code: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,39}$")]
    suspended_at: UtcDatetime


@contract
class MerchantReinstated(LedgerEvent):
    """A suspended shop may take vouchers in this round again."""

    type_name: ClassVar[str] = "benecomune.vouchers.MerchantReinstated.v1"
    topic: ClassVar[str] = VOUCHERS_TOPIC.name

    account_id: Identifier
    merchant_id: Identifier
    reinstated_at: UtcDatetime


@contract
class MerchantCredited(LedgerEvent):
    """A redemption made the municipality owe the merchant its amount."""

    type_name: ClassVar[str] = "benecomune.vouchers.MerchantCredited.v1"
    topic: ClassVar[str] = VOUCHERS_TOPIC.name

    account_id: Identifier
    merchant_id: Identifier
    redemption_id: Identifier
    voucher_id: Identifier
    amount_cents: PositiveCents
    credited_at: UtcDatetime


@contract
class MerchantDebited(LedgerEvent):
    """A voided redemption cancelled what was owed for it."""

    type_name: ClassVar[str] = "benecomune.vouchers.MerchantDebited.v1"
    topic: ClassVar[str] = VOUCHERS_TOPIC.name

    account_id: Identifier
    merchant_id: Identifier
    redemption_id: Identifier
    amount_cents: PositiveCents
    debited_at: UtcDatetime


@contract
class ReimbursementClaimed(LedgerEvent):
    type_name: ClassVar[str] = "benecomune.vouchers.ReimbursementClaimed.v1"
    topic: ClassVar[str] = VOUCHERS_TOPIC.name

    account_id: Identifier
    claim_id: Identifier
    merchant_id: Identifier
    round_id: Identifier
    period_from: date
    period_to: date
    amount_cents: PositiveCents
    redemption_ids: list[Identifier]
    claimed_at: UtcDatetime


@contract
class ReimbursementApproved(LedgerEvent):
    type_name: ClassVar[str] = "benecomune.vouchers.ReimbursementApproved.v1"
    topic: ClassVar[str] = VOUCHERS_TOPIC.name

    account_id: Identifier
    claim_id: Identifier
    merchant_id: Identifier
    amount_cents: PositiveCents
    payment_due_on: date
    approved_at: UtcDatetime


@contract
class ReimbursementPaid(LedgerEvent):
    type_name: ClassVar[str] = "benecomune.vouchers.ReimbursementPaid.v1"
    topic: ClassVar[str] = VOUCHERS_TOPIC.name

    account_id: Identifier
    claim_id: Identifier
    merchant_id: Identifier
    amount_cents: PositiveCents
    payment_reference: Annotated[str, StringConstraints(min_length=1, max_length=100), SINGLE_LINE]
    paid_at: UtcDatetime
