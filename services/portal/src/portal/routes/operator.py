"""Pages of the territory's operator: provider applications to accredit, providers to suspend
and reinstate (catalog service); funds and voucher rounds, and opening a round (vouchers
service); stuck and disputed bookings and a dispute's decision (booking service); the
territory's settings, read from its file. Forms post and redirect; a refusal is shown above the
form that caused it, a field's mistake next to the field, and nothing is sent while one is
wrong."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse

from portal import i18n
from portal.access import Session, signed_in
from portal.clients import Services
from portal.clients import operator as calls
from portal.clients.base import Problem
from portal.clients.catalog import CATEGORIES
from portal.forms import FieldError, euro_cents
from portal.labels import N_
from portal.rendering import language_of, render
from portal.security import check_csrf
from portal.theming import MIN_CONTRAST, Palette, contrast_ratio

router = APIRouter()

NOTICES = {
    "accreditation": N_("The provider is accredited: its offerings can be booked."),
    "suspension": N_("The provider is suspended: its offerings cannot be booked until reinstated."),
    "reinstatement": N_("The provider is reinstated: its offerings can be booked again."),
    "round": N_("The round is open on its fund."),
    "resolved": N_("The dispute is decided: the funds follow the decision."),
}
STATUSES = ("applied", "accredited", "suspended")
STATUS_LABELS = {
    "applied": N_("Applied"),
    "accredited": N_("Accredited"),
    "suspended": N_("Suspended"),
}
KIND_LABELS = {
    "coop_a": N_("Social cooperative (type A)"),
    "coop_b": N_("Social cooperative (type B)"),
    "association": N_("Association"),
    "company": N_("Company"),
    "shop": N_("Shop"),
}
SUSPENSION_REASONS = {
    "insurance_expired": N_("Insurance expired"),
    "documents_missing": N_("Documents missing"),
    "quality_complaint": N_("Complaints about quality"),
    "accreditation_review": N_("Accreditation under review"),
    "other": N_("Other reason"),
}
DECISIONS = {
    "capture": N_("Pay the provider in full"),
    "partial_capture": N_("Pay the provider part of it"),
    "refund": N_("Refund the family"),
}
ROUND_KINDS = {
    "food": N_("Food vouchers (spent at the shops' tills)"),
    "services": N_("Service vouchers (spent on care services of the catalogue)"),
}
# theming's pairs, named for people (theming writes them for the build's message)
PAIR_LABELS = {
    "text on the primary colour (header, primary buttons)": N_(
        "Text on the primary colour (header, primary buttons)"
    ),
    "text on the hover shade (buttons, slim header)": N_(
        "Text on the darker shade (hovered buttons, top bar)"
    ),
    "text on the footer shade": N_("Text on the footer's shade"),
    "links on white": N_("Links on white"),
    "hovered links on white": N_("Hovered links on white"),
    "links on the pale band": N_("Links on the pale band"),
    "body text on the pale band": N_("Body text on the pale band"),
}
AMOUNTS = ("budget", "base", "per_extra_member", "per_minor", "cap", "isee_threshold")
ACTIONS = ("accreditation", "suspension", "reinstatement")
MAX_NOTE = 2000


def translate(request: Request, message: str) -> str:
    return i18n.translations(language_of(request)).gettext(message)


def notice_of(request: Request) -> str | None:
    done = request.query_params.get("done")
    return translate(request, NOTICES[done]) if done in NOTICES else None


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def operator(request: Request) -> Session:
    return signed_in(request, "operator")


def refusal(error: Problem) -> Problem:
    """A 4xx refusal the page shows; anything else goes to the app's error page."""
    if error.status not in (400, 403, 404, 409, 410, 422):
        raise error
    return error


def municipality_name(request: Request, istat: str) -> str:
    found = request.app.state.territory.municipality(istat)
    return str(found.name) if found else istat


# --- providers ----------------------------------------------------------------------------------


async def providers_page(
    request: Request,
    session: Session,
    status_filter: str,
    *,
    problem: Problem | None = None,
    problem_for: str | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    found = await calls.providers(services_of(request), session.token, status_filter or None)
    items = found.get("items", [])
    counts = {s: sum(1 for p in items if p["status"] == s) for s in STATUSES}
    context = {
        "providers": items,
        "total": found.get("total", len(items)),
        "status_filter": status_filter,
        "statuses": STATUSES,
        "status_labels": STATUS_LABELS,
        "kind_labels": KIND_LABELS,
        "reasons": SUSPENSION_REASONS,
        "counts": counts,
        "problem": problem,
        "problem_for": problem_for,
        "errors": errors or {},
        "notice": notice_of(request),
    }
    return render(request, "operator/providers.html", context, status=status)


@router.get("/operator/providers", include_in_schema=False)
async def providers(request: Request, status: str = "") -> Response:
    session = operator(request)
    return await providers_page(request, session, status if status in STATUSES else "")


@router.post("/operator/providers/{provider_id}/{action}", include_in_schema=False)
async def decide_provider(
    request: Request,
    provider_id: str,
    action: str,
    csrf_token: Annotated[str | None, Form()] = None,
    reason_code: Annotated[str, Form(max_length=40)] = "",
    reason: Annotated[str, Form(max_length=1000)] = "",
    status: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    check_csrf(request, csrf_token)
    session = operator(request)
    status_filter = status if status in STATUSES else ""
    back = "/operator/providers" + (f"?status={status_filter}&" if status_filter else "?")
    if action not in ACTIONS:
        return render(request, "error.html", {"problem": "not_found"}, status=404)
    body: dict[str, Any] | None = None
    if action == "suspension":
        reason = reason.strip()
        errors: dict[str, str] = {}
        if reason_code not in SUSPENSION_REASONS:
            errors["reason_code"] = N_("Choose why the provider is suspended.")
        if len(reason) > 500:
            errors["reason"] = N_("The explanation is too long: at most 500 characters.")
        if errors:
            return await providers_page(
                request,
                session,
                status_filter,
                problem_for=provider_id,
                errors=errors,
                status=422,
            )
        body = {"reason_code": reason_code, "reason": reason}
    try:
        await calls.decide_provider(services_of(request), session.token, provider_id, action, body)
    except Problem as error:
        return await providers_page(
            request,
            session,
            status_filter,
            problem=refusal(error),
            problem_for=provider_id,
            status=409,
        )
    return RedirectResponse(f"{back}done={action}", status_code=303)


# --- funds and rounds ---------------------------------------------------------------------------


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


# --- bookings -----------------------------------------------------------------------------------


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


# --- the territory ------------------------------------------------------------------------------


@router.get("/operator/territory", include_in_schema=False)
async def territory(request: Request) -> Response:
    operator(request)
    found = request.app.state.territory
    palette = Palette.of(found)
    pairs = [
        {
            "what": PAIR_LABELS.get(what, what),
            "foreground": foreground,
            "background": background,
            "ratio": contrast_ratio(foreground, background),
        }
        for what, foreground, background in palette.pairs()
    ]
    extra = {
        name: table
        for name, table in (found.rules.model_extra or {}).items()
        if isinstance(table, dict)
    }
    context = {
        "palette": palette,
        "pairs": pairs,
        "min_contrast": MIN_CONTRAST,
        "secondary": found.branding.secondary_color.upper(),
        "secondary_on_white": contrast_ratio(found.branding.secondary_color, "#FFFFFF"),
        "extra_rules": extra,
        "territory_file": f"territories/{found.id}.toml",
    }
    return render(request, "operator/territory.html", context)
