"""Pages of the territory's operator: provider applications to accredit, providers to suspend
and reinstate (catalog service); the territory's settings, read from its file. Funds and voucher
rounds are in ``operator_funds``, stuck and disputed bookings in ``operator_bookings`` (their
routes join this router; what the pages share is in ``operator_shared``). Forms post and
redirect; a refusal is shown above the form that caused it, a field's mistake next to the field,
and nothing is sent while one is wrong."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse

from portal.access import Session
from portal.clients import operator as calls
from portal.clients import services_of
from portal.clients.base import Problem
from portal.labels import N_
from portal.rendering import render
from portal.routes import operator_bookings, operator_funds
from portal.routes.operator_shared import notice_of, operator, refusal
from portal.security import check_csrf
from portal.theming import MIN_CONTRAST, Palette, contrast_ratio

router = APIRouter()
router.include_router(operator_funds.router)
router.include_router(operator_bookings.router)

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
ACTIONS = ("accreditation", "suspension", "reinstatement")


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
