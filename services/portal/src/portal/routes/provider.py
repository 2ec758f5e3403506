"""Pages of a service provider: the booking requests to accept or decline before their deadline
and the deliveries to mark (booking service), and its statement (booking service). Its
offerings with their slots and a form to open one (catalog service) are in
``provider_offerings`` (its routes join this router; what the pages share is in
``provider_shared``). Forms post and redirect; a refusal is shown above the form that caused it,
a field's mistake next to the field."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse

from portal.access import Session
from portal.clients import provider as calls
from portal.clients import services_of
from portal.clients.base import Problem
from portal.labels import N_
from portal.rendering import render
from portal.routes import provider_offerings
from portal.routes.provider_shared import notice_of, provider_of, titles
from portal.security import check_csrf

router = APIRouter()
router.include_router(provider_offerings.router)

ANSWERS = {"accept": "accepted", "decline": "declined", "delivered": "delivered"}
MAX_NOTE = 2000


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
