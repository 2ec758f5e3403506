"""Pages of a service provider: the booking requests to accept or decline before their deadline
and the deliveries to mark (booking service), its offerings with their slots and a form to open
one (catalog service), and its statement (booking service). Forms post and redirect; a refusal
is shown above the form that caused it, a field's mistake next to the field."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse

from portal import i18n
from portal.access import Session, signed_in
from portal.clients import Services
from portal.clients import provider as calls
from portal.clients.base import Problem
from portal.labels import N_
from portal.rendering import language_of, render
from portal.security import check_csrf

router = APIRouter()

NOTICES = {
    "accepted": N_("The request was accepted: the family is told."),
    "declined": N_("The request was declined: the family is told and the funds are released."),
    "delivered": N_(
        "The delivery was recorded: the family confirms it and the funds are captured."
    ),
    "slot": N_("The slot was opened: families can book it now."),
    "withdrawn": N_("The offering was withdrawn: it can no longer be booked."),
    "co_payment": N_("The co-payment is recorded as paid."),
}
ANSWERS = {"accept": "accepted", "decline": "declined", "delivered": "delivered"}
MAX_NOTE = 2000
MAX_CAPACITY = 100


def translate(request: Request, message: str) -> str:
    return i18n.translations(language_of(request)).gettext(message)


def notice_of(request: Request, done: str | None) -> str | None:
    return translate(request, NOTICES[done]) if done in NOTICES else None


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def provider_of(request: Request) -> tuple[Session, str]:
    session = signed_in(request, "provider")
    if not session.subject_id:  # a provider token always names the provider; never trust less
        raise Problem(403, "no_subject", detail="This session names no provider.")
    return session, session.subject_id


def title_of(offering: dict[str, Any], language: str) -> str:
    """An offering's title in the page's language (search rows or offering views)."""
    titles = offering.get("title")
    if isinstance(titles, dict):
        return str(titles.get(language) or next(iter(titles.values()), ""))
    return str(offering.get(f"title_{language}") or offering.get("title_it") or "")


async def titles(request: Request, session: Session, provider_id: str) -> dict[str, str]:
    """The provider's offerings' titles by id (a booking row names only the offering's id)."""
    try:
        found = await calls.offerings(services_of(request), session.token, provider_id)
    except Problem:
        return {}
    language = language_of(request)
    return {str(o["offering_id"]): title_of(o, language) for o in found}


# --- bookings ---------------------------------------------------------------------------------


async def bookings_page(
    request: Request,
    session: Session,
    provider_id: str,
    *,
    problem: Problem | None = None,
    errors: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    services = services_of(request)
    pending_rows, deliver_rows, names = await asyncio.gather(
        calls.queue(services, session.token, provider_id, "pending"),
        calls.queue(services, session.token, provider_id, "to_deliver"),
        titles(request, session, provider_id),
    )
    views = await calls.bookings(services, session.token, [r["booking_id"] for r in pending_rows])
    now = datetime.now(UTC)
    pending = []
    for row in pending_rows:
        deadlines = {d["key"]: d for d in views[row["booking_id"]].get("deadlines", [])}
        for part in row["components"]:
            if part["provider_id"] != provider_id or part["acceptance"] != "requested":
                continue
            deadline = deadlines.get(f"acceptance:{part['index']}")
            pending.append(
                {
                    "booking": row,
                    "part": part,
                    "key": f"{row['booking_id']}-{part['index']}",
                    "title": names.get(part["offering_id"], part["offering_id"]),
                    "deadline": deadline["due_at"] if deadline else None,
                }
            )
    to_deliver = []
    for row in deliver_rows:
        for part in row["components"]:
            if part["provider_id"] != provider_id or part["stage"] != "booked":
                continue
            starts = datetime.fromisoformat(part["starts_at"])
            to_deliver.append(
                {
                    "booking": row,
                    "part": part,
                    "key": f"{row['booking_id']}-{part['index']}",
                    "title": names.get(part["offering_id"], part["offering_id"]),
                    "started": starts <= now,
                }
            )
    pending.sort(key=lambda item: item["deadline"] or "9999")
    to_deliver.sort(key=lambda item: item["part"]["starts_at"])
    context = {
        "pending": pending,
        "to_deliver": to_deliver,
        "problem": problem,
        "errors": errors or {},
        "typed": typed or {},
        "notice": notice_of(request, request.query_params.get("done")),
    }
    return render(request, "provider/bookings.html", context, status=status)


@router.get("/provider/bookings", include_in_schema=False)
async def provider_bookings(request: Request) -> Response:
    session, provider_id = provider_of(request)
    return await bookings_page(request, session, provider_id)


@router.post("/provider/bookings/{booking_id}/{index}/{what}", include_in_schema=False)
async def answer_booking(
    request: Request,
    booking_id: str,
    index: int,
    what: str,
    csrf_token: Annotated[str | None, Form()] = None,
    note: Annotated[str, Form(max_length=MAX_NOTE * 2)] = "",
) -> Response:
    check_csrf(request, csrf_token)
    session, provider_id = provider_of(request)
    if what not in ANSWERS or not 1 <= index <= 10:
        return render(request, "error.html", {"problem": "not_found"}, status=404)
    key = f"{booking_id}-{index}"
    note = note.strip()
    if what == "decline" and not note:
        errors = {key: N_("Write why you decline: the family reads it.")}
        return await bookings_page(
            request, session, provider_id, errors=errors, typed={key: note}, status=422
        )
    if len(note) > MAX_NOTE:
        errors = {key: N_("The note is too long: at most 2000 characters.")}
        return await bookings_page(
            request, session, provider_id, errors=errors, typed={key: note}, status=422
        )
    try:
        await calls.answer(services_of(request), session.token, booking_id, index, what, note)
    except Problem as refused:
        if refused.status not in (400, 403, 404, 409, 410, 422):
            raise
        return await bookings_page(
            request, session, provider_id, problem=refused, typed={key: note}, status=409
        )
    return RedirectResponse(f"/provider/bookings?done={ANSWERS[what]}", status_code=303)


# --- offerings and slots ------------------------------------------------------------------------


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


# --- statement ----------------------------------------------------------------------------------


@router.get("/provider/statement", include_in_schema=False)
async def provider_statement(request: Request, first: str = "", last: str = "") -> Response:
    session, provider_id = provider_of(request)
    errors: dict[str, str] = {}
    first_day = last_day = None
    if first.strip():
        try:
            first_day = date.fromisoformat(first.strip())
        except ValueError:
            errors["first"] = N_("Choose a valid date.")
    if last.strip():
        try:
            last_day = date.fromisoformat(last.strip())
        except ValueError:
            errors["last"] = N_("Choose a valid date.")
    if first_day and last_day and first_day > last_day:
        errors["last"] = N_("The last day comes after the first.")
    if errors:
        first_day = last_day = None
    found, names = await asyncio.gather(
        calls.statement(services_of(request), session.token, provider_id, first_day, last_day),
        titles(request, session, provider_id),
    )
    # The service's period is whole days (UTC midnights): the last day is the one before "until".
    since = datetime.fromisoformat(found["since"]).astimezone(UTC).date()
    until = (datetime.fromisoformat(found["until"]) - timedelta(seconds=1)).astimezone(UTC).date()
    lines = sorted(found["lines"], key=lambda line: line.get("settled_at") or "")
    context = {
        "statement": found,
        "lines": [
            {**line, "title": names.get(line["offering_id"], line["offering_id"])} for line in lines
        ],
        "since": since,
        "until": until,
        "typed": {"first": first, "last": last},
        "errors": errors,
        "captured_listed": sum(int(line["captured_cents"]) for line in lines),
        "notice": notice_of(request, request.query_params.get("done")),
    }
    return render(request, "provider/statement.html", context, status=422 if errors else 200)


@router.post("/provider/statement/{booking_id}/{index}/co-payment-paid", include_in_schema=False)
async def co_payment_paid(
    request: Request,
    booking_id: str,
    index: int,
    csrf_token: Annotated[str | None, Form()] = None,
    first: Annotated[str, Form(max_length=20)] = "",
    last: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """The family paid the provider its co-payment (outside the platform): recorded; back to
    the same period of the statement."""
    check_csrf(request, csrf_token)
    session, _provider_id = provider_of(request)
    if not 1 <= index <= 10:
        return render(request, "error.html", {"problem": "not_found"}, status=404)
    await calls.co_payment_paid(services_of(request), session.token, booking_id, index)
    period = {k: v for k, v in (("first", first), ("last", last)) if v}
    query = urlencode({**period, "done": "co_payment"})
    return RedirectResponse(f"/provider/statement?{query}", status_code=303)
