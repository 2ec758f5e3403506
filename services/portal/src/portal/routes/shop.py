"""Pages of an affiliated shop: the till (a voucher's code typed or scanned, the amount the
Italian way, the goods; the answer tells what is left on the voucher; today's sales with a void
for the last 30 minutes) and the reimbursement claims with their promised payment dates.

Today's sales are the vouchers API's list of the shop's own sales since the territory's
midnight. The API keeps only the end of each voucher's code (the code itself is never stored),
so a void asks for the voucher again: the shopkeeper scans or types its code in the sale's row.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
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
from portal.security import check_csrf

router = APIRouter()

MAX_SALES = 200  # today's sales the till lists

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


def local_today(request: Request) -> date:
    return datetime.now(request.app.state.territory.zoneinfo).date()


def masked(code: str) -> str:
    """A code shown in a list: only its end, enough for the shopkeeper to recognise it."""
    return "…" + code[-6:]


def compact_code(code: str) -> str:
    """A code as the API normalises it, without separators (O is 0, I and L are 1)."""
    raw = code.strip().upper().replace("-", "").replace(" ", "")
    return raw.replace("O", "0").replace("I", "1").replace("L", "1")


async def todays_sales(request: Request, client: ShopClient) -> list[dict[str, Any]]:
    """Today's sales of this shop (since the territory's midnight), newest first, from the
    vouchers API's list of the shop's sales."""
    zone = request.app.state.territory.zoneinfo
    midnight = datetime.combine(local_today(request), time(0), tzinfo=zone)
    now = datetime.now(UTC)
    sales: list[dict[str, Any]] = []
    for row in await client.sales(midnight.isoformat(), MAX_SALES):
        at = datetime.fromisoformat(row["at"])
        until = row.get("voidable_until")
        hint = row.get("code_hint") or ""
        sales.append(
            {
                "at": row["at"],
                "time": at.astimezone(zone).strftime("%H:%M"),
                "hint": hint,
                "masked": "…" + hint if hint else "—",
                "amount_cents": row["amount_cents"],
                "goods_category": row.get("goods_category") or "",
                "redemption_id": row["redemption_id"],
                "voided": bool(row.get("voided")),
                "voidable": until is not None and now < datetime.fromisoformat(until),
            }
        )
    return sales


def cents_or_none(value: str) -> int | None:
    return int(value) if value.isdigit() else None


async def till_page(
    request: Request,
    client: ShopClient,
    *,
    errors: dict[str, tuple[str, dict[str, str]]] | None = None,
    form: dict[str, str] | None = None,
    result: dict[str, Any] | None = None,
    voided: dict[str, Any] | None = None,
    void_error: tuple[str, str, dict[str, str]] | None = None,
    status: int = 200,
) -> Response:
    accounts = await client.accounts()
    goods = sorted({g for account in accounts for g in account.get("goods_categories", [])})
    errors = dict(errors or {})
    void_row = ""
    if void_error is not None:  # told at the top, focused; the sale's code field marked
        void_row, message, params = void_error
        errors[""] = (message, params)
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
        "void_row": void_row,
        "sales": await todays_sales(request, client),
        "affiliated": bool(accounts),
    }
    if request.headers.get("HX-Request") == "true":  # htmx swaps a 200 only: refusals too
        return render(request, "shop/_till.html", context)
    return render(request, "shop/till.html", context, status)


@router.get("/shop/till", include_in_schema=False)
async def till(request: Request, done: str = "", voided: str = "", left: str = "") -> Response:
    """``done`` or ``voided``: the sale just taken or voided, found in today's sales; ``left``:
    what the API answered was left on the voucher (shown as the answer, as after htmx)."""
    _, client = shop_session(request)
    result = voided_sale = None
    if done or voided:
        sales = await todays_sales(request, client)
        found = next((s for s in sales if s["redemption_id"] in (done, voided)), None)
        if found is not None:
            found = {**found, "remaining_cents": cents_or_none(left)}
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
        return await till_page(request, client, result=result)
    left = int(sale["remaining_cents"])
    return RedirectResponse(f"/shop/till?done={sale['redemption_id']}&left={left}", status_code=303)


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
    hint: Annotated[str, Form()] = "",
) -> Response:
    """Void one of today's sales: the voucher's code is scanned or typed again in its row (the
    API keeps only its end, ``hint``, which the code must end with: nothing is sent otherwise)."""
    check_csrf(request, csrf_token)
    _, client = shop_session(request)
    found_code = code_from_scan(code)
    message: tuple[str, dict[str, str]] | None = None
    if not found_code:
        message = (N_("Type or scan the voucher's code to void its sale."), {})
    elif not code_length_ok(found_code):
        message = (
            N_("A voucher code has 16 characters and a check character: XXXX-XXXX-XXXX-XXXX-X."),
            {},
        )
    elif hint and not compact_code(found_code).endswith(compact_code(hint)):
        message = (
            N_("This is not the voucher of this sale: scan or type that voucher's code."),
            {},
        )
    if message is not None:
        return await till_page(request, client, void_error=(redemption_id, *message), status=422)
    try:
        answer = await client.void(found_code, redemption_id)
    except Problem as problem:
        refusal = next(iter(till_refusal(request, problem).values()))
        return await till_page(request, client, void_error=(redemption_id, *refusal), status=422)
    left = int(answer["remaining_cents"])
    if request.headers.get("HX-Request") == "true":
        sales = await todays_sales(request, client)
        found = next((s for s in sales if s["redemption_id"] == redemption_id), None)
        voided = None if found is None else {**found, "remaining_cents": left}
        return await till_page(request, client, voided=voided)
    return RedirectResponse(f"/shop/till?voided={redemption_id}&left={left}", status_code=303)


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
