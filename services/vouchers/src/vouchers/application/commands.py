"""Commands the vouchers service accepts, validated at the edge (pydantic) before the domain
checks its own invariants. Money is integer cents; times are timezone-aware."""

from __future__ import annotations

from typing import Annotated, Literal

from benecomune_contracts.dates import IsoDate, IsoMoment
from benecomune_contracts.text import SINGLE_LINE, NoteText, PlainText, ShortText
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from servicekit.italian_ids import FiscalCode, VatNumber

from vouchers.domain.fund import SourceKind
from vouchers.domain.round import MAX_VALIDITY_DAYS, RoundKind

ServiceCategory = Literal[
    "services_no_cap", "education_childcare", "elderly_care", "transport", "fringe_purchase"
]

Category = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z_]{1,39}$")]
# Text people type (names, titles, references, an address): one line, trimmed, and nothing
# invisible (no NUL, no control or bidirectional-override characters).
Text = PlainText


class Command(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AllocateFund(Command):
    municipality_istat: str = Field(pattern=r"^\d{6}$", description="ISTAT municipality code")
    source_kind: SourceKind
    source_reference: PlainText = Field(description="The act (e.g. OCDPC 658/2020) or the donor")
    amount_cents: int = Field(gt=0, strict=True, description="Integer euro cents")


class TopUpFund(Command):
    source_kind: SourceKind
    source_reference: PlainText
    amount_cents: int = Field(gt=0, strict=True)


class EntitlementRulesInput(Command):
    base_cents: int = Field(ge=0, strict=True)
    per_extra_member_cents: int = Field(ge=0, strict=True)
    per_minor_cents: int = Field(ge=0, strict=True)
    cap_cents: int = Field(gt=0, strict=True)
    isee_threshold_cents: int | None = Field(default=None, ge=0, strict=True)
    other_support_policy: Literal["none", "lower_priority", "reduced_amount"] = "lower_priority"
    other_support_reduction_percent: int = Field(default=0, ge=0, le=100)


class OpenRound(Command):
    fund_id: str
    title: Text
    opens_at: IsoMoment
    closes_at: IsoMoment
    budget_cents: int = Field(gt=0, strict=True)
    rules: EntitlementRulesInput
    denominations_cents: list[int] | None = Field(
        default=None, description="Default: the territory's denominations"
    )
    validity_days: int | None = Field(
        default=None,
        ge=1,
        le=MAX_VALIDITY_DAYS,
        description="How long each voucher is valid from its issue (default: the territory's)",
    )
    excluded_categories: list[Category] = Field(
        default_factory=lambda: ["alcohol", "tobacco", "phone_top_up", "gambling"]
    )
    kind: RoundKind = Field(
        default="food",
        description="food: vouchers spent at affiliated shops' tills (buoni spesa); services: "
        "vouchers a booking holds for care services of the catalog (buoni servizio)",
    )
    service_categories: list[ServiceCategory] = Field(
        default_factory=list,
        max_length=5,
        description="The catalog's welfare categories a services round pays for (at least one; "
        "none for a food round)",
    )

    @model_validator(mode="after")
    def _closes_after_opening(self) -> OpenRound:
        if self.closes_at <= self.opens_at:
            raise ValueError("closes_at must be after opens_at")
        if self.kind == "services" and not self.service_categories:
            raise ValueError("a services round names the service_categories it covers")
        if self.kind == "food" and self.service_categories:
            raise ValueError("a food round covers no service_categories (kind services does)")
        return self


class Person(Command):
    fiscal_code: FiscalCode
    first_name: Text
    last_name: Text
    minor: bool = False


class SubmitApplication(Command):
    round_id: str
    applicant: Person
    other_members: list[Person] = Field(default_factory=list, max_length=30)
    address: Text
    isee_cents: int = Field(ge=0, strict=True, description="ISEE of the household, in cents")
    other_public_support: bool
    self_declaration: bool = Field(
        description="The applicant declares the data true (DPR 445/2000); must be true"
    )

    @model_validator(mode="after")
    def _declared_and_distinct(self) -> SubmitApplication:
        if not self.self_declaration:
            raise ValueError("the self-declaration must be accepted")
        codes = [self.applicant.fiscal_code, *(m.fiscal_code for m in self.other_members)]
        if len(set(codes)) != len(codes):
            raise ValueError("a fiscal code appears twice in the household")
        return self


class RejectApplication(Command):
    reason_code: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z_]{1,39}$")]
    reason: NoteText = Field(description="The social worker's words (sealed: erasure takes them)")


class AffiliateMerchant(Command):
    merchant_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")]
    vat_number: VatNumber
    goods_categories: list[Category] = Field(min_length=1)


class Redeem(Command):
    code: str = Field(min_length=17, max_length=40)
    amount_cents: int = Field(gt=0, strict=True)
    goods_category: Category
    request_id: Annotated[str, StringConstraints(min_length=1, max_length=64), SINGLE_LINE] = Field(
        description="The till's id for this sale: a retry with the same id never spends twice",
    )


class VoidRedemption(Command):
    code: str = Field(min_length=17, max_length=40)
    redemption_id: str


class NameDelegate(Command):
    delegate_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")]


class ClaimReimbursement(Command):
    period_from: IsoDate
    period_to: IsoDate

    @model_validator(mode="after")
    def _period_in_order(self) -> ClaimReimbursement:
        if self.period_to < self.period_from:
            raise ValueError(
                f"the claim's period ends before it starts: period_to {self.period_to} is "
                f"before period_from {self.period_from}"
            )
        return self


class ApproveClaim(Command):
    payment_due_on: IsoDate


class PayClaim(Command):
    payment_reference: ShortText = Field(
        description="The bank transfer's reference (e.g. its CRO); never blank"
    )


class Revoke(Command):
    reason_code: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z_]{1,39}$")]
