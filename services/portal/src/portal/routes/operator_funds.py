"""The operator's funds and voucher rounds, and opening a round (vouchers service): a round's
title, fund, kind, days and amounts are checked next to their fields, and nothing is sent while
one is wrong."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse

from portal.access import Session
from portal.clients import operator as calls
from portal.clients import services_of
from portal.clients.base import Problem
from portal.clients.catalog import CATEGORIES
from portal.forms import FieldError, euro_cents
from portal.labels import N_
from portal.rendering import render
from portal.routes.operator_shared import (
    municipality_name,
    notice_of,
    operator,
    refusal,
)
from portal.security import check_csrf

router = APIRouter()

ROUND_KINDS = {
    "food": N_("Food vouchers (spent at the shops' tills)"),
    "services": N_("Service vouchers (spent on care services of the catalogue)"),
}
AMOUNTS = ("budget", "base", "per_extra_member", "per_minor", "cap", "isee_threshold")


def round_state(found: dict[str, Any]) -> str:
    if found.get("closed"):
        return "closed"
    if found.get("accepting_applications"):
        return "accepting"
    opens = datetime.fromisoformat(found["opens_at"])
    return "not_open" if opens > datetime.now(opens.tzinfo) else "ended"


ROUND_STATES = {
    "accepting": N_("Taking applications"),
    "not_open": N_("Not open yet"),
    "ended": N_("Applications ended"),
    "closed": N_("Closed"),
}


async def funds_page(
    request: Request,
    session: Session,
    *,
    typed: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    problem: Problem | None = None,
    status: int = 200,
) -> Response:
    services = services_of(request)
    funds, rounds = await asyncio.gather(
        calls.funds(services, session.token), calls.rounds(services, session.token)
    )
    for fund in funds:
        fund["municipality"] = municipality_name(request, fund["municipality_istat"])
    for found in rounds:
        found["municipality"] = municipality_name(request, found["municipality_istat"])
        found["state"] = round_state(found)
    zone = request.app.state.territory.zoneinfo
    today = datetime.now(zone).date()
    defaults = {
        "opens": today.isoformat(),
        "closes": (today + timedelta(days=30)).isoformat(),
        "kind": "food",
        "categories": [],
    }
    context = {
        "funds": sorted(funds, key=lambda f: f["municipality"]),
        "rounds": rounds,
        "typed": {**defaults, **(typed or {})},
        "errors": errors or {},
        "problem": problem,
        "round_states": ROUND_STATES,
        "round_kinds": ROUND_KINDS,
        "categories": CATEGORIES,
        "notice": notice_of(request),
    }
    return render(request, "operator/funds.html", context, status=status)


@router.get("/operator/funds", include_in_schema=False)
async def funds(request: Request) -> Response:
    return await funds_page(request, operator(request))


def read_day(text: str, errors: dict[str, str], name: str) -> date | None:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        errors[name] = N_("Choose a valid date.")
        return None


@router.post("/operator/funds/rounds", include_in_schema=False)
async def open_round(
    request: Request,
    csrf_token: Annotated[str | None, Form()] = None,
    fund_id: Annotated[str, Form(max_length=64)] = "",
    title: Annotated[str, Form(max_length=400)] = "",
    kind: Annotated[str, Form(max_length=20)] = "food",
    categories: Annotated[list[str] | None, Form()] = None,
    opens: Annotated[str, Form(max_length=20)] = "",
    closes: Annotated[str, Form(max_length=20)] = "",
    budget: Annotated[str, Form(max_length=40)] = "",
    base: Annotated[str, Form(max_length=40)] = "",
    per_extra_member: Annotated[str, Form(max_length=40)] = "",
    per_minor: Annotated[str, Form(max_length=40)] = "",
    cap: Annotated[str, Form(max_length=40)] = "",
    isee_threshold: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    check_csrf(request, csrf_token)
    session = operator(request)
    chosen = [c for c in (categories or []) if c in CATEGORIES]
    typed: dict[str, Any] = {
        "fund_id": fund_id,
        "title": title,
        "kind": kind,
        "categories": chosen,
        "opens": opens,
        "closes": closes,
        "budget": budget,
        "base": base,
        "per_extra_member": per_extra_member,
        "per_minor": per_minor,
        "cap": cap,
        "isee_threshold": isee_threshold,
    }
    errors: dict[str, str] = {}
    title = title.strip()
    if not title:
        errors["title"] = N_("Give the round a title.")
    elif len(title) > 200:
        errors["title"] = N_("The title is too long: at most 200 characters.")
    if not fund_id:
        errors["fund_id"] = N_("Choose the fund that pays for the round.")
    if kind not in ROUND_KINDS:
        errors["kind"] = N_("Choose the kind of vouchers.")
    elif kind == "services" and not chosen:
        errors["categories"] = N_("Choose the care services the vouchers pay for.")
    first = read_day(opens, errors, "opens")
    last = read_day(closes, errors, "closes")
    if first and last and last < first:
        errors["closes"] = N_("The round closes after it opens.")
    cents: dict[str, int | None] = {}
    for name in AMOUNTS:
        text = typed[name]
        required = name not in ("isee_threshold", "per_extra_member", "per_minor")
        try:
            cents[name] = euro_cents(text, required=required)
        except FieldError as error:
            errors[name] = error.message
    budget_cents, cap_cents = cents.get("budget"), cents.get("cap")
    if budget_cents and cap_cents and cap_cents > budget_cents:
        errors["cap"] = N_("The cap per household is more than the whole budget.")
    services = services_of(request)
    if not errors:
        # A double submit (or a reload) would open the same round twice: the API takes no
        # request id, so a round with this title on this fund is taken as already opened.
        existing = await calls.rounds(services, session.token)
        if any(r["fund_id"] == fund_id and r["title"] == title for r in existing):
            errors["title"] = N_("A round with this title is already open on this fund.")
    if errors:
        return await funds_page(request, session, typed=typed, errors=errors, status=422)
    assert first is not None and last is not None
    zone = request.app.state.territory.zoneinfo
    body = {
        "fund_id": fund_id,
        "title": title,
        "opens_at": datetime.combine(first, time.min, tzinfo=zone).isoformat(),
        # open for the whole last day: it closes at the following midnight
        "closes_at": datetime.combine(last + timedelta(days=1), time.min, tzinfo=zone).isoformat(),
        "budget_cents": cents["budget"],
        "kind": kind,
        "service_categories": chosen if kind == "services" else [],
        "rules": {
            "base_cents": cents["base"],
            "per_extra_member_cents": cents["per_extra_member"] or 0,
            "per_minor_cents": cents["per_minor"] or 0,
            "cap_cents": cents["cap"],
            "isee_threshold_cents": cents["isee_threshold"],
        },
    }
    try:
        await calls.open_round(services, session.token, body)
    except Problem as error:
        problem = refusal(error)
        fields = {k: v for k, v in problem.field_errors().items() if k in typed}
        return await funds_page(
            request, session, typed=typed, errors=fields, problem=problem, status=422
        )
    return RedirectResponse("/operator/funds?done=round", status_code=303)
