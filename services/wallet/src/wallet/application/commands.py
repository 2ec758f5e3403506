"""Commands the wallet service accepts, validated at the edge (pydantic) before the domain
checks its own rules. Money is integer cents; times are timezone-aware."""

from __future__ import annotations

from typing import Annotated, Literal

from benecomune_contracts.dates import IsoDate, IsoMoment
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from servicekit.italian_ids import FiscalCode, VatNumber

from wallet.domain.accounts import Category

PartyId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
# Whom a beneficiary token may name (the subject ids of servicekit.auth).
BeneficiaryId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$")]
MEMBER_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
MemberId = Annotated[
    str,
    StringConstraints(pattern=MEMBER_ID_PATTERN),
    Field(description="A pseudonymous id the employee chooses (e.g. child-1): never a name"),
]
RequestId = Annotated[str, StringConstraints(min_length=1, max_length=64)]
SpendingCategory = Literal[
    "services_no_cap", "education_childcare", "elderly_care", "transport", "fringe_purchase"
]


class Command(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CreatePlan(Command):
    vat_number: VatNumber
    year: int = Field(ge=2000, le=2100)
    starts_on: IsoDate
    ends_on: IsoDate
    budget_cents: int = Field(gt=0, strict=True)
    credit_per_employee_cents: int = Field(ge=0, strict=True)
    categories: list[SpendingCategory] = Field(min_length=1)
    end_policy: Literal["reset", "carry_over"] = "reset"
    productivity_bonus: bool = Field(
        default=False,
        description="Employees may convert their productivity bonus (premio di risultato) into "
        "credit of this plan, up to the yearly tax-free limit",
    )

    @model_validator(mode="after")
    def _dates(self) -> CreatePlan:
        if self.ends_on < self.starts_on:
            raise ValueError("ends_on must not be before starts_on")
        return self


class Employee(Command):
    employee_id: PartyId
    dependent_children: bool = False
    fiscal_code: FiscalCode | None = Field(
        default=None,
        description="Checked, and refused (409) if another employee id of the plan has it; "
        "never stored (only a keyed fingerprint)",
    )


class Enrol(Command):
    employees: list[Employee] = Field(min_length=1, max_length=10_000)


class Grant(Command):
    employee_id: PartyId
    amount_cents: int | None = Field(
        default=None, gt=0, strict=True, description="Default: the plan's credit per employee"
    )
    category: Category = "general"


class HoldFunds(Command):
    request_id: RequestId = Field(description="The caller's id: a retry never holds twice")
    provider_id: PartyId
    category: SpendingCategory
    amount_cents: int = Field(gt=0, strict=True)
    expires_at: IsoMoment
    confirm_taxable: bool = Field(
        default=False,
        description="The employee accepts that crossing the fringe cap makes the whole "
        "year's fringe amount taxable",
    )
    for_member_id: MemberId | None = Field(
        default=None,
        description="The employee's family member the booking is for (default: the employee)",
    )


class Spend(Command):
    """Hold and capture at once (a purchase paid on the spot)."""

    request_id: RequestId
    provider_id: PartyId
    category: SpendingCategory
    amount_cents: int = Field(gt=0, strict=True)
    confirm_taxable: bool = False
    for_member_id: MemberId | None = None


class Capture(Command):
    request_id: RequestId
    amount_cents: int | None = Field(default=None, gt=0, strict=True)


class Release(Command):
    request_id: RequestId


class Refund(Command):
    request_id: RequestId
    amount_cents: int = Field(gt=0, strict=True)


class ClosePlan(Command):
    next_plan_id: str | None = Field(
        default=None, description="For carry_over: the employer's next plan"
    )


class NameFamilyMember(Command):
    relationship: Literal["spouse", "child", "parent", "other_dependent"]


class NameDelegate(Command):
    delegate_id: BeneficiaryId = Field(
        description="The beneficiary (e.g. a caregiver) who may hold and spend from the wallets"
    )


class ConvertBonus(Command):
    """The employer records that an employee takes (part of) their productivity bonus as
    welfare credit."""

    request_id: RequestId = Field(description="HR's id: a retry never converts twice")
    employee_id: PartyId
    amount_cents: int = Field(gt=0, strict=True)
