"""The operator's stuck and disputed bookings, with the family's reason for each dispute, and a
dispute's decision (booking service)."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse

from portal.access import Session
from portal.clients import operator as calls
from portal.clients import services_of
from portal.clients.base import Problem
from portal.forms import FieldError, euro_cents
from portal.labels import N_
from portal.rendering import render
from portal.routes.operator_shared import notice_of, operator, refusal
from portal.security import check_csrf

router = APIRouter()

DECISIONS = {
    "capture": N_("Pay the provider in full"),
    "partial_capture": N_("Pay the provider part of it"),
    "refund": N_("Refund the family"),
}
MAX_NOTE = 2000


async def bookings_page(
    request: Request,
    session: Session,
    *,
    problem: Problem | None = None,
    problem_for: str | None = None,
    errors: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    services = services_of(request)
    stuck, disputed = await asyncio.gather(
        calls.bookings(services, session.token, "stuck"),
        calls.bookings(services, session.token, "disputed"),
    )
    # The list rows say which parts are disputed; the family's reason and when it disputed are
    # in each booking's view (``dispute`` of its component), read for the disputed ones at once.
    read = await asyncio.gather(
        *(calls.booking(services, session.token, row["booking_id"]) for row in disputed),
        return_exceptions=True,
    )
    reasons: dict[str, dict[str, Any]] = {}
    for row, booking in zip(disputed, read, strict=True):
        if isinstance(booking, Problem):  # gone or refused since the list: shown without it
            continue
        if isinstance(booking, BaseException):
            raise booking
        for part in booking.get("components", []):
            if part.get("dispute"):
                reasons[f"{row['booking_id']}-{part['index']}"] = part["dispute"]
    disputes = [
        {
            "booking": row,
            "part": part,
            "key": f"{row['booking_id']}-{part['index']}",
            "dispute": reasons.get(f"{row['booking_id']}-{part['index']}"),
        }
        for row in disputed
        for part in row["components"]
        if part["stage"] == "disputed"
    ]
    context = {
        "stuck": stuck,
        "disputes": disputes,
        "decisions": DECISIONS,
        "problem": problem,
        "problem_for": problem_for,
        "errors": errors or {},
        "typed": typed or {},
        "notice": notice_of(request),
    }
    return render(request, "operator/bookings.html", context, status=status)


@router.get("/operator/bookings", include_in_schema=False)
async def bookings(request: Request) -> Response:
    return await bookings_page(request, operator(request))


@router.post("/operator/bookings/{booking_id}/{index}/resolution", include_in_schema=False)
async def resolve(
    request: Request,
    booking_id: str,
    index: int,
    csrf_token: Annotated[str | None, Form()] = None,
    decision: Annotated[str, Form(max_length=20)] = "",
    amount: Annotated[str, Form(max_length=40)] = "",
    price_cents: Annotated[int, Form(ge=0)] = 0,
    note: Annotated[str, Form(max_length=MAX_NOTE * 2)] = "",
) -> Response:
    check_csrf(request, csrf_token)
    session = operator(request)
    key = f"{booking_id}-{index}"
    typed = {"decision": decision, "amount": amount, "note": note}
    errors: dict[str, str] = {}
    amount_cents: int | None = None
    if decision not in DECISIONS:
        errors["decision"] = N_("Choose a decision.")
    if decision == "partial_capture":
        try:
            amount_cents = euro_cents(amount)
        except FieldError as error:
            errors["amount"] = error.message
        else:
            if price_cents and amount_cents is not None and amount_cents >= price_cents:
                errors["amount"] = N_("A part is less than the price: to pay it all, pay in full.")
    note = note.strip()
    if len(note) > MAX_NOTE:
        errors["note"] = N_("The note is too long: at most 2000 characters.")
    if errors or not 1 <= index <= 10:
        return await bookings_page(
            request,
            session,
            problem_for=key,
            errors=errors,
            typed=typed,
            status=422,
        )
    body: dict[str, Any] = {"decision": decision}
    if amount_cents is not None:
        body["amount_cents"] = amount_cents
    if note:
        body["note"] = note
    try:
        await calls.resolve(services_of(request), session.token, booking_id, index, body)
    except Problem as error:
        return await bookings_page(
            request,
            session,
            problem=refusal(error),
            problem_for=key,
            typed=typed,
            status=409,
        )
    return RedirectResponse("/operator/bookings?done=resolved", status_code=303)
