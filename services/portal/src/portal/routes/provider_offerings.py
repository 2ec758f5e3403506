"""A service provider's offerings with their slots, a form to open a slot and the withdrawal of
an offering (catalog service): a slot's day, time, duration and places are checked next to their
fields, and nothing is sent while one is wrong."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse

from portal.access import Session
from portal.clients import provider as calls
from portal.clients import services_of
from portal.clients.base import Problem
from portal.labels import N_
from portal.rendering import language_of, render
from portal.routes.provider_shared import notice_of, provider_of, title_of
from portal.security import check_csrf

router = APIRouter()

MAX_CAPACITY = 100


def read_slot(
    day: str, start: str, minutes: str, capacity: str
) -> tuple[dict[str, str], tuple[date, time, int, int] | None]:
    """The slot form's fields, read; their mistakes by field name."""
    errors: dict[str, str] = {}
    parsed_day: date | None = None
    parsed_start: time | None = None
    duration = places = 0
    try:
        parsed_day = date.fromisoformat(day.strip())
    except ValueError:
        errors["day"] = N_("Choose the day of the slot.")
    try:
        parsed_start = time.fromisoformat(start.strip())
    except ValueError:
        errors["start"] = N_("Write the start time like 09:30.")
    try:
        duration = int(minutes.strip())
        if not 5 <= duration <= 24 * 60:
            raise ValueError
    except ValueError:
        errors["minutes"] = N_("The duration is a number of minutes, from 5 to 1440.")
    try:
        places = int(capacity.strip())
        if not 1 <= places <= MAX_CAPACITY:
            raise ValueError
    except ValueError:
        errors["capacity"] = N_("The places are a whole number, from 1 to 100.")
    if errors or parsed_day is None or parsed_start is None:
        return errors, None
    return errors, (parsed_day, parsed_start, duration, places)


async def offerings_page(
    request: Request,
    session: Session,
    provider_id: str,
    *,
    problem: Problem | None = None,
    errors: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
    for_offering: str | None = None,
    status: int = 200,
) -> Response:
    services = services_of(request)
    found = await calls.offerings(services, session.token, provider_id)
    listed = await calls.slots(services, session.token, [str(o["offering_id"]) for o in found])
    language = language_of(request)
    rows = [
        {
            "offering": o,
            "title": title_of(o, language),
            "slots": [
                {**slot, "taken": max(0, int(slot["capacity"]) - int(slot["available"]))}
                for slot in listed[str(o["offering_id"])]
            ],
        }
        for o in found
    ]
    context = {
        "rows": rows,
        "problem": problem,
        "errors": errors or {},
        "typed": typed or {},
        "for_offering": for_offering,
        "tomorrow": (datetime.now(request.app.state.territory.zoneinfo) + timedelta(days=1))
        .date()
        .isoformat(),
        "notice": notice_of(request, request.query_params.get("done")),
    }
    return render(request, "provider/offerings.html", context, status=status)


@router.get("/provider/offerings", include_in_schema=False)
async def provider_offerings(request: Request) -> Response:
    session, provider_id = provider_of(request)
    return await offerings_page(request, session, provider_id)


@router.post("/provider/offerings/{offering_id}/slots", include_in_schema=False)
async def open_slot(
    request: Request,
    offering_id: str,
    csrf_token: Annotated[str | None, Form()] = None,
    day: Annotated[str, Form(max_length=20)] = "",
    start: Annotated[str, Form(max_length=20)] = "",
    minutes: Annotated[str, Form(max_length=10)] = "",
    capacity: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    check_csrf(request, csrf_token)
    session, provider_id = provider_of(request)
    typed = {"day": day, "start": start, "minutes": minutes, "capacity": capacity}
    errors, slot = read_slot(day, start, minutes, capacity)
    if slot is None:
        return await offerings_page(
            request,
            session,
            provider_id,
            errors=errors,
            typed=typed,
            for_offering=offering_id,
            status=422,
        )
    when_day, when_time, duration, places = slot
    zone = request.app.state.territory.zoneinfo
    starts = datetime.combine(when_day, when_time, tzinfo=zone)
    ends = starts + timedelta(minutes=duration)
    try:
        await calls.open_slot(
            services_of(request), session.token, offering_id, starts, ends, places
        )
    except Problem as refused:
        if refused.status not in (400, 403, 404, 409, 410, 422):
            raise
        return await offerings_page(
            request,
            session,
            provider_id,
            problem=refused,
            typed=typed,
            for_offering=offering_id,
            status=409 if refused.status == 409 else 422,
        )
    return RedirectResponse("/provider/offerings?done=slot", status_code=303)


@router.post("/provider/offerings/{offering_id}/withdrawal", include_in_schema=False)
async def withdraw_offering(
    request: Request,
    offering_id: str,
    csrf_token: Annotated[str | None, Form()] = None,
    understood: Annotated[str, Form(max_length=10)] = "",
    reason: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """Withdraw an offering for good (the catalog keeps it, with no slot to book): only with
    the box ticked that says it cannot be undone."""
    check_csrf(request, csrf_token)
    session, provider_id = provider_of(request)
    reason = reason.strip()
    errors: dict[str, str] = {}
    if understood != "yes":
        errors["understood"] = N_("Tick the box: a withdrawn offering cannot be published again.")
    if len(reason) > 500:
        errors["reason"] = N_("The reason is too long: at most 500 characters.")
    if errors:
        return await offerings_page(
            request,
            session,
            provider_id,
            errors=errors,
            typed={"reason": reason},
            for_offering=offering_id,
            status=422,
        )
    try:
        await calls.withdraw(services_of(request), session.token, offering_id, reason)
    except Problem as refused:
        if refused.status not in (400, 403, 404, 409, 410, 422):
            raise
        return await offerings_page(
            request,
            session,
            provider_id,
            problem=refused,
            for_offering=offering_id,
            status=409,
        )
    return RedirectResponse("/provider/offerings?done=withdrawn", status_code=303)
