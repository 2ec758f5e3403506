"""Applying for vouchers: the rounds taking applications, a stepper (household, income and ISEE,
declarations, summary) and the user's applications with their status. What each step checks is
in ``household_steps``; the draft, kept between the steps in the user's browser, in
``household_draft`` (which says why a cookie).
"""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse

from portal import i18n
from portal.access import Session, signed_in
from portal.clients import household as calls
from portal.clients.base import Problem
from portal.labels import N_
from portal.rendering import render
from portal.routes.household_draft import DRAFT_COOKIE as DRAFT_COOKIE  # named here too
from portal.routes.household_draft import MAX_OTHER_MEMBERS, Draft, Member, draft_of, drop, keep
from portal.routes.household_steps import (
    CHECKS,
    application_of,
    first_incomplete,
    isee_cents,
    take_step_fields,
)
from portal.security import check_csrf

router = APIRouter()

ROLE = "beneficiary"
STEPS = ("household", "income", "declarations", "summary")
STEP_LABELS = (
    N_("Household"),
    N_("Income and ISEE"),
    N_("Declarations"),
    N_("Summary"),
)
STATUS_LABELS = {
    "submitted": N_("Submitted: waiting for review"),
    "approved": N_("Approved: waiting for the vouchers"),
    "rejected": N_("Rejected"),
    "waitlisted": N_("On the waiting list"),
    "served": N_("Vouchers issued"),
}


def see_other(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


# --- pages ------------------------------------------------------------------------------------


@router.get("/me/applications", include_in_schema=False)
async def applications(request: Request, sent: str | None = None) -> Response:
    """The rounds taking applications (apply, or go on with the draft) and the user's own
    applications with their status."""
    session = signed_in(request, ROLE)
    services = request.app.state.services
    rounds = await calls.open_rounds(services, session.token)
    mine = await calls.my_applications(services, session.token)
    mine.sort(key=lambda a: a.get("submitted_at") or "", reverse=True)
    applied = {a["round_id"] for a in mine}
    titles = {r["round_id"]: r["title"] for r in rounds}
    others = sorted({a["round_id"] for a in mine} - set(titles))
    for found in await asyncio.gather(
        *(calls.round_of(services, session.token, round_id) for round_id in others),
        return_exceptions=True,
    ):
        if isinstance(found, dict):
            titles[found["round_id"]] = found["title"]
    draft = draft_of(request, session)
    notice = None
    if sent and any(a["application_id"] == sent for a in mine):
        notice = i18n.translations(request.state.language).gettext(
            N_("Your application was sent. You will find its progress here and in your messages.")
        )
    return render(
        request,
        "household/applications.html",
        {
            "rounds": rounds,
            "applied": applied,
            "titles": titles,
            "applications": mine,
            "draft": draft,
            "status_labels": STATUS_LABELS,
            "notice": notice,
        },
    )


@router.post("/me/applications/start", include_in_schema=False)
async def start(
    request: Request,
    round_id: Annotated[str, Form(max_length=64)],
    csrf_token: Annotated[str | None, Form()] = None,
) -> Response:
    """Begin (or go on with) the application in a round: a new draft unless there is one for
    this round already."""
    check_csrf(request, csrf_token)
    session = signed_in(request, ROLE)
    found = await calls.round_of(request.app.state.services, session.token, round_id)
    draft = draft_of(request, session)
    if draft is None or draft.round_id != found["round_id"]:
        assert session.subject_id is not None
        draft = Draft(owner=session.subject_id, round_id=found["round_id"])
    return keep(request, see_other("/me/applications/apply/household"), draft)


@router.post("/me/applications/draft/discard", include_in_schema=False)
async def discard(request: Request, csrf_token: Annotated[str | None, Form()] = None) -> Response:
    check_csrf(request, csrf_token)
    signed_in(request, ROLE)
    return drop(request, see_other("/me/applications"))


async def step_page(
    request: Request,
    session: Session,
    draft: Draft,
    step: str,
    errors: dict[str, str] | None = None,
    problem: Problem | None = None,
    status: int = 200,
) -> Response:
    found = await calls.round_of(request.app.state.services, session.token, draft.round_id)
    translate = i18n.translations(request.state.language)
    context = {
        "step": step,
        "current": STEPS.index(step) + 1,
        "step_labels": [translate.gettext(label) for label in STEP_LABELS],
        "round": found,
        "draft": draft,
        "errors": errors or {},
        "problem": problem,
        "max_members": MAX_OTHER_MEMBERS,
    }
    if step == "summary":
        context["isee_cents"] = isee_cents(draft.isee)
        context["others"] = [m for m in draft.members if not m.blank()]
    return render(request, "household/apply.html", context, status=status)


@router.get("/me/applications/apply/{step}", include_in_schema=False)
async def show_step(request: Request, step: str) -> Response:
    session = signed_in(request, ROLE)
    draft = draft_of(request, session)
    if draft is None or step not in STEPS:
        return see_other("/me/applications")
    before = STEPS[: STEPS.index(step)]
    missing = next((s for s in before if CHECKS[s](draft)), None)
    if missing:  # a later step only once the earlier ones are complete
        return see_other(f"/me/applications/apply/{missing}")
    return await step_page(request, session, draft, step)


@router.post("/me/applications/apply/{step}", include_in_schema=False)
async def post_step(request: Request, step: str) -> Response:
    """A step's answers: ``action`` is ``next`` (checked, then the next step), ``back`` (kept
    as typed, the previous step), ``add`` or ``remove-<n>`` (a household member's row)."""
    form = await request.form()
    check_csrf(request, str(form.get("csrf_token") or ""))
    session = signed_in(request, ROLE)
    draft = draft_of(request, session)
    if draft is None or step not in STEPS:
        return see_other("/me/applications")
    action = str(form.get("action") or "next")
    if step == "summary":
        return await submit(request, session, draft, action)
    take_step_fields(draft, step, form)
    here = f"/me/applications/apply/{step}"
    if action == "add" and step == "household":
        if len(draft.members) < MAX_OTHER_MEMBERS:
            draft.members.append(Member())
        return keep(request, see_other(f"{here}#member-{len(draft.members) - 1}"), draft)
    if action.startswith("remove-") and step == "household":
        index = action.removeprefix("remove-")
        if index.isdigit() and int(index) < len(draft.members):
            del draft.members[int(index)]
        return keep(request, see_other(here), draft)
    position = STEPS.index(step)
    if action == "back":
        target = STEPS[position - 1] if position > 0 else None
        return keep(
            request,
            see_other(f"/me/applications/apply/{target}" if target else "/me/applications"),
            draft,
        )
    errors = CHECKS[step](draft)
    if errors:
        page = await step_page(request, session, draft, step, errors=errors, status=422)
        return keep(request, page, draft)
    if step == "household":
        draft.members = [m for m in draft.members if not m.blank()]
    return keep(request, see_other(f"/me/applications/apply/{STEPS[position + 1]}"), draft)


async def submit(request: Request, session: Session, draft: Draft, action: str) -> Response:
    """Send the application. Sent twice (a double click, a reloaded POST), the service answers
    ``already_applied`` for the second: the user's application in the round is the answer."""
    if action == "back":
        return keep(request, see_other("/me/applications/apply/declarations"), draft)
    missing = first_incomplete(draft)
    if missing:
        return see_other(f"/me/applications/apply/{missing}")
    services = request.app.state.services
    try:
        sent = await calls.submit_application(services, session.token, application_of(draft))
    except Problem as problem:
        if problem.code == "already_applied":
            mine = await calls.my_applications(services, session.token)
            earlier = next((a for a in mine if a["round_id"] == draft.round_id), None)
            if earlier is not None:
                done = see_other(f"/me/applications?sent={earlier['application_id']}")
                return drop(request, done)
        page = await step_page(request, session, draft, "summary", problem=problem, status=409)
        return page
    return drop(request, see_other(f"/me/applications?sent={sent['application_id']}"))
