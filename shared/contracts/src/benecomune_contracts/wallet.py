"""Public events of the wallet service (employer welfare plans and employee wallets), topic
``benecomune.wallet``.

The wallet is a double-entry ledger: every movement of money is a balanced **transfer** from one
account to another, and every ledger event lists the transfers it made. An auditor replaying
the topic rebuilds every account from the transfers alone (a transfer between accounts of two
streams, e.g. a grant from a plan's funding account to an employee's wallet, appears in both
streams with the same ``transfer_id`` and is counted once), checks that all balances add up to
zero and that no account that must not go negative ever does.

Accounts are named ``<kind>:<ids…>``:

* ``employer:<employer>:contributions`` — where an employer's money comes from (goes negative);
* ``plan:<plan>:funding`` — a plan's budget not yet granted;
* ``plan:<plan>:returned`` — credit returned to the employer (expired, or unspent budget);
* ``wallet:<plan>:<employee>:<category>`` — an employee's credit (``general`` = any category);
* ``hold:<hold>`` — money reserved for a pending booking;
* ``provider:<provider>:payable`` — what the platform owes a provider for captured holds;
* ``fringe:<employee>:<year>:{contra,exempt,taxable}`` — a memo ledger of fringe benefits
  provided (TUIR art. 51 c. 3): the payroll reads the taxable account;
* ``employer:<employer>:productivity_bonus`` — where a productivity bonus (premio di risultato)
  an employee converts into welfare credit comes from (goes negative);
* ``bonus:<employee>:<year>:{contra,converted}`` — a memo ledger of the productivity bonus
  converted in a year (tax-free up to a yearly limit, L. 208/2015 art. 1 c. 182-184).

**No personal data.** Employees, their family members and their delegates are pseudonymous ids;
fiscal codes and names never leave the service.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from benecomune_contracts.base import Cents, ContractEvent, Identifier, PositiveCents, UtcDatetime
from benecomune_contracts.chain import LedgerEvent, ledger_hash
from benecomune_contracts.registry import contract
from benecomune_contracts.topics import WALLET_TOPIC

__all__ = [
    "BonusConversionAllowed",
    "BonusConverted",
    "BonusRecorded",
    "BonusYearOpened",
    "CreditCarriedIn",
    "CreditCarriedOver",
    "CreditExpired",
    "CreditExpiring",
    "CreditGranted",
    "DelegateNamed",
    "DelegateRevoked",
    "EmployeesEnrolled",
    "FamilyMemberNamed",
    "FamilyMemberRemoved",
    "FamilyOpened",
    "FringeCapWarning",
    "FringeRecorded",
    "FringeTaxable",
    "FringeYearOpened",
    "FundsHeld",
    "HoldCaptured",
    "HoldExpired",
    "HoldRefused",
    "HoldReleased",
    "PlanBonusConverted",
    "PlanClosed",
    "PlanCreated",
    "PlanCreditAllocated",
    "PlanCreditReturned",
    "Refunded",
    "RequestRefused",
    "Transfer",
    "WalletLedgerEvent",
    "WalletOpened",
]

Category = Literal[
    "general",
    "services_no_cap",
    "education_childcare",
    "elderly_care",
    "transport",
    "fringe_purchase",
]
"""Credit categories (TUIR art. 51): c.2 f, f-bis, f-ter, d-bis, c.3; ``general`` is credit
usable in any category the plan allows."""
EndPolicy = Literal["reset", "carry_over"]
Relationship = Literal["spouse", "child", "parent", "other_dependent"]
"""A family member's relationship to the employee (the familiari of TUIR art. 12)."""
Year = Annotated[int, Field(strict=True, ge=2000, le=2100)]
AccountName = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z]+(:[A-Za-z0-9_.-]+)+$", max_length=300),
    Field(description="An account of the ledger, e.g. wallet:<plan>:<employee>:transport."),
]


class Transfer(BaseModel):
    """A balanced movement of money: ``amount_cents`` leaves one account and enters another."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    transfer_id: Identifier
    from_account: AccountName
    to_account: AccountName
    amount_cents: PositiveCents


class WalletLedgerEvent(LedgerEvent):
    """A wallet ledger event: it lists the balanced transfers it made."""

    added_optional_fields: ClassVar[tuple[str, ...]] = ()
    """Optional fields added after the type was published. While one of them is None it is left
    out of the hash: an event published before the field existed, read back with the field's
    default, keeps the hash its producer computed (otherwise every old event would look
    edited)."""

    transfers: list[Transfer] = Field(description="The transfers this event made (may be empty).")

    def computed_hash(self) -> str:
        absent = {name for name in self.added_optional_fields if getattr(self, name) is None}
        if not absent:
            return super().computed_hash()
        content = self.model_dump(mode="json", exclude={"event_hash", *absent})
        return ledger_hash(self.type_name, content)


# --- Plans: an employer's yearly welfare budget ------------------------------------------------


@contract
class PlanCreated(WalletLedgerEvent):
    """An employer created a welfare plan and funded its budget."""

    type_name: ClassVar[str] = "benecomune.wallet.PlanCreated.v1"
    topic: ClassVar[str] = WALLET_TOPIC.name

    plan_id: Identifier
    employer_id: Identifier
    vat_number: Annotated[str, StringConstraints(pattern=r"^[0-9]{11}$")]
    year: int = Field(strict=True, ge=2000, le=2100)
    starts_on: date
    ends_on: date
    budget_cents: PositiveCents
    credit_per_employee_cents: Cents
    categories: list[Category]
    end_policy: EndPolicy
    created_at: UtcDatetime


@contract
class EmployeesEnrolled(WalletLedgerEvent):
    """Employees became eligible for a plan (pseudonymous ids only)."""

    type_name: ClassVar[str] = "benecomune.wallet.EmployeesEnrolled.v1"
    topic: ClassVar[str] = WALLET_TOPIC.name

    plan_id: Identifier
    employee_ids: list[Identifier]
    with_children_ids: list[Identifier] = Field(
        description="Those of them with dependent children (the higher fringe cap applies)."
    )
    enrolled_at: UtcDatetime


@contract
class PlanCreditAllocated(WalletLedgerEvent):
    """The plan's leg of a grant: budget left the funding account for an employee's wallet."""

    type_name: ClassVar[str] = "benecomune.wallet.PlanCreditAllocated.v1"
    topic: ClassVar[str] = WALLET_TOPIC.name

    plan_id: Identifier
    employee_id: Identifier
    wallet_id: Identifier
    amount_cents: PositiveCents
    allocated_at: UtcDatetime


@contract
class PlanCreditReturned(WalletLedgerEvent):
    """The plan's leg of an expiry: unspent credit of a wallet came back to the employer."""

    type_name: ClassVar[str] = "benecomune.wallet.PlanCreditReturned.v1"
    topic: ClassVar[str] = WALLET_TOPIC.name

    plan_id: Identifier
    employee_id: Identifier
    wallet_id: Identifier
    amount_cents: PositiveCents
    returned_at: UtcDatetime


@contract
class PlanClosed(WalletLedgerEvent):
    """The plan ended: its ungranted budget returned to the employer."""

    type_name: ClassVar[str] = "benecomune.wallet.PlanClosed.v1"
    topic: ClassVar[str] = WALLET_TOPIC.name

    plan_id: Identifier
    returned_cents: Cents
    next_plan_id: Identifier | None = None
    closed_at: UtcDatetime


@contract
class BonusConversionAllowed(WalletLedgerEvent):
    """The employer allowed employees to convert their productivity bonus (premio di risultato)
    into credit of this plan; ``yearly_limit_cents`` is what may be converted tax-free per
    employee in the plan's year."""

    type_name: ClassVar[str] = "benecomune.wallet.BonusConversionAllowed.v1"
    topic: ClassVar[str] = WALLET_TOPIC.name

    plan_id: Identifier
    yearly_limit_cents: PositiveCents
    allowed_at: UtcDatetime


@contract
class PlanBonusConverted(WalletLedgerEvent):
    """The plan's leg of a productivity-bonus conversion into an employee's wallet (the money
    comes from the employer's bonus account, not from the plan's budget)."""

    type_name: ClassVar[str] = "benecomune.wallet.PlanBonusConverted.v1"
    topic: ClassVar[str] = WALLET_TOPIC.name

    plan_id: Identifier
    employee_id: Identifier
    wallet_id: Identifier
    amount_cents: PositiveCents
    converted_at: UtcDatetime


# --- Wallets: one employee's credit in one plan ------------------------------------------------


@contract
class WalletOpened(WalletLedgerEvent):
    """An employee's wallet in a plan was opened."""

    type_name: ClassVar[str] = "benecomune.wallet.WalletOpened.v1"
    topic: ClassVar[str] = WALLET_TOPIC.name

    wallet_id: Identifier
    plan_id: Identifier
    employer_id: Identifier
    employee_id: Identifier
    year: int = Field(strict=True, ge=2000, le=2100)
    categories: list[Category]
    expires_on: date
    opened_at: UtcDatetime


@contract
class CreditGranted(WalletLedgerEvent):
    """Credit was loaded into an employee's wallet from the plan's budget."""

    type_name: ClassVar[str] = "benecomune.wallet.CreditGranted.v1"
    topic: ClassVar[str] = WALLET_TOPIC.name

    wallet_id: Identifier
    plan_id: Identifier
    employee_id: Identifier
    category: Category
    amount_cents: PositiveCents
    granted_at: UtcDatetime


@contract
class FundsHeld(WalletLedgerEvent):
    """Money of a wallet was reserved for a pending booking, until ``expires_at``."""

    type_name: ClassVar[str] = "benecomune.wallet.FundsHeld.v1"
    topic: ClassVar[str] = WALLET_TOPIC.name
    added_optional_fields: ClassVar[tuple[str, ...]] = ("member_id", "delegate_id")

    wallet_id: Identifier
    employee_id: Identifier
    hold_id: Identifier
    request_id: Identifier
    provider_id: Identifier
    category: Category
    amount_cents: PositiveCents
    expires_at: UtcDatetime
    held_at: UtcDatetime
    member_id: Identifier | None = Field(
        default=None,
        description="The employee's family member the booking is for (see FamilyMemberNamed); "
        "absent: the employee.",
    )
    delegate_id: Identifier | None = Field(
        default=None,
        description="The employee's delegate who made the hold (see DelegateNamed); absent: "
        "the employee or the booking saga.",
    )


@contract
class HoldRefused(WalletLedgerEvent):
    """A hold another service asked for (the booking saga) was refused: nothing was held."""

    type_name: ClassVar[str] = "benecomune.wallet.HoldRefused.v1"
    topic: ClassVar[str] = WALLET_TOPIC.name

    wallet_id: Identifier
    employee_id: Identifier
    request_id: Identifier
    provider_id: Identifier
    category: Category
    amount_cents: PositiveCents
    reason_code: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z_]{1,39}$")]
    reason: Annotated[str, StringConstraints(max_length=300)]
    refused_at: UtcDatetime


@contract
class HoldCaptured(WalletLedgerEvent):
    """A hold was captured (all or part) for the provider; any remainder went back."""

    type_name: ClassVar[str] = "benecomune.wallet.HoldCaptured.v1"
    topic: ClassVar[str] = WALLET_TOPIC.name

    wallet_id: Identifier
    employee_id: Identifier
    hold_id: Identifier
    provider_id: Identifier
    category: Category
    amount_cents: PositiveCents
    released_cents: Cents
    captured_at: UtcDatetime


@contract
class HoldReleased(WalletLedgerEvent):
    """A hold was cancelled: its money went back to the wallet."""

    type_name: ClassVar[str] = "benecomune.wallet.HoldReleased.v1"
    topic: ClassVar[str] = WALLET_TOPIC.name

    wallet_id: Identifier
    employee_id: Identifier
    hold_id: Identifier
    amount_cents: PositiveCents
    released_at: UtcDatetime


@contract
class HoldExpired(WalletLedgerEvent):
    """A hold passed its expiry without capture: its money went back to the wallet."""

    type_name: ClassVar[str] = "benecomune.wallet.HoldExpired.v1"
    topic: ClassVar[str] = WALLET_TOPIC.name

    wallet_id: Identifier
    employee_id: Identifier
    hold_id: Identifier
    amount_cents: PositiveCents
    expired_at: UtcDatetime


@contract
class RequestRefused(ContractEvent):
    """A request the booking saga sent by event (``FundsHoldRequested``,
    ``FundsCaptureRequested`` or ``FundsReleaseRequested`` with ``source="wallet"``) that the
    wallet refused without a wallet's ledger stream to record it on: a hold for a wallet it
    does not know, or in a category it has no account for, and every refused capture or
    release. Nothing moved. A hold refused by a wallet it knows is ``HoldRefused`` instead
    (on that wallet's stream). One answer per request id, like ``FundsHeld`` and the others.

    ``reason_code``: wallet_not_found, category_not_allowed (holds); hold_not_found,
    hold_mismatch, provider_mismatch, hold_not_open (with ``hold_status``: captured, released
    or expired), capture_exceeds_hold, invalid_amount (captures and releases). Not a ledger
    event: it carries no transfers and no chain."""

    type_name: ClassVar[str] = "benecomune.wallet.RequestRefused.v1"
    topic: ClassVar[str] = WALLET_TOPIC.name

    request_id: Identifier = Field(description="The refused request's id (booking:<id>:<step>).")
    request: Literal["hold", "capture", "release"]
    booking_id: Identifier | None = Field(default=None, description="The booking that asked.")
    wallet_id: Identifier = Field(description="The wallet the request named (account_id).")
    hold_id: Identifier | None = Field(
        default=None, description="The hold a capture or release was for, when the wallet has it."
    )
    hold_request_id: Identifier | None = Field(
        default=None, description="The request id of that hold (captures and releases)."
    )
    hold_status: Literal["held", "captured", "released", "expired"] | None = Field(
        default=None,
        description="What became of the hold (e.g. released or expired: its money went back "
        "already, HoldReleased or HoldExpired said so).",
    )
    amount_cents: Cents | None = Field(
        default=None, description="The amount asked (a hold or a capture)."
    )
    reason_code: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z_]{1,39}$")]
    reason: Annotated[str, StringConstraints(max_length=300)]
    refused_at: UtcDatetime


@contract
class Refunded(WalletLedgerEvent):
    """Captured money came back from the provider to the wallet (a reverse transfer)."""

    type_name: ClassVar[str] = "benecomune.wallet.Refunded.v1"
    topic: ClassVar[str] = WALLET_TOPIC.name

    wallet_id: Identifier
    employee_id: Identifier
    hold_id: Identifier
    provider_id: Identifier
    category: Category
    amount_cents: PositiveCents
    refunded_at: UtcDatetime


@contract
class CreditExpired(WalletLedgerEvent):
    """At the end of a plan that resets, the wallet's unspent credit returned to the employer."""

    type_name: ClassVar[str] = "benecomune.wallet.CreditExpired.v1"
    topic: ClassVar[str] = WALLET_TOPIC.name

    wallet_id: Identifier
    plan_id: Identifier
    employee_id: Identifier
    amount_cents: Cents
    expired_at: UtcDatetime


@contract
class CreditCarriedOver(WalletLedgerEvent):
    """At the end of a plan that carries over, the unspent credit moved to the next plan."""

    type_name: ClassVar[str] = "benecomune.wallet.CreditCarriedOver.v1"
    topic: ClassVar[str] = WALLET_TOPIC.name

    wallet_id: Identifier
    plan_id: Identifier
    employee_id: Identifier
    to_wallet_id: Identifier
    amount_cents: Cents
    carried_at: UtcDatetime


@contract
class CreditCarriedIn(WalletLedgerEvent):
    """The receiving wallet's leg of a carry-over."""

    type_name: ClassVar[str] = "benecomune.wallet.CreditCarriedIn.v1"
    topic: ClassVar[str] = WALLET_TOPIC.name

    wallet_id: Identifier
    plan_id: Identifier
    employee_id: Identifier
    from_wallet_id: Identifier
    amount_cents: Cents
    carried_at: UtcDatetime


@contract
class CreditExpiring(WalletLedgerEvent):
    """A reminder: the wallet's credit expires at the end of its plan, ``days_left`` days from
    now (within ``threshold_days``: 30, then 7). Sent once per wallet and threshold, only for
    a wallet with credit left, of a plan whose unspent credit returns to the employer."""

    type_name: ClassVar[str] = "benecomune.wallet.CreditExpiring.v1"
    topic: ClassVar[str] = WALLET_TOPIC.name

    wallet_id: Identifier
    plan_id: Identifier
    employee_id: Identifier
    expires_on: date = Field(description="The last day the credit can be spent.")
    threshold_days: int = Field(strict=True, ge=1, le=366)
    days_left: int = Field(strict=True, ge=0, le=366)
    amount_cents: PositiveCents = Field(description="The credit at stake (not held).")
    held_cents: Cents = Field(description="Credit held for pending bookings besides.")
    reminded_at: UtcDatetime


@contract
class BonusConverted(WalletLedgerEvent):
    """The employee's productivity bonus (premio di risultato), converted by the employer into
    welfare credit, landed in the wallet as general credit."""

    type_name: ClassVar[str] = "benecomune.wallet.BonusConverted.v1"
    topic: ClassVar[str] = WALLET_TOPIC.name

    wallet_id: Identifier
    plan_id: Identifier
    employee_id: Identifier
    request_id: Identifier
    year: Year
    amount_cents: PositiveCents
    converted_at: UtcDatetime


# --- Family members and delegates of an employee -----------------------------------------------


@contract
class FamilyOpened(WalletLedgerEvent):
    """The record of an employee's family members and delegate was opened."""

    type_name: ClassVar[str] = "benecomune.wallet.FamilyOpened.v1"
    topic: ClassVar[str] = WALLET_TOPIC.name

    employee_id: Identifier
    opened_at: UtcDatetime


@contract
class FamilyMemberNamed(WalletLedgerEvent):
    """The employee named a family member (TUIR art. 12) who may be the beneficiary of what the
    employee's credit pays for (e.g. childcare for a child, elderly care for a parent: art. 51
    c. 2 f-bis and f-ter); naming one again changes the relationship. A pseudonymous id only."""

    type_name: ClassVar[str] = "benecomune.wallet.FamilyMemberNamed.v1"
    topic: ClassVar[str] = WALLET_TOPIC.name

    employee_id: Identifier
    member_id: Identifier
    relationship: Relationship
    named_at: UtcDatetime


@contract
class FamilyMemberRemoved(WalletLedgerEvent):
    """The employee removed a family member: new holds can no longer be for them."""

    type_name: ClassVar[str] = "benecomune.wallet.FamilyMemberRemoved.v1"
    topic: ClassVar[str] = WALLET_TOPIC.name

    employee_id: Identifier
    member_id: Identifier
    removed_at: UtcDatetime


@contract
class DelegateNamed(WalletLedgerEvent):
    """The employee named a delegate (e.g. a caregiver, another beneficiary) who may hold and
    spend from the employee's wallets; a delegate named before is replaced."""

    type_name: ClassVar[str] = "benecomune.wallet.DelegateNamed.v1"
    topic: ClassVar[str] = WALLET_TOPIC.name

    employee_id: Identifier
    delegate_id: Identifier
    replaced_delegate_id: Identifier | None = None
    named_at: UtcDatetime


@contract
class DelegateRevoked(WalletLedgerEvent):
    """The employee revoked their delegate, who may no longer hold or spend."""

    type_name: ClassVar[str] = "benecomune.wallet.DelegateRevoked.v1"
    topic: ClassVar[str] = WALLET_TOPIC.name

    employee_id: Identifier
    delegate_id: Identifier
    revoked_at: UtcDatetime


# --- Fringe benefits: the yearly cap per employee (TUIR art. 51 c. 3) -------------------------


@contract
class FringeYearOpened(WalletLedgerEvent):
    """The fringe-benefit memo ledger of an employee and a year was opened, with its cap."""

    type_name: ClassVar[str] = "benecomune.wallet.FringeYearOpened.v1"
    topic: ClassVar[str] = WALLET_TOPIC.name

    employee_id: Identifier
    year: int = Field(strict=True, ge=2000, le=2100)
    cap_cents: PositiveCents
    with_children: bool
    opened_at: UtcDatetime


@contract
class FringeRecorded(WalletLedgerEvent):
    """Fringe benefits committed (a hold in the fringe category) or given back (a release,
    expiry or refund), recorded on the memo ledger."""

    type_name: ClassVar[str] = "benecomune.wallet.FringeRecorded.v1"
    topic: ClassVar[str] = WALLET_TOPIC.name

    employee_id: Identifier
    year: int = Field(strict=True, ge=2000, le=2100)
    hold_id: Identifier
    direction: Literal["committed", "given_back"]
    amount_cents: PositiveCents
    total_cents: Cents
    recorded_at: UtcDatetime


@contract
class FringeCapWarning(WalletLedgerEvent):
    """A spend would have crossed the yearly cap: it was refused and the employee warned that
    confirming it makes the whole year's fringe amount taxable."""

    type_name: ClassVar[str] = "benecomune.wallet.FringeCapWarning.v1"
    topic: ClassVar[str] = WALLET_TOPIC.name

    employee_id: Identifier
    year: int = Field(strict=True, ge=2000, le=2100)
    cap_cents: PositiveCents
    total_cents: Cents
    requested_cents: PositiveCents
    warned_at: UtcDatetime


@contract
class FringeTaxable(WalletLedgerEvent):
    """The employee confirmed a spend over the cap: the whole year's fringe amount is taxable."""

    type_name: ClassVar[str] = "benecomune.wallet.FringeTaxable.v1"
    topic: ClassVar[str] = WALLET_TOPIC.name

    employee_id: Identifier
    year: int = Field(strict=True, ge=2000, le=2100)
    cap_cents: PositiveCents
    taxable_cents: Cents
    confirmed_at: UtcDatetime


# --- Productivity bonus: the yearly tax-free limit per employee (L. 208/2015 c. 182-184) -------


@contract
class BonusYearOpened(WalletLedgerEvent):
    """The memo ledger of an employee's productivity bonus converted in a year was opened, with
    the yearly limit."""

    type_name: ClassVar[str] = "benecomune.wallet.BonusYearOpened.v1"
    topic: ClassVar[str] = WALLET_TOPIC.name

    employee_id: Identifier
    year: Year
    limit_cents: PositiveCents
    opened_at: UtcDatetime


@contract
class BonusRecorded(WalletLedgerEvent):
    """A conversion counted against the employee's yearly limit (``total_cents`` so far)."""

    type_name: ClassVar[str] = "benecomune.wallet.BonusRecorded.v1"
    topic: ClassVar[str] = WALLET_TOPIC.name

    employee_id: Identifier
    year: Year
    wallet_id: Identifier
    plan_id: Identifier
    amount_cents: PositiveCents
    total_cents: Cents
    recorded_at: UtcDatetime
