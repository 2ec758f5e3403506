"""Pages of the municipal social worker on the vouchers service: a round's applications queue
(filtered by status), an application's review (the household's facts; approve, or reject with a
reason code and a note), and issuing a round's vouchers down its ranking, with the result.
(``/social/book``, booking for a citizen, is another area's page.)"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse

from portal.access import signed_in
from portal.clients.base import Problem
from portal.clients.social import STATUSES, SocialClient
from portal.labels import N_
from portal.rendering import render
from portal.security import check_csrf

router = APIRouter()

STATUS_LABELS = {
    "submitted": N_("To review"),
    "approved": N_("Approved, waiting for vouchers"),
    "waitlisted": N_("On the waiting list"),
    "served": N_("Vouchers issued"),
    "rejected": N_("Rejected"),
}
STATUS_BADGES = {
    "submitted": "bg-warning text-dark",
    "approved": "bg-primary",
    "waitlisted": "bg-secondary",
    "served": "bg-success",
    "rejected": "bg-danger",
}
REASON_CODES = {
    "isee_above_threshold": N_("ISEE above the round's threshold"),
    "incomplete_documents": N_("Documents missing or incomplete"),
    "not_resident": N_("Not resident in the municipality"),
    "false_declaration": N_("The self-declaration does not match the records"),
    "other": N_("Another reason (explained in the note)"),
}
REVIEW_REFUSALS = {
    "not_eligible": N_(
        "The household is not eligible under the round's rules (its ISEE is above the "
        "threshold): reject it with that reason."
    ),
    "invalid_transition": N_(
        "This application was already reviewed, or the round's rules entitle it to nothing."
    ),
    "personal_data_unavailable": N_(
        "The household's personal data was erased: it can only be rejected."
    ),
    "validation_failed": N_("Choose a reason and write a note (plain text) for the rejection."),
}
DONE_NOTICES = {
    "approved": N_(
        "The application was approved. Its vouchers come with the round's next issuance."
    ),
    "rejected": N_("The application was rejected. The household is told the reason code."),
}


def social_client(request: Request) -> SocialClient:
    session = signed_in(request, "social_worker")
    return SocialClient(request.app.state.services.vouchers, session.token)


def common(context: dict[str, Any]) -> dict[str, Any]:
    return {
        "status_labels": STATUS_LABELS,
        "status_badges": STATUS_BADGES,
        "reason_codes": REASON_CODES,
        **context,
    }


async def queue_page(
    request: Request,
    client: SocialClient,
    round_id: str,
    status: str,
    *,
    issuance: dict[str, Any] | None = None,
    issue_error: tuple[str, dict[str, str]] | None = None,
    http_status: int = 200,
) -> Response:
    rounds = await client.rounds()  # food and service vouchers alike: households apply to both
    chosen = next((r for r in rounds if r["round_id"] == round_id), None)
    if chosen is None and rounds:
        chosen = rounds[-1]  # the newest round
    status = status if status in STATUSES else ""
    applications = await client.applications(chosen["round_id"], status) if chosen else []
    context = common(
        {
            "rounds": rounds,
            "round": chosen,
            "status": status,
            "statuses": STATUSES,
            "applications": applications,
            "issuance": issuance,
            "issue_error": issue_error,
        }
    )
    return render(request, "social/applications.html", context, http_status)


@router.get("/social/applications", include_in_schema=False)
async def applications(
    request: Request, round: str = "", status: str = "", served: int = -1, waitlisted: int = -1
) -> Response:
    client = social_client(request)
    issuance = {"served": served, "waitlisted": waitlisted} if served >= 0 else None
    return await queue_page(request, client, round, status, issuance=issuance)


@router.post("/social/rounds/{round_id}/issue", include_in_schema=False)
async def issue(
    request: Request, round_id: str, csrf_token: Annotated[str | None, Form()] = None
) -> Response:
    check_csrf(request, csrf_token)
    client = social_client(request)
    try:
        done = await client.issue(round_id)
    except Problem as problem:
        refusal: tuple[str, dict[str, str]]
        if problem.status == 403:
            refusal = (N_("Only the territory's operator may issue this round's vouchers."), {})
        else:
            reason = problem.detail or problem.title
            refusal = (N_("The vouchers could not be issued: %(reason)s"), {"reason": reason})
        return await queue_page(request, client, round_id, "", issue_error=refusal, http_status=422)
    target = (
        f"/social/applications?round={round_id}"
        f"&served={int(done['served'])}&waitlisted={int(done['waitlisted'])}"
    )
    return RedirectResponse(target, status_code=303)


@router.get("/social/applications/{application_id}", include_in_schema=False)
async def review(request: Request, application_id: str, done: str = "") -> Response:
    client = social_client(request)
    return await review_page(request, client, application_id, done=done)


async def review_page(
    request: Request,
    client: SocialClient,
    application_id: str,
    *,
    done: str = "",
    error: str | None = None,
    form: dict[str, str] | None = None,
    http_status: int = 200,
) -> Response:
    try:
        application = await client.application(application_id)
    except Problem as problem:
        if problem.status in (404, 422):
            return render(request, "error.html", {"problem": "not_found"}, status=404)
        raise
    round_ = await client.round(application["round_id"])
    context = common(
        {
            "application": application,
            "round": round_,
            "notice": None,
            "done_key": done if done in DONE_NOTICES else "",
            "done_notices": DONE_NOTICES,
            "error": error,
            "form": form or {},
        }
    )
    return render(request, "social/review.html", context, http_status)


@router.post("/social/applications/{application_id}/approve", include_in_schema=False)
async def approve(
    request: Request, application_id: str, csrf_token: Annotated[str | None, Form()] = None
) -> Response:
    check_csrf(request, csrf_token)
    client = social_client(request)
    try:
        await client.approve(application_id)
    except Problem as problem:
        message = REVIEW_REFUSALS.get(problem.code, N_("The approval was refused."))
        return await review_page(request, client, application_id, error=message, http_status=422)
    return RedirectResponse(f"/social/applications/{application_id}?done=approved", status_code=303)


@router.post("/social/applications/{application_id}/reject", include_in_schema=False)
async def reject(
    request: Request,
    application_id: str,
    csrf_token: Annotated[str | None, Form()] = None,
    reason_code: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(request, csrf_token)
    client = social_client(request)
    form = {"reason_code": reason_code, "note": note}
    if reason_code not in REASON_CODES or not note.strip():
        message = N_("Choose a reason and write a note for the rejection.")
        return await review_page(
            request, client, application_id, error=message, form=form, http_status=422
        )
    try:
        await client.reject(application_id, reason_code, note.strip())
    except Problem as problem:
        message = REVIEW_REFUSALS.get(problem.code, N_("The rejection was refused."))
        return await review_page(
            request, client, application_id, error=message, form=form, http_status=422
        )
    return RedirectResponse(f"/social/applications/{application_id}?done=rejected", status_code=303)
