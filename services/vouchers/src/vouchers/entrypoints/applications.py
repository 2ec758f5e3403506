"""Applications: a household applies, a social worker reviews, revokes or erases its data."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Depends, status
from pydantic import BaseModel
from servicekit.auth import Principal, require_roles

from vouchers.application import views
from vouchers.application.app import VouchersApplication
from vouchers.application.commands import RejectApplication, Revoke, SubmitApplication
from vouchers.entrypoints.deps import (
    READERS,
    clear_errors,
    forbidden,
    parse_id,
    party_id,
    vouchers_app,
)
from vouchers.entrypoints.views import ApplicationView, application_view

router = APIRouter(tags=["applications"], dependencies=[Depends(clear_errors)])


class ApplicationSubmitted(BaseModel):
    application_id: UUID
    status: str


class Revoked(BaseModel):
    application_id: UUID
    returned_cents: int


class Erasure(BaseModel):
    household_id: UUID
    erased: bool


@router.post(
    "/applications",
    status_code=status.HTTP_201_CREATED,
    summary="Apply for vouchers (a beneficiary, for their household)",
)
def submit_application(
    command: SubmitApplication,
    app: VouchersApplication = Depends(vouchers_app),
    principal: Principal = Depends(require_roles("beneficiary")),
) -> ApplicationSubmitted:
    parse_id(command.round_id, "round_id")
    application_id = app.submit_application(command, party_id(principal))
    return ApplicationSubmitted(application_id=application_id, status="submitted")


@router.get("/applications/mine", summary="The caller's own applications")
def my_applications(
    app: VouchersApplication = Depends(vouchers_app),
    principal: Principal = Depends(require_roles("beneficiary")),
) -> list[ApplicationView]:
    rows = views.applications_of(app.fresh_read_model(), party_id(principal))
    return [application_view(app, a, with_personal_data=True) for a in rows]


@router.get(
    "/applications/{application_id}",
    summary="An application (personal data for its applicant and social workers)",
)
def get_application(
    application_id: UUID,
    app: VouchersApplication = Depends(vouchers_app),
    principal: Principal = Depends(require_roles("beneficiary", *READERS)),
) -> ApplicationView:
    application = app.get_application(application_id)
    if principal.role == "beneficiary" and application.applicant != principal.subject_id:
        raise forbidden("a beneficiary may read only their own applications")
    with_personal_data = principal.role in ("beneficiary", "social_worker")
    return application_view(app, application, with_personal_data=with_personal_data)


@router.post(
    "/applications/{application_id}/approve",
    summary="Approve: the entitlement follows from the round's rules",
)
def approve_application(
    application_id: UUID,
    app: VouchersApplication = Depends(vouchers_app),
    principal: Principal = Depends(require_roles("social_worker")),
) -> ApplicationView:
    app.approve_application(application_id, reviewer=principal.subject)
    return application_view(app, app.get_application(application_id), with_personal_data=True)


@router.post("/applications/{application_id}/reject", summary="Reject, with a reason")
def reject_application(
    application_id: UUID,
    command: RejectApplication,
    app: VouchersApplication = Depends(vouchers_app),
    principal: Principal = Depends(require_roles("social_worker")),
) -> ApplicationView:
    app.reject_application(application_id, command, reviewer=principal.subject)
    return application_view(app, app.get_application(application_id), with_personal_data=True)


@router.post(
    "/applications/{application_id}/revoke",
    summary="Revoke a household's vouchers; their unspent value returns to the round",
)
def revoke_application(
    application_id: UUID,
    command: Revoke,
    app: VouchersApplication = Depends(vouchers_app),
    _: Principal = Depends(require_roles("social_worker")),
) -> Revoked:
    returned = app.revoke_application(application_id, command)
    return Revoked(application_id=application_id, returned_cents=returned)


@router.delete(
    "/households/{household_id}/personal-data",
    summary="Erase a household's personal data; the ledger stays intact",
)
def erase_household(
    household_id: UUID,
    app: VouchersApplication = Depends(vouchers_app),
    _: Principal = Depends(require_roles("social_worker")),
) -> Erasure:
    return Erasure(household_id=household_id, erased=app.erase_household(household_id))
