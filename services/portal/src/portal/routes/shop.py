"""Pages of an affiliated shop: the till (a voucher's code typed or scanned, the amount the
Italian way, the goods; the answer tells what is left on the voucher; today's sales with a void
for the last 30 minutes) and the reimbursement claims with their promised payment dates.

The vouchers API lists no shop's sales, so the till remembers the codes it took today in an
HttpOnly cookie of its own, and reads each voucher's history from the API (a shop sees only its
own redemptions there): the list is the service's, the cookie only says which vouchers to read.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from babel.dates import format_date
from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse

from portal.access import Session, signed_in
from portal.clients.base import Problem, new_request_id
from portal.clients.shop import ShopClient, code_from_scan, code_length_ok
from portal.forms import FieldError, euro_cents
from portal.labels import N_
from portal.rendering import environment, language_of, render
from portal.security import check_csrf, set_cookie

router = APIRouter()

TILL_COOKIE = "bc_till"
VOID_WINDOW = timedelta(minutes=30)
MAX_REMEMBERED = 40  # vouchers taken today that the till lists

GOODS_LABELS = {
    "food": N_("Food"),
    "hygiene": N_("Hygiene and cleaning"),
    "baby_care": N_("Baby care"),
    "medicines": N_("Medicines"),
}

# The vouchers API's refusals at the till, in the shop's words.
TILL_REFUSALS = {
    "not_found": ("code", N_("No voucher has this code: check it and type it again.")),
    "invalid_voucher_code": (
        "code",
        N_("This is not a valid voucher code (a character is mistyped): check it again."),
    ),
    "voucher_not_spendable": (
        "code",
        N_("This voucher cannot be spent: it has expired, was revoked or is used up."),
    ),
    "service_voucher_at_till": (
        "code",
        N_("This is a service voucher: it pays for care services, not at a till."),
    ),
    "insufficient_balance": (
        "amount",
        N_("The amount is more than what is left on the voucher: %(left)s."),
    ),
    "invalid_amount": ("amount", N_("This amount cannot be taken from a voucher.")),
    "excluded_goods": ("goods_category", N_("These goods cannot be paid with vouchers.")),
    "not_affiliated": (
        "code",
        N_("Your shop does not take the vouchers of this voucher's round."),
    ),
    "merchant_suspended": ("", N_("Your shop is suspended: it cannot take vouchers now.")),
    "request_id_reused": ("", N_("This sale was already recorded. Start a new one.")),
    "forbidden_subject": ("code", N_("Your shop may not read this voucher.")),
    "void_refused": ("", N_("This sale can no longer be voided (30 minutes have passed).")),
}


def shop_session(request: Request) -> tuple[Session, ShopClient]:
    session = signed_in(request, "merchant")
    client = ShopClient(
        request.app.state.services.vouchers, session.token, session.subject_id or ""
    )
    return session, client


def remembered_codes(request: Request) -> list[str]:
    """The codes this till took today (the cookie of another day is forgotten)."""
    value = request.cookies.get(TILL_COOKIE, "")
    day, _, codes = value.partition("|")
    if day != local_today(request).isoformat():
        return []
    return [c for c in codes.split(",") if c][:MAX_REMEMBERED]


def remember(request: Request, response: Response, code: str) -> None:
    codes = [c for c in remembered_codes(request) if c != code]
    codes = [code, *codes][:MAX_REMEMBERED]
    value = f"{local_today(request).isoformat()}|{','.join(codes)}"
    set_cookie(request, response, TILL_COOKIE, value, max_age=24 * 3600)


def local_today(request: Request) -> date:
    return datetime.now(request.app.state.territory.zoneinfo).date()


def masked(code: str) -> str:
    """A code shown in a list: only its end, enough for the shopkeeper to recognise it."""
    return "…" + code[-6:]


async def todays_sales(
    request: Request, client: ShopClient, taken: str | None = None
) -> list[dict[str, Any]]:
    """Today's sales of this shop on the vouchers it took today (and ``taken``, the one just
    taken), newest first, from the API."""
    zone = request.app.state.territory.zoneinfo
    today = local_today(request)
    now = datetime.now(UTC)
    sales: list[dict[str, Any]] = []
    codes = remembered_codes(request)
    if taken and taken not in codes:
        codes = [taken, *codes]
    read = await asyncio.gather(*(client.voucher(code) for code in codes), return_exceptions=True)
    for code, voucher in zip(codes, read, strict=True):
        if isinstance(voucher, Problem):
            continue
        if isinstance(voucher, BaseException):
            raise voucher
        history = voucher.get("history", [])
        voided = {h["redemption_id"] for h in history if h["kind"] == "voided"}
        for entry in history:
            if entry["kind"] != "redeemed" or entry.get("merchant_id") != client.merchant_id:
                continue
            at = datetime.fromisoformat(entry["at"])
            if at.astimezone(zone).date() != today:
                continue
            sales.append(
                {
                    "at": entry["at"],
                    "time": at.astimezone(zone).strftime("%H:%M"),
                    "code": code,
                    "masked": masked(code),
                    "amount_cents": entry["amount_cents"],
                    "goods_category": entry.get("goods_category") or "",
                    "redemption_id": entry["redemption_id"],
                    "voided": entry["redemption_id"] in voided,
                    "voidable": entry["redemption_id"] not in voided and now - at < VOID_WINDOW,
                    "remaining_cents": voucher["remaining_cents"],
                }
            )
    sales.sort(key=lambda sale: str(sale["at"]), reverse=True)
    return sales


async def till_page(
    request: Request,
    client: ShopClient,
    *,
    errors: dict[str, tuple[str, dict[str, str]]] | None = None,
    form: dict[str, str] | None = None,
    result: dict[str, Any] | None = None,
    voided: dict[str, Any] | None = None,
    taken: str | None = None,
    status: int = 200,
) -> Response:
    accounts = await client.accounts()
    goods = sorted({g for account in accounts for g in account.get("goods_categories", [])})
    errors = errors or {}
    focus = next(
        (name for name in ("", "code", "amount", "goods_category") if name in errors), "code"
    )
    context = {
        "focus": focus,
        "goods": goods,
        "goods_labels": GOODS_LABELS,
        "errors": errors,
        "form": form or {"goods_category": goods[0] if goods else ""},
        "request_id": new_request_id(),
        "result": result,
        "voided": voided,
        "sales": await todays_sales(request, client, taken),
        "affiliated": bool(accounts),
    }
    if request.headers.get("HX-Request") == "true":  # htmx swaps a 200 only: refusals too
        return render(request, "shop/_till.html", context)
    return render(request, "shop/till.html", context, status)


@router.get("/shop/till", include_in_schema=False)
async def till(request: Request, done: str = "", voided: str = "") -> Response:
    _, client = shop_session(request)
    result = voided_sale = None
    if done or voided:
        sales = await todays_sales(request, client)
        found = next((s for s in sales if s["redemption_id"] in (done, voided)), None)
        if found and done:
            result = found
        elif found:
            voided_sale = found
    return await till_page(request, client, result=result, voided=voided_sale)


@router.post("/shop/till", include_in_schema=False)
async def redeem(
    request: Request,
    csrf_token: Annotated[str | None, Form()] = None,
    code: Annotated[str, Form()] = "",
    amount: Annotated[str, Form()] = "",
    goods_category: Annotated[str, Form()] = "",
    request_id: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(request, csrf_token)
    _, client = shop_session(request)
    form = {"code": code, "amount": amount, "goods_category": goods_category}
    errors: dict[str, tuple[str, dict[str, str]]] = {}
    found_code = code_from_scan(code)
    if not found_code:
        errors["code"] = (N_("Type or scan the voucher's code."), {})
    elif not code_length_ok(found_code):
        errors["code"] = (
            N_("A voucher code has 16 characters and a check character: XXXX-XXXX-XXXX-XXXX-X."),
            {},
        )
    cents = None
    try:
        cents = euro_cents(amount)
    except FieldError as error:
        errors["amount"] = (error.message, {})
    if not goods_category:
        errors["goods_category"] = (N_("Choose the goods sold."), {})
    if errors or cents is None or not request_id:
        return await till_page(request, client, errors=errors, form=form, status=422)
    try:
        sale = await client.redeem(found_code, cents, goods_category, request_id[:64])
    except Problem as problem:
        return await till_page(
            request, client, errors=till_refusal(request, problem), form=form, status=422
        )
    if request.headers.get("HX-Request") == "true":
        result = {
            "amount_cents": sale["amount_cents"],
            "remaining_cents": sale["remaining_cents"],
            "masked": masked(found_code),
            "goods_category": sale["goods_category"],
        }
        response = await till_page(request, client, result=result, taken=found_code)
    else:
        response = RedirectResponse(f"/shop/till?done={sale['redemption_id']}", status_code=303)
    remember(request, response, found_code)
    return response


def till_refusal(request: Request, problem: Problem) -> dict[str, tuple[str, dict[str, str]]]:
    known = TILL_REFUSALS.get(problem.code)
    if problem.code == "validation_failed":
        names = " ".join(problem.field_errors())
        field = "amount" if "amount" in names else "goods_category" if "goods" in names else "code"
        return {field: (N_("This value is not accepted: check it and try again."), {})}
    if known is None:
        return {"": (N_("The sale was refused: %(reason)s"), {"reason": problem.detail})}
    field, message = known
    params: dict[str, str] = {}
    if problem.code == "insufficient_balance":
        left = int(problem.fields.get("remaining_cents") or 0)
        params["left"] = environment(language_of(request)).filters["money"](left)
    return {field: (message, params)}


@router.post("/shop/till/void", include_in_schema=False)
async def void(
    request: Request,
    csrf_token: Annotated[str | None, Form()] = None,
    code: Annotated[str, Form()] = "",
    redemption_id: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(request, csrf_token)
    _, client = shop_session(request)
    try:
        await client.void(code, redemption_id)
    except Problem as problem:
        return await till_page(request, client, errors=till_refusal(request, problem), status=422)
    if request.headers.get("HX-Request") == "true":
        sales = await todays_sales(request, client)
        found = next((s for s in sales if s["redemption_id"] == redemption_id), None)
        return await till_page(request, client, voided=found)
    return RedirectResponse(f"/shop/till?voided={redemption_id}", status_code=303)


# --- reimbursement claims ------------------------------------------------------------------


CLAIM_REFUSALS = {
    "nothing_to_claim": N_("There is nothing to claim in this period: no sale is left unclaimed."),
    "invalid_period": N_("This period cannot be claimed: check its dates."),
    "validation_failed": N_(
        "The period's dates are not valid: the end must not be before the start."
    ),
}


@router.get("/shop/claims", include_in_schema=False)
async def claims(request: Request, claimed: str = "") -> Response:
    _, client = shop_session(request)
    return await claims_page(request, client, notice_key="claimed" if claimed else "")


async def claims_page(
    request: Request,
    client: ShopClient,
    *,
    error: str | None = None,
    error_round: str = "",
    form: dict[str, str] | None = None,
    notice_key: str = "",
    status: int = 200,
) -> Response:
    accounts = await client.accounts()
    today = local_today(request)
    context = {
        "accounts": accounts,
        "error": error,
        "error_round": error_round,
        "form": form
        or {"period_from": today.replace(day=1).isoformat(), "period_to": today.isoformat()},
        "notice_key": notice_key,
        "day": lambda iso: format_date(
            date.fromisoformat(iso), "d MMMM y", locale=language_of(request)
        ),
    }
    return render(request, "shop/claims.html", context, status)


@router.post("/shop/claims", include_in_schema=False)
async def claim(
    request: Request,
    csrf_token: Annotated[str | None, Form()] = None,
    round_id: Annotated[str, Form()] = "",
    period_from: Annotated[str, Form()] = "",
    period_to: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(request, csrf_token)
    _, client = shop_session(request)
    form = {"period_from": period_from, "period_to": period_to}
    try:
        start, end = date.fromisoformat(period_from), date.fromisoformat(period_to)
    except ValueError:
        message = N_("Give the period's first and last day.")
        return await claims_page(
            request, client, error=message, error_round=round_id, form=form, status=422
        )
    if end < start:
        message = N_("The period's last day is before its first day.")
        return await claims_page(
            request, client, error=message, error_round=round_id, form=form, status=422
        )
    try:
        made = await client.claim(round_id, start.isoformat(), end.isoformat())
    except Problem as problem:
        message = CLAIM_REFUSALS.get(problem.code, N_("The claim was refused."))
        return await claims_page(
            request, client, error=message, error_round=round_id, form=form, status=422
        )
    return RedirectResponse(f"/shop/claims?claimed={made['claim_id']}", status_code=303)
