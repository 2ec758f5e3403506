"""Applying for vouchers: the rounds taking applications, a stepper (household, income and ISEE,
declarations, summary) and the user's applications with their status.

Where the draft lives between steps, and across a logout
-------------------------------------------------------
The vouchers service has no drafts: ``POST /applications`` takes a whole application at once,
and the portal owns no data. So the draft is kept by the user's own browser, in one HttpOnly,
SameSite=Lax cookie (``bc_application_draft``, Secure off the loopback, 30 days): the answers
typed so far, the round, and the account they belong to. Why a cookie and not hidden fields
alone: hidden fields carry a draft from one step to the next, but not across a logout, a closed
tab or another day, which the issue asks for; the cookie goes with every request anyway, so
each step's form carries only its own fields (one source of truth, nothing to reconcile).
HttpOnly keeps the personal data out of the page's scripts; the draft is read only when the
same account is signed in (another user on the same browser sees nothing of it, and starts
their own); it is dropped when the application is sent or the user discards it. The service
validates everything again on submission; the portal's checks here only tell the user early,
next to the field.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import re
from dataclasses import asdict, dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse
from servicekit.italian_ids import InvalidItalianId, validate_fiscal_code

from portal import i18n
from portal.access import Session, signed_in
from portal.clients import household as calls
from portal.clients.base import Problem
from portal.forms import FieldError, euro_cents
from portal.labels import N_
from portal.rendering import render
from portal.security import check_csrf, secure_cookies, set_cookie

router = APIRouter()

ROLE = "beneficiary"
DRAFT_COOKIE = "bc_application_draft"
DRAFT_SECONDS = 30 * 24 * 3600
MAX_OTHER_MEMBERS = 10
NAME_LENGTH = 60
ADDRESS_LENGTH = 200
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
_ZERO = re.compile(r"^0+([.,]0{1,2})?$")


@dataclass
class Member:
    first_name: str = ""
    last_name: str = ""
    fiscal_code: str = ""
    minor: bool = False

    def blank(self) -> bool:
        return not (self.first_name.strip() or self.last_name.strip() or self.fiscal_code.strip())


@dataclass
class Draft:
    """What the user typed so far, as typed (a wrong value is kept, to be corrected)."""

    owner: str
    round_id: str
    first_name: str = ""
    last_name: str = ""
    fiscal_code: str = ""
    address: str = ""
    members: list[Member] = field(default_factory=list)
    isee: str = ""
    other_support: str = ""  # "yes", "no" or "" (not answered)
    declared: bool = False

    def encode(self) -> str:
        raw = json.dumps(asdict(self), separators=(",", ":"), ensure_ascii=False)
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, value: str) -> Draft | None:
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
            data = json.loads(raw)
            members = [Member(**m) for m in data.pop("members", [])][:MAX_OTHER_MEMBERS]
            return cls(**data, members=members)
        except (binascii.Error, ValueError, TypeError, AttributeError):
            return None


def draft_of(request: Request, session: Session) -> Draft | None:
    """The signed-in user's draft (another account's draft on this browser is not theirs)."""
    value = request.cookies.get(DRAFT_COOKIE)
    draft = Draft.decode(value) if value else None
    if draft is None or draft.owner != session.subject_id:
        return None
    return draft


def keep(request: Request, response: Response, draft: Draft) -> Response:
    set_cookie(request, response, DRAFT_COOKIE, draft.encode(), max_age=DRAFT_SECONDS)
    return response


def drop(request: Request, response: Response) -> Response:
    response.delete_cookie(
        DRAFT_COOKIE, path="/", httponly=True, samesite="lax", secure=secure_cookies(request)
    )
    return response


def see_other(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


# --- what each step checks --------------------------------------------------------------------


def _text(value: str, limit: int) -> str | None:
    """A message when a required text is empty or too long."""
    if not value.strip():
        return N_("Fill in this field.")
    if len(value.strip()) > limit:
        return N_("This is too long.")
    return None


def _fiscal_code(value: str) -> tuple[str | None, str | None]:
    """The normalised code, or a message."""
    if not value.strip():
        return None, N_("Fill in this field.")
    try:
        return validate_fiscal_code(value), None
    except InvalidItalianId:
        return None, N_("This is not a valid fiscal code: check its 16 characters.")


def household_errors(draft: Draft) -> dict[str, str]:
    errors: dict[str, str] = {}
    seen: set[str] = set()
    people = [("", Member(draft.first_name, draft.last_name, draft.fiscal_code))] + [
        (f"member-{i}-", m) for i, m in enumerate(draft.members)
    ]
    for prefix, person in people:
        if prefix and person.blank():
            continue
        for name, limit in (("first_name", NAME_LENGTH), ("last_name", NAME_LENGTH)):
            message = _text(getattr(person, name), limit)
            if message:
                errors[prefix + name] = message
        code, message = _fiscal_code(person.fiscal_code)
        if message:
            errors[prefix + "fiscal_code"] = message
        elif code in seen:
            errors[prefix + "fiscal_code"] = N_("This fiscal code is already in the household.")
        elif code:
            seen.add(code)
    message = _text(draft.address, ADDRESS_LENGTH)
    if message:
        errors["address"] = message
    return errors


def isee_cents(text: str) -> int:
    """The ISEE typed in euro (``12.345,67``); zero is a valid ISEE."""
    if _ZERO.match(text.strip().replace("€", "").strip()):
        return 0
    cents = euro_cents(text)
    assert cents is not None
    return cents


def income_errors(draft: Draft) -> dict[str, str]:
    errors: dict[str, str] = {}
    try:
        isee_cents(draft.isee)
    except FieldError as error:
        errors["isee"] = error.message
    if draft.other_support not in ("yes", "no"):
        errors["other_support"] = N_("Answer yes or no.")
    return errors


def declarations_errors(draft: Draft) -> dict[str, str]:
    if not draft.declared:
        return {"declared": N_("Tick the declaration to go on: the application needs it.")}
    return {}


CHECKS = {"household": household_errors, "income": income_errors}
CHECKS["declarations"] = declarations_errors


def first_incomplete(draft: Draft) -> str | None:
    return next((step for step, check in CHECKS.items() if check(draft)), None)


def application_of(draft: Draft) -> dict[str, Any]:
    """The body of ``POST /applications`` (the draft complete and checked)."""

    def person(m: Member) -> dict[str, Any]:
        return {
            "fiscal_code": validate_fiscal_code(m.fiscal_code),
            "first_name": m.first_name.strip(),
            "last_name": m.last_name.strip(),
            "minor": m.minor,
        }

    return {
        "round_id": draft.round_id,
        "applicant": person(Member(draft.first_name, draft.last_name, draft.fiscal_code)),
        "other_members": [person(m) for m in draft.members if not m.blank()],
        "address": draft.address.strip(),
        "isee_cents": isee_cents(draft.isee),
        "other_public_support": draft.other_support == "yes",
        "self_declaration": draft.declared,
    }


def take_step_fields(draft: Draft, step: str, form: Any) -> None:
    """The step's fields from the posted form into the draft, as typed."""

    def text(name: str) -> str:
        return str(form.get(name) or "")[:ADDRESS_LENGTH]

    if step == "household":
        draft.first_name = text("first_name")
        draft.last_name = text("last_name")
        draft.fiscal_code = text("fiscal_code")
        draft.address = text("address")
        try:
            count = min(int(str(form.get("member_count") or 0)), MAX_OTHER_MEMBERS)
        except ValueError:
            count = 0
        draft.members = [
            Member(
                first_name=text(f"member-{i}-first_name"),
                last_name=text(f"member-{i}-last_name"),
                fiscal_code=text(f"member-{i}-fiscal_code"),
                minor=form.get(f"member-{i}-minor") == "yes",
            )
            for i in range(max(count, 0))
        ]
    elif step == "income":
        draft.isee = text("isee")
        draft.other_support = text("other_support")
    elif step == "declarations":
        draft.declared = form.get("declared") == "yes"


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
