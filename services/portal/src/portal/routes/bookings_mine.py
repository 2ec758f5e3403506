"""My bookings: the list, a booking with its timeline, the confirmation page that follows a new
booking's status (htmx polling, announced; a reload link without JavaScript), and what the
family does with a booking — cancel (the fee shown first, as the booking service previews it),
move a part to another slot, confirm a delivery, dispute it with a reason. And the social
worker's start of a booking on behalf of a citizen."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from portal import i18n
from portal.access import Session, signed_in
from portal.clients import Services
from portal.clients import booking as api
from portal.clients.base import Problem, new_request_id
from portal.labels import N_
from portal.rendering import render
from portal.routes.bookings_flow import FAMILY, source_label
from portal.security import check_csrf

router = APIRouter()
_UUID = re.compile(r"^[0-9a-fA-F-]{36}$")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@:-]{0,127}$")
POLLING = ("requested", "compensating")

STATUS_LABELS = {
    "requested": N_("Requested: waiting for the answers"),
    "confirmed": N_("Confirmed"),
    "compensating": N_("Not confirmed: being undone"),
    "compensated": N_("Not confirmed"),
    "cancelled": N_("Cancelled"),
    "completed": N_("Completed"),
}
STATUS_BADGES = {  # booking.css: colours with 4.5:1 contrast (and the words say it all)
    "requested": "bc-badge-waiting",
    "confirmed": "bc-badge-ok",
    "compensating": "bc-badge-bad",
    "compensated": "bc-badge-bad",
    "cancelled": "bc-badge-neutral",
    "completed": "bc-badge-ok",
}
STAGE_LABELS = {
    "booking": N_("Being booked"),
    "booked": N_("Booked"),
    "delivered": N_("Delivered: to confirm"),
    "disputed": N_("Disputed"),
    "settling": N_("Being paid"),
    "captured": N_("Paid"),
    "cancelled": N_("Cancelled"),
    "no_show": N_("Missed appointment"),
    "compensated": N_("Not booked"),
}
STEP_LABELS = {
    "requested": N_("Booking requested"),
    "slot_hold_requested": N_("Slot asked for"),
    "slot_held": N_("Slot reserved"),
    "slot_hold_refused": N_("Slot not available"),
    "funds_hold_requested": N_("Payment asked for"),
    "funds_held": N_("Payment reserved"),
    "funds_hold_refused": N_("Payment refused"),
    "provider_acceptance_requested": N_("Provider asked to accept"),
    "provider_accepted": N_("Provider accepted"),
    "provider_declined": N_("Provider declined"),
    "confirmed": N_("Booking confirmed"),
    "slot_confirm_requested": N_("Slot being confirmed"),
    "slot_confirmed": N_("Slot confirmed"),
    "compensating": N_("Booking being undone"),
    "slot_release_requested": N_("Slot being released"),
    "slot_released": N_("Slot released"),
    "funds_release_requested": N_("Payment being released"),
    "funds_release_pending": N_("Payment to be released"),
    "funds_released": N_("Payment released"),
    "funds_release_refused": N_("Release refused: the operator follows it"),
    "funds_capture_refused": N_("Payment refused: the operator follows it"),
    "funds_hold_refused_late": N_("Payment refused"),
    "compensated": N_("Booking undone"),
    "deadline_passed": N_("A deadline passed"),
    "delivered": N_("Delivered"),
    "delivery_confirmed": N_("Delivery confirmed"),
    "disputed": N_("Disputed"),
    "dispute_resolved": N_("Dispute decided"),
    "settlement_started": N_("Payment started"),
    "funds_capture_requested": N_("Payment being taken"),
    "funds_captured": N_("Payment taken"),
    "co_payment_due": N_("Co-payment due to the provider"),
    "co_payment_paid": N_("Co-payment paid"),
    "settled": N_("Paid"),
    "completed": N_("Booking completed"),
    "component_cancelled": N_("Part cancelled"),
    "cancelled": N_("Booking cancelled"),
    "no_show": N_("Missed appointment"),
    "reschedule_requested": N_("Move to another slot asked for"),
    "rescheduled": N_("Moved to another slot"),
    "reschedule_failed": N_("Move not possible"),
}
NOTICES = {
    "cancelled": N_("The booking is cancelled."),
    "moving": N_("The move was asked for: the new slot is being reserved."),
    "confirmed": N_("Thank you: the delivery is confirmed and the provider will be paid."),
    "disputed": N_("The dispute is open: the operator of the territory will decide."),
}
SHOWN_DETAILS = ("delivered", "provider_declined", "disputed", "reschedule_failed")


def labels() -> dict[str, Any]:
    return {
        "status_labels": STATUS_LABELS,
        "status_badges": STATUS_BADGES,
        "stage_labels": STAGE_LABELS,
        "step_labels": STEP_LABELS,
        "source_label": source_label,
        "shown_details": SHOWN_DETAILS,
    }


def _booking_id(booking_id: str) -> str:
    if not _UUID.match(booking_id):
        raise Problem(404, "not_found")
    return booking_id


def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def _notice(request: Request, key: str | None) -> str | None:
    if key not in NOTICES:
        return None
    return i18n.translations(request.state.language).gettext(NOTICES[key])


async def _titles(request: Request, session: Session, bookings: list[dict[str, Any]]) -> Any:
    ids = {str(c["offering_id"]) for b in bookings for c in b.get("components", [])}
    return await api.offering_titles(_services(request), ids, session.token)


def _redirect(path: str) -> Response:
    return RedirectResponse(path, status_code=303)


# --- the list and one booking -------------------------------------------------------------------


@router.get("/me/bookings", include_in_schema=False)
async def my_bookings(request: Request) -> Response:
    session = signed_in(request, *FAMILY)
    bookings = await api.my_bookings(_services(request), session.token)
    offerings = await _titles(request, session, bookings)
    context = {"bookings": bookings, "offerings": offerings, **labels()}
    return render(request, "booking/mine.html", context)


@router.get("/me/bookings/{booking_id}", include_in_schema=False)
async def booking_page(request: Request, booking_id: str, done: str | None = None) -> Response:
    session = signed_in(request, *FAMILY)
    found = await api.booking(_services(request), session.token, _booking_id(booking_id))
    offerings = await _titles(request, session, [found])
    context = {
        "booking": found,
        "offerings": offerings,
        "notice": _notice(request, done),
        **labels(),
    }
    return render(request, "booking/detail.html", context)


@router.get("/me/bookings/{booking_id}/sent", include_in_schema=False)
async def sent(request: Request, booking_id: str) -> Response:
    """Step 4 of the flow: the booking was asked for; its status follows here."""
    session = signed_in(request, *FAMILY)
    found = await api.booking(_services(request), session.token, _booking_id(booking_id))
    offerings = await _titles(request, session, [found])
    context = {"booking": found, "offerings": offerings, "announce": None, **labels()}
    return render(request, "booking/sent.html", context)


@router.get("/me/bookings/{booking_id}/status", include_in_schema=False)
async def status_fragment(request: Request, booking_id: str, seen: str = "") -> Response:
    """The status box alone (htmx polls it); announced when the status changed."""
    session = signed_in(request, *FAMILY)
    found = await api.booking(_services(request), session.token, _booking_id(booking_id))
    announce = None
    if found["status"] != seen:
        language = request.state.language
        announce = i18n.translations(language).gettext(STATUS_LABELS[found["status"]])
    context = {"booking": found, "announce": announce, **labels()}
    response = render(request, "booking/_status.html", context)
    if found["status"] not in POLLING:
        response.status_code = 286  # htmx stops polling (and swaps the final status in)
    return response


# --- cancel -------------------------------------------------------------------------------------


@router.get("/me/bookings/{booking_id}/cancel", include_in_schema=False)
async def cancel_page(request: Request, booking_id: str) -> Response:
    session = signed_in(request, *FAMILY)
    services = _services(request)
    found = await api.booking(services, session.token, _booking_id(booking_id))
    preview = await api.cancellation(services, session.token, booking_id)
    context = {"booking": found, "preview": preview, "request_id": new_request_id(), **labels()}
    return render(request, "booking/cancel.html", context)


@router.post("/me/bookings/{booking_id}/cancel", include_in_schema=False)
async def cancel(request: Request, booking_id: str) -> Response:
    form = await request.form()
    check_csrf(request, str(form.get("csrf_token") or ""))
    session = signed_in(request, *FAMILY)
    services = _services(request)
    booking_id = _booking_id(booking_id)
    fee = str(form.get("accept_fee_cents") or "")
    request_id = str(form.get("request_id") or "")
    if not fee.isdigit() or not re.match(r"^[A-Za-z0-9]{8,64}$", request_id):
        return _redirect(f"/me/bookings/{booking_id}/cancel")
    try:
        await api.cancel(services, session.token, booking_id, request_id, int(fee))
    except Problem as refusal:
        found = await api.booking(services, session.token, booking_id)
        preview = await api.cancellation(services, session.token, booking_id)
        context = {
            "booking": found,
            "preview": preview,
            "request_id": new_request_id(),
            "problem": refusal,
            "fee_changed": refusal.code == "fee_changed",
            **labels(),
        }
        return render(request, "booking/cancel.html", context, status=409)
    return _redirect(f"/me/bookings/{booking_id}?done=cancelled")


# --- move a part to another slot ----------------------------------------------------------------


def _component(found: dict[str, Any], index: str | int) -> dict[str, Any]:
    for component in found.get("components", []):
        if str(component["index"]) == str(index):
            return dict(component)
    raise Problem(404, "not_found")


@router.get("/me/bookings/{booking_id}/components/{index}/reschedule", include_in_schema=False)
async def reschedule_page(request: Request, booking_id: str, index: int) -> Response:
    session = signed_in(request, *FAMILY)
    services = _services(request)
    found = await api.booking(services, session.token, _booking_id(booking_id))
    component = _component(found, index)
    return await _reschedule_form(request, session, found, component, {})


async def _reschedule_form(
    request: Request,
    session: Session,
    found: dict[str, Any],
    component: dict[str, Any],
    errors: dict[str, str],
    problem: Problem | None = None,
    status: int = 200,
) -> Response:
    services = _services(request)
    slots = await api.free_slots(services, component["offering_id"], session.token)
    slots = [s for s in slots if s["slot_id"] != component["slot_id"]]
    offerings = await _titles(request, session, [found])
    context = {
        "booking": found,
        "component": component,
        "slots": slots,
        "offerings": offerings,
        "errors": errors,
        "problem": problem,
        "request_id": new_request_id(),
        **labels(),
    }
    return render(request, "booking/reschedule.html", context, status=status)


@router.post("/me/bookings/{booking_id}/components/{index}/reschedule", include_in_schema=False)
async def reschedule(request: Request, booking_id: str, index: int) -> Response:
    form = await request.form()
    check_csrf(request, str(form.get("csrf_token") or ""))
    session = signed_in(request, *FAMILY)
    services = _services(request)
    found = await api.booking(services, session.token, _booking_id(booking_id))
    component = _component(found, index)
    slot_id = str(form.get("slot_id") or "")
    request_id = str(form.get("request_id") or "")
    free = await api.free_slots(services, component["offering_id"], session.token)
    if not any(s["slot_id"] == slot_id for s in free) or not re.match(
        r"^[A-Za-z0-9]{8,64}$", request_id
    ):
        errors = {"slot_id": N_("Choose one of the free slots.")}
        return await _reschedule_form(request, session, found, component, errors, status=422)
    try:
        await api.reschedule(services, session.token, booking_id, request_id, index, slot_id)
    except Problem as refusal:
        return await _reschedule_form(
            request, session, found, component, {}, problem=refusal, status=409
        )
    return _redirect(f"/me/bookings/{booking_id}?done=moving")


# --- after the delivery -------------------------------------------------------------------------


@router.post("/me/bookings/{booking_id}/components/{index}/confirm", include_in_schema=False)
async def confirm_delivery(request: Request, booking_id: str, index: int) -> Response:
    form = await request.form()
    check_csrf(request, str(form.get("csrf_token") or ""))
    session = signed_in(request, *FAMILY)
    await api.confirm_delivery(_services(request), session.token, _booking_id(booking_id), index)
    return _redirect(f"/me/bookings/{booking_id}?done=confirmed")


@router.get("/me/bookings/{booking_id}/components/{index}/dispute", include_in_schema=False)
async def dispute_page(request: Request, booking_id: str, index: int) -> Response:
    session = signed_in(request, *FAMILY)
    found = await api.booking(_services(request), session.token, _booking_id(booking_id))
    component = _component(found, index)
    offerings = await _titles(request, session, [found])
    context = {
        "booking": found,
        "component": component,
        "offerings": offerings,
        "errors": {},
        "reason": "",
        **labels(),
    }
    return render(request, "booking/dispute.html", context)


@router.post("/me/bookings/{booking_id}/components/{index}/dispute", include_in_schema=False)
async def dispute(request: Request, booking_id: str, index: int) -> Response:
    form = await request.form()
    check_csrf(request, str(form.get("csrf_token") or ""))
    session = signed_in(request, *FAMILY)
    services = _services(request)
    reason = str(form.get("reason") or "").strip()[:2000]
    errors: dict[str, str] = {}
    problem = None
    if len(reason) < 5:
        errors["reason"] = N_("Say what went wrong, in a few words.")
    else:
        try:
            await api.dispute(services, session.token, _booking_id(booking_id), index, reason)
        except Problem as refusal:
            problem = refusal
            errors = {k: v for k, v in refusal.field_errors().items() if k == "reason"}
        else:
            return _redirect(f"/me/bookings/{booking_id}?done=disputed")
    found = await api.booking(services, session.token, _booking_id(booking_id))
    context = {
        "booking": found,
        "component": _component(found, index),
        "offerings": await _titles(request, session, [found]),
        "errors": errors,
        "problem": problem,
        "reason": reason,
        **labels(),
    }
    return render(request, "booking/dispute.html", context, status=422)


# --- a social worker books for a citizen --------------------------------------------------------


async def _social_page(
    request: Request,
    session: Session,
    form: dict[str, str],
    errors: dict[str, str],
    status: int = 200,
) -> Response:
    services = _services(request)
    found = await services.catalog.get("/search", session.token, params={"page_size": 50})
    packages = await services.catalog.get("/packages", session.token)
    bookings = await api.my_bookings(services, session.token)
    context = {
        "offerings": found.get("items", []),
        "packages": packages or [],
        "bookings": bookings,
        "titles": await _titles(request, session, bookings),
        "form": form,
        "errors": errors,
        **labels(),
    }
    return render(request, "booking/social.html", context, status=status)


@router.get("/social/book", include_in_schema=False)
async def social_book(request: Request) -> Response:
    session = signed_in(request, "social_worker")
    return await _social_page(request, session, {}, {})


@router.post("/social/book", include_in_schema=False)
async def social_start(request: Request) -> Response:
    posted = await request.form()
    check_csrf(request, str(posted.get("csrf_token") or ""))
    session = signed_in(request, "social_worker")
    form = {k: str(posted.get(k) or "").strip()[:200] for k in ("for", "consent", "what")}
    errors: dict[str, str] = {}
    if not _ID.match(form["for"]):
        errors["for"] = N_("Enter the citizen's beneficiary id, for example b-biella-001.")
    if not form["consent"]:
        errors["consent"] = N_("Enter the reference of the citizen's consent.")
    kind, _, target = form["what"].partition(":")
    if kind not in ("offering", "package") or not _ID.match(target):
        errors["what"] = N_("Choose what to book.")
    if errors:
        return await _social_page(request, session, form, errors, status=422)
    query = urlencode({"for": form["for"], "consent": form["consent"]})
    return _redirect(f"/book/{kind}/{target}?{query}")
