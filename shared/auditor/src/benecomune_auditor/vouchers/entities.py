"""What the vouchers tally keeps per fund, round, voucher, shop account and household."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from benecomune_auditor.vouchers.naming import EventRef, Trail

__all__ = [
    "Claim",
    "Commitment",
    "Credit",
    "FundTally",
    "HoldTally",
    "HouseholdTally",
    "MerchantTally",
    "Redemption",
    "RoundTally",
    "SourceLine",
    "VoucherTally",
]


@dataclass
class SourceLine:
    kind: str
    reference: str
    amount_cents: int
    event: EventRef


@dataclass
class FundTally:
    fund_id: str
    municipality_istat: str = ""
    allocated_cents: int = 0
    assigned_cents: int = 0
    sources: list[SourceLine] = field(default_factory=list)
    budgets: dict[str, tuple[int, EventRef]] = field(default_factory=dict)  # round -> amount
    allocated_trail: Trail = field(default_factory=Trail)
    assigned_trail: Trail = field(default_factory=Trail)
    opened: EventRef | None = None


@dataclass(slots=True)
class Commitment:
    application_id: str
    household_id: str
    voucher_ids: list[str]
    amount_cents: int
    event: EventRef


@dataclass
class RoundTally:
    round_id: str
    fund_id: str = ""
    title: str = ""
    budget_cents: int = 0
    excluded_categories: frozenset[str] = frozenset()
    kind: str = "food"  # "services" once its RoundServicesCovered is read
    service_categories: frozenset[str] = frozenset()
    issued_cents: int = 0  # committed to served households
    returned_cents: int = 0
    closed: bool = False
    commitments: list[Commitment] = field(default_factory=list)
    returns: dict[str, tuple[int, str, EventRef]] = field(default_factory=dict)  # voucher -> ...
    # final status -> applications in it: each application counted once, in its last status
    # ("issued" once the round committed vouchers to it, whatever came before)
    applications: dict[str, int] = field(default_factory=dict)
    issued_trail: Trail = field(default_factory=Trail)
    returned_trail: Trail = field(default_factory=Trail)
    opened: EventRef | None = None

    @property
    def available_cents(self) -> int:
        return self.budget_cents - self.issued_cents + self.returned_cents


@dataclass(slots=True)
class Redemption:
    merchant_id: str
    amount_cents: int
    goods_category: str
    event: EventRef
    voided: EventRef | None = None


@dataclass(slots=True)
class HoldTally:
    """A booking's hold on a service voucher, until captured or released."""

    amount_cents: int
    provider_id: str
    event: EventRef
    ended: EventRef | None = None  # captured or released
    redemption_id: str | None = None  # captured: the redemption it became


@dataclass(slots=True)
class VoucherTally:
    voucher_id: str
    round_id: str = ""
    application_id: str = ""
    household_id: str = ""
    value_cents: int = 0
    remaining_cents: int = 0
    status: str = "unknown"  # until its VoucherIssued is read
    redemptions: dict[str, Redemption] = field(default_factory=dict)
    ended: tuple[int, EventRef] | None = None  # expired or revoked: the amount returned
    issued: EventRef | None = None
    expires_at: datetime | None = None
    held_cents: int = 0  # held by bookings' open holds (service vouchers)
    holds: dict[str, HoldTally] | None = None  # by hold id; None until the first


@dataclass(slots=True)
class Credit:
    voucher_id: str
    amount_cents: int
    event: EventRef
    debited: EventRef | None = None
    claim_id: str | None = None
    matched: bool = False  # by the end checks: a redemption on the voucher names this credit


@dataclass(slots=True)
class Claim:
    amount_cents: int
    status: str
    redemption_ids: list[str]
    events: list[EventRef]


@dataclass
class MerchantTally:
    """A shop's account in one round."""

    account_id: str
    round_id: str = ""
    merchant_id: str = ""
    vat_number: str = ""
    redeemed_cents: int = 0  # credited - debited
    claimed_cents: int = 0
    approved_cents: int = 0
    reimbursed_cents: int = 0
    credits: dict[str, Credit] = field(default_factory=dict)
    claims: dict[str, Claim] = field(default_factory=dict)
    redeemed_trail: Trail = field(default_factory=Trail)
    claimed_trail: Trail = field(default_factory=Trail)
    approved_trail: Trail = field(default_factory=Trail)
    reimbursed_trail: Trail = field(default_factory=Trail)
    affiliated: EventRef | None = None  # a shop's affiliation, or a provider's account opened
    suspended: EventRef | None = None  # while suspended: the suspension
    provider: bool = False  # a care provider's account in a services round

    @property
    def outstanding_cents(self) -> int:
        """What the municipality still owes the shop."""
        return self.redeemed_cents - self.reimbursed_cents


@dataclass(slots=True)
class HouseholdTally:
    household_id: str
    round_id: str = ""
    application_id: str = ""
    status: str = ""
    vouchers: int = 0
    issued_cents: int = 0
    redeemed_cents: int = 0
    returned_cents: int = 0
