"""Response models shared by several routers: an application as each role may see it."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, Field

from vouchers.application.app import VouchersApplication
from vouchers.application.views import ApplicationRow
from vouchers.domain.household_application import HouseholdApplication, Status


class PersonView(BaseModel):
    fiscal_code: str
    first_name: str
    last_name: str
    minor: bool


class PersonalDataView(BaseModel):
    members: list[PersonView]
    address: str


class ApplicationView(BaseModel):
    application_id: UUID
    round_id: UUID
    household_id: UUID = Field(description="Pseudonymous: names no one")
    applicant: str = Field(description="The applying beneficiary's id")
    status: Status
    submitted_at: datetime
    members: int
    minors: int
    isee_cents: int
    other_public_support: bool
    entitlement_cents: int = Field(description="Set on approval by the round's rules")
    voucher_values_cents: list[int]
    priority: int = Field(description="1 is served first; 0 before approval")
    waitlist_rank: int | None
    rejection_reason: str | None
    voucher_ids: list[UUID]
    personal_data: PersonalDataView | None = Field(
        default=None, description="Only for the social worker and the applicant"
    )
    personal_data_erased: bool = Field(
        default=False, description="The household's personal data was erased on request"
    )


def application_view(
    app: VouchersApplication,
    application: HouseholdApplication | ApplicationRow,
    *,
    with_personal_data: bool,
) -> ApplicationView:
    """The same view of an aggregate (a read by id) and of a read model's row (a list)."""
    personal_data: PersonalDataView | None = None
    erased = False
    if with_personal_data:
        opened = app.personal_data(application)
        erased = opened is None
        personal_data = None if opened is None else PersonalDataView.model_validate(opened)
    return ApplicationView(
        application_id=application.id,
        round_id=application.round_id,
        household_id=application.household_id,
        applicant=application.applicant,
        status=application.status,
        submitted_at=application.created_on,
        members=application.members,
        minors=application.minors,
        isee_cents=application.isee_cents,
        other_public_support=application.other_support,
        entitlement_cents=application.entitlement_cents,
        voucher_values_cents=application.voucher_values,
        priority=application.priority,
        waitlist_rank=application.rank if application.status == "waitlisted" else None,
        rejection_reason=app.rejection_reason(application),
        voucher_ids=[UUID(v) for v in application.voucher_ids],
        personal_data=personal_data,
        personal_data_erased=erased,
    )
