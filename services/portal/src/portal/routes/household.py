"""The beneficiary's own pages (a citizen, an employee, a delegate): the wallet with its history
and fringe-benefit cap meter, the vouchers with their codes and QR codes, the notifications
inbox; the voucher applications' stepper is in ``household_apply`` (its routes join this
router). Booking and "my bookings" are another area's (``routes.bookings``).

Every page is the beneficiary's only (``signed_in(request, "beneficiary")``: another role gets
403, nobody signed in goes to the login page) and calls the services with the user's token: the
services themselves decide what is the user's own (``/me/...``, ``/vouchers/mine``, the inbox of
``beneficiary:<id>``)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import segno
from babel.dates import format_date
from fastapi import APIRouter, Request, Response
from markupsafe import Markup, escape

from portal.access import signed_in
from portal.clients import household as calls
from portal.rendering import language_of, render
from portal.routes import household_apply

router = APIRouter()
router.include_router(household_apply.router)

ROLE = "beneficiary"
# The share of the yearly fringe-benefit cap at which the wallet page warns (before the cap).
FRINGE_WARNING_SHARE = 0.8
METER_WIDTH = 300  # the cap meter's width in SVG units (the bar scales with the page)


@dataclass(frozen=True)
class FringeMeter:
    """The year's fringe benefits against the tax-free cap: ``level`` is ``ok``, ``warning``
    (from 80% of the cap: the next purchases may cross it) or ``over`` (above the cap: the
    whole year's amount is taxable). At the cap exactly the year is still tax-free."""

    year: int
    used_cents: int
    cap_cents: int
    taxable_cents: int

    @property
    def percent(self) -> int:
        return round(self.used_cents * 100 / self.cap_cents) if self.cap_cents else 0

    @property
    def left_cents(self) -> int:
        return max(self.cap_cents - self.used_cents, 0)

    @property
    def level(self) -> str:
        if self.used_cents > self.cap_cents:
            return "over"
        if self.used_cents >= self.cap_cents * FRINGE_WARNING_SHARE:
            return "warning"
        return "ok"

    @property
    def bar_width(self) -> int:
        """The filled part of the meter, at most its whole width."""
        if not self.cap_cents:
            return 0
        return min(METER_WIDTH, round(METER_WIDTH * self.used_cents / self.cap_cents))

    @property
    def warning_x(self) -> int:
        return round(METER_WIDTH * FRINGE_WARNING_SHARE)


def fringe_meter(statement: dict[str, Any]) -> FringeMeter | None:
    """The meter of a year's statement, or None when no cap is known for that year."""
    cap = statement.get("cap_cents")
    if not cap:
        return None
    return FringeMeter(
        year=int(statement["year"]),
        used_cents=int(statement.get("fringe_cents") or 0),
        cap_cents=int(cap),
        taxable_cents=int(statement.get("taxable_cents") or 0),
    )


def qr_svg(code: str, label: str) -> Markup:
    """The voucher's code as a QR code, an inline SVG drawn here (no script, no image request):
    attributes only (the page's CSP refuses inline styles), named for screen readers."""
    svg = segno.make(code, error="m").svg_inline(
        scale=4, border=4, dark="#000000", light="#ffffff", svgclass="bc-qr", title=None
    )
    named = svg.replace(
        "<svg ", f'<svg role="img" aria-label="{escape(label)}" focusable="false" ', 1
    )
    return Markup(named)


def day_in(request: Request) -> Callable[[str], str]:
    """A calendar day (``2026-12-31``) as the page's language writes it."""
    language = language_of(request)
    return lambda iso: format_date(date.fromisoformat(iso), format="long", locale=language)


def newest_first(moments: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    return sorted(moments, key=lambda item: datetime.fromisoformat(item[key]), reverse=True)


@router.get("/me/wallet", include_in_schema=False)
async def wallet(request: Request) -> Response:
    """The employee's wallets (and those they spend for as a delegate): the credit per category,
    what is available, the history with its running figures, and the fringe cap meter."""
    session = signed_in(request, ROLE)
    services = request.app.state.services
    own, delegated = await asyncio.gather(
        calls.my_wallets(services, session.token), calls.delegated_wallets(services, session.token)
    )
    wallets = [*own, *delegated]
    histories = await asyncio.gather(
        *(calls.wallet_history(services, session.token, w["wallet_id"]) for w in wallets)
    )
    years = sorted({int(w["year"]) for w in own}, reverse=True)
    statements = await asyncio.gather(
        *(calls.my_fringe(services, session.token, year) for year in years)
    )
    meters = [m for m in (fringe_meter(s) for s in statements) if m is not None]
    rows = [
        {
            "wallet": w,
            "delegated": w["employee_id"] != session.subject_id,
            "history": list(reversed(history)),
            "open_holds": [h for h in w.get("holds", []) if h.get("status") == "held"],
        }
        for w, history in zip(wallets, histories, strict=True)
    ]
    return render(
        request,
        "household/wallet.html",
        {"rows": rows, "meters": meters, "meter_width": METER_WIDTH, "day": day_in(request)},
    )


@router.get("/me/vouchers", include_in_schema=False)
async def vouchers(request: Request) -> Response:
    """The vouchers the user holds or spends as a delegate: the code in text and as a QR code,
    what is left, when it expires (in the territory's time), what was spent where (newest
    first, with the balance after each); the spendable ones first."""
    session = signed_in(request, ROLE)
    services = request.app.state.services
    found = await calls.my_vouchers(services, session.token)
    found.sort(key=lambda v: (not v.get("spendable"), v.get("expires_at") or ""))
    details = await asyncio.gather(
        *(calls.voucher_detail(services, session.token, v["code"]) for v in found if v["code"])
    )
    histories = {d["voucher_id"]: list(reversed(d.get("history", []))) for d in details}
    context = {"vouchers": found, "qr": qr_svg, "histories": histories}
    return render(request, "household/vouchers.html", context)


@router.get("/me/inbox", include_in_schema=False)
async def inbox(request: Request) -> Response:
    """The user's notices, newest first, written by the notifications service in the page's
    language. The service keeps an in-app inbox only: it offers no preferences to change (no
    other channel, no subscriptions); the page says so and names the language it writes in."""
    session = signed_in(request, ROLE)
    language = request.state.language
    notices = await calls.inbox(
        request.app.state.services, session.token, session.user.subject, language
    )
    notice_language = language if language in calls.NOTICE_LANGUAGES else "en"
    return render(
        request,
        "household/inbox.html",
        {"notices": newest_first(notices, "recorded_at"), "notice_language": notice_language},
    )
