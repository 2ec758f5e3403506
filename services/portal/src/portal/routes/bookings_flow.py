"""The appointment flow (Designers Italia): book an offering or a package in four steps —
1 the slot of each part, 2 how it is paid (welfare credit, service vouchers, the co-payment
left), 3 a summary before confirming, 4 the confirmation following the booking's status.

Each step is a form that posts and redirects to the next; what was chosen travels in the next
step's address (slots, amounts in cents, and for a social worker the citizen and the consent),
so "Back" on every step is a link that keeps it all. The summary's form carries a request id
made when it was shown (``new_request_id``): sent twice, it is one booking."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from portal.access import Session, signed_in
from portal.clients import Services
from portal.clients import booking as api
from portal.clients.base import Problem, new_request_id
from portal.forms import FieldError, euro_cents
from portal.labels import N_
from portal.rendering import render
from portal.security import check_csrf

router = APIRouter()
FAMILY = ("beneficiary", "social_worker")
KINDS = ("offering", "package")
SKIP = "none"  # an optional part of a package left out
_ZERO = re.compile(r"^0+([.,]0{1,2})?$")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@:-]{0,127}$")


@dataclass
class Choice:
    """What the user chose so far, as it travels from step to step."""

    slots: dict[int, str] = field(default_factory=dict)
    wallet: int | None = None  # None: not chosen yet (the default split is proposed)
    vouchers: dict[str, int] = field(default_factory=dict)
    beneficiary: str = ""  # a social worker's citizen
    consent: str = ""
    code: str = ""  # a service voucher's code, typed by a social worker
    member: str = ""  # the employee's family member the care is for (empty: the user)

    @classmethod
    def of(cls, values: Any) -> Choice:
        choice = cls()
        for name, value in values.items():
            value = str(value)
            if name.startswith("slot_") and name[5:].isdigit():
                choice.slots[int(name[5:])] = value
            elif name == "wallet" and value.isdigit():
                choice.wallet = int(value)
            elif name.startswith("v_") and value.isdigit():
                choice.vouchers[name[2:]] = int(value)
        choice.beneficiary = str(values.get("for", ""))[:128]
        choice.consent = str(values.get("consent", ""))[:200]
        choice.code = str(values.get("code", "")).strip().upper()[:40]
        choice.member = str(values.get("member", ""))[:128]
        return choice

    def query(self, *, funding: bool = True) -> str:
        params: dict[str, str | int] = {f"slot_{o}": s for o, s in sorted(self.slots.items())}
        if self.member:
            params["member"] = self.member
        if funding and self.wallet is not None:
            params["wallet"] = self.wallet
        if funding:
            params.update({f"v_{v}": c for v, c in self.vouchers.items()})
            if self.code:
                params["code"] = self.code
        if self.beneficiary:
            params["for"] = self.beneficiary
            params["consent"] = self.consent
        return urlencode(params)

    @property
    def funding_chosen(self) -> bool:
        return self.wallet is not None or bool(self.vouchers)


@dataclass
class Flow:
    """The thing being booked, its parts, and what can pay for it."""

    kind: str
    target_id: str
    title: dict[str, str]
    parts: list[api.Part]
    package: dict[str, Any] | None
    sources: api.Sources
    code_error: str | None = None  # the voucher code a social worker typed, refused

    @property
    def base(self) -> str:
        return f"/book/{self.kind}/{self.target_id}"

    def chosen(self, choice: Choice) -> list[tuple[api.Part, dict[str, Any]]]:
        """The parts booked with their slot (an optional part left out is not)."""
        rows = []
        for part in self.parts:
            slot = part.slot(choice.slots.get(part.order, ""))
            if slot is not None:
                rows.append((part, slot))
        return rows

    def total(self, choice: Choice) -> int:
        return sum(part.price_cents for part, _ in self.chosen(choice))

    def categories(self, choice: Choice) -> set[str]:
        return {part.category for part, _ in self.chosen(choice)}


async def load_flow(
    request: Request, session: Session, kind: str, target_id: str, choice: Choice
) -> Flow:
    services: Services = request.app.state.services
    if kind not in KINDS or not _ID.match(target_id):
        raise Problem(404, "not_found", detail="")
    package = None
    if kind == "package":
        package, parts = await api.package_parts(services, target_id, session.token)
        title = package.get("title") or {}
    else:
        parts = await api.offering_part(services, target_id, session.token)
        title = parts[0].offering.get("title") or {}
    categories = {p.category for p in parts}
    code_error = None
    if session.role == "beneficiary":
        sources = await api.sources_of(services, session.token, categories)
    elif choice.code:  # a social worker reads no citizen's wallet: a voucher by its code only
        sources, code_error = await api.voucher_of_citizen(
            services, session.token, choice.code, choice.beneficiary, categories
        )
    else:
        sources = api.Sources()
    return Flow(kind, target_id, title, parts, package, sources, code_error)


def _slot_errors(flow: Flow, choice: Choice) -> dict[str, str]:
    errors: dict[str, str] = {}
    for part in flow.parts:
        chosen = choice.slots.get(part.order, "")
        if chosen == SKIP and not part.required:
            continue
        if part.slot(chosen) is None:
            errors[f"slot_{part.order}"] = (
                N_("This slot is no longer free: choose another one.")
                if chosen
                else N_("Choose a slot.")
            )
    if choice.member and choice.member not in flow.sources.members:
        errors["member"] = N_("Choose one of the family members named in your wallet.")
    if not errors and not flow.chosen(choice):
        errors[f"slot_{flow.parts[0].order}"] = N_("Choose a slot.")
    return errors


def _who_errors(session: Session, choice: Choice) -> dict[str, str]:
    if session.role != "social_worker":
        return {}
    errors = {}
    if not _ID.match(choice.beneficiary):
        errors["for"] = N_("Enter the citizen's beneficiary id, for example b-biella-001.")
    if not choice.consent.strip():
        errors["consent"] = N_("Enter the reference of the citizen's consent.")
    return errors


def default_split(flow: Flow, choice: Choice) -> Choice:
    """Vouchers first, then the welfare credit, up to what each has; the rest a co-payment."""
    left = flow.total(choice)
    vouchers = {}
    for voucher in flow.sources.vouchers:
        cents = min(left, voucher.available_cents)
        vouchers[voucher.voucher_id] = cents
        left -= cents
    wallet = min(left, flow.sources.wallet_max(flow.categories(choice)))
    return replace(choice, wallet=wallet, vouchers=vouchers)


def _typed(text: str) -> int:
    value = text.strip()
    if not value or _ZERO.match(value.replace("€", "").strip()):
        return 0
    cents = euro_cents(value)
    assert cents is not None
    return cents


def read_amounts(
    flow: Flow, choice: Choice, form: Any
) -> tuple[Choice, dict[str, str], dict[str, str]]:
    """The amounts typed on the payment step: the choice, the errors by field, the text typed."""
    typed: dict[str, str] = {}
    errors: dict[str, str] = {}
    amounts: dict[str, int] = {}
    limits = {f"v_{v.voucher_id}": v.available_cents for v in flow.sources.vouchers}
    if flow.sources.wallet_id is not None:
        limits["wallet"] = flow.sources.wallet_max(flow.categories(choice))
    for name, limit in limits.items():
        typed[name] = str(form.get(name, ""))[:40]
        try:
            cents = _typed(typed[name])
        except FieldError as error:
            errors[name] = error.message
            continue
        if cents > limit:
            errors[name] = N_("This is more than is available.")
        amounts[name] = cents
    if not errors and sum(amounts.values()) > flow.total(choice):
        errors[next(iter(limits))] = N_("Together the amounts are more than the price.")
    new = replace(
        choice,
        wallet=amounts.get("wallet", 0) if flow.sources.wallet_id is not None else None,
        vouchers={v.voucher_id: amounts.get(f"v_{v.voucher_id}", 0) for v in flow.sources.vouchers},
    )
    return new, errors, typed


def _citizen_voucher(
    flow: Flow, choice: Choice, form: Any
) -> tuple[Choice, dict[str, str], dict[str, str]]:
    """A social worker's payment step: a voucher by its code (and how much of it), or none."""
    typed = {
        "code": choice.code,
        "voucher_amount": str(form.get("voucher_amount", "")).strip()[:40],
    }
    none = replace(choice, wallet=None, vouchers={})
    if not choice.code:
        if typed["voucher_amount"] and not _ZERO.match(typed["voucher_amount"]):
            return none, {"code": N_("Enter the code of the voucher to pay with.")}, typed
        return none, {}, typed
    if flow.code_error or not flow.sources.vouchers:
        return none, {"code": flow.code_error or N_("No voucher has this code.")}, typed
    voucher = flow.sources.vouchers[0]
    mapped = {f"v_{voucher.voucher_id}": typed["voucher_amount"]}
    new, errors, _ = read_amounts(flow, choice, mapped)
    new.code = choice.code
    errors = {"voucher_amount": next(iter(errors.values()))} if errors else {}
    return new, errors, typed


def funding_errors(flow: Flow, choice: Choice) -> bool:
    """Whether what the address says no longer fits what the sources have or the price."""
    wallet = choice.wallet or 0
    if wallet and wallet > flow.sources.wallet_max(flow.categories(choice)):
        return True
    available = {v.voucher_id: v.available_cents for v in flow.sources.vouchers}
    for voucher_id, cents in choice.vouchers.items():
        if cents and cents > available.get(voucher_id, 0):
            return True
    return wallet + sum(choice.vouchers.values()) > flow.total(choice)


def split_of(flow: Flow, choice: Choice) -> list[dict[str, Any]]:
    split: list[dict[str, Any]] = [
        {"source": "voucher", "account_id": v, "amount_cents": c}
        for v, c in choice.vouchers.items()
        if c
    ]
    if choice.wallet and flow.sources.wallet_id:
        split.append(
            {
                "source": "wallet",
                "account_id": flow.sources.wallet_id,
                "amount_cents": choice.wallet,
            }
        )
    co_payment = flow.total(choice) - sum(part["amount_cents"] for part in split)
    if co_payment or not split:
        split.append({"source": "co_payment", "amount_cents": co_payment})
    return split


def typed_amount(cents: int, language: str) -> str:
    whole, part = divmod(cents, 100)
    return f"{whole}{',' if language == 'it' else '.'}{part:02d}"


RELATIONSHIPS = {
    "spouse": N_("spouse"),
    "child": N_("child"),
    "parent": N_("parent"),
    "other_dependent": N_("other dependent"),
}


def source_label(key: str) -> str:
    """A funding source for people: ``voucher:<id>``, ``wallet:<id>``, ``co_payment``."""
    kind = key.partition(":")[0]
    return {
        "voucher": N_("Service voucher"),
        "wallet": N_("Welfare credit"),
        "co_payment": N_("Family co-payment"),
    }.get(kind, key)


def _context(flow: Flow, choice: Choice, **more: Any) -> dict[str, Any]:
    return {
        "flow": flow,
        "choice": choice,
        "query": choice.query(),
        "skip": SKIP,
        "source_label": source_label,
        "relationships": RELATIONSHIPS,
        **more,
    }


def _redirect(path: str) -> Response:
    return RedirectResponse(path, status_code=303)


# --- step 1: the slots --------------------------------------------------------------------------


@router.get("/book/{kind}/{target_id}", include_in_schema=False)
async def slots_step(request: Request, kind: str, target_id: str) -> Response:
    session = signed_in(request, *FAMILY)
    choice = Choice.of(request.query_params)
    flow = await load_flow(request, session, kind, target_id, choice)
    return render(request, "booking/slots.html", _context(flow, choice, errors={}))


@router.post("/book/{kind}/{target_id}", include_in_schema=False)
async def slots_chosen(request: Request, kind: str, target_id: str) -> Response:
    form = await request.form()
    check_csrf(request, str(form.get("csrf_token") or ""))
    session = signed_in(request, *FAMILY)
    choice = Choice.of(form)
    flow = await load_flow(request, session, kind, target_id, choice)
    errors = _slot_errors(flow, choice) | _who_errors(session, choice)
    if errors:
        context = _context(flow, choice, errors=errors)
        return render(request, "booking/slots.html", context, status=422)
    # Amounts chosen before (back from a later step) travel on as hidden fields.
    return _redirect(f"{flow.base}/funding?{choice.query()}")


# --- step 2: the payment ------------------------------------------------------------------------


@router.get("/book/{kind}/{target_id}/funding", include_in_schema=False)
async def funding_step(request: Request, kind: str, target_id: str) -> Response:
    session = signed_in(request, *FAMILY)
    choice = Choice.of(request.query_params)
    flow = await load_flow(request, session, kind, target_id, choice)
    if _slot_errors(flow, choice) or _who_errors(session, choice):
        return _redirect(f"{flow.base}?{choice.query()}")
    shown = choice if choice.funding_chosen else default_split(flow, choice)
    language = request.state.language
    typed = {f"v_{v}": typed_amount(c, language) for v, c in shown.vouchers.items()}
    if shown.wallet is not None:
        typed["wallet"] = typed_amount(shown.wallet, language)
    if session.role == "social_worker":
        typed = {"code": choice.code}
        if choice.vouchers:
            typed["voucher_amount"] = typed_amount(sum(choice.vouchers.values()), language)
    context = _context(flow, choice, errors={}, typed=typed, shown=shown)
    return render(request, "booking/funding.html", context)


@router.post("/book/{kind}/{target_id}/funding", include_in_schema=False)
async def funding_chosen(request: Request, kind: str, target_id: str) -> Response:
    form = await request.form()
    check_csrf(request, str(form.get("csrf_token") or ""))
    session = signed_in(request, *FAMILY)
    choice = Choice.of(form)
    flow = await load_flow(request, session, kind, target_id, choice)
    if _slot_errors(flow, choice) or _who_errors(session, choice):
        return _redirect(f"{flow.base}?{choice.query()}")
    if session.role == "social_worker":
        new, errors, typed = _citizen_voucher(flow, choice, form)
    else:
        new, errors, typed = read_amounts(flow, choice, form)
    if errors:
        context = _context(flow, choice, errors=errors, typed=typed, shown=new)
        return render(request, "booking/funding.html", context, status=422)
    return _redirect(f"{flow.base}/summary?{new.query()}")


@router.post("/book/{kind}/{target_id}/funding/left", include_in_schema=False)
async def co_payment_left(request: Request, kind: str, target_id: str) -> Response:
    """The co-payment left for the amounts typed so far (htmx, as the user types)."""
    form = await request.form()
    check_csrf(request, str(form.get("csrf_token") or ""))
    session = signed_in(request, *FAMILY)
    choice = Choice.of(form)
    flow = await load_flow(request, session, kind, target_id, choice)
    if _slot_errors(flow, choice):
        return _redirect(f"{flow.base}?{choice.query()}")
    if session.role == "social_worker":
        new, errors, _typed_text = _citizen_voucher(flow, choice, form)
    else:
        new, errors, _typed_text = read_amounts(flow, choice, form)
    context = _context(flow, choice, shown=new, total=flow.total(choice), invalid=bool(errors))
    return render(request, "booking/_co_payment.html", context)


# --- step 3: the summary, and the booking -------------------------------------------------------


def _summary(
    request: Request, flow: Flow, choice: Choice, status: int = 200, **more: Any
) -> Response:
    split = split_of(flow, choice)
    context = _context(
        flow,
        choice,
        rows=flow.chosen(choice),
        split=split,
        total=flow.total(choice),
        request_id=new_request_id(),
        **more,
    )
    return render(request, "booking/summary.html", context, status=status)


@router.get("/book/{kind}/{target_id}/summary", include_in_schema=False)
async def summary_step(request: Request, kind: str, target_id: str) -> Response:
    session = signed_in(request, *FAMILY)
    choice = Choice.of(request.query_params)
    flow = await load_flow(request, session, kind, target_id, choice)
    if _who_errors(session, choice):
        return _redirect(f"{flow.base}?{choice.query()}")
    if _slot_errors(flow, choice):
        return _summary(request, flow, choice, status=409, gone=True)
    if funding_errors(flow, choice):
        return _redirect(f"{flow.base}/funding?{choice.query(funding=False)}")
    return _summary(request, flow, choice)


@router.post("/book/{kind}/{target_id}/summary", include_in_schema=False)
async def book(request: Request, kind: str, target_id: str) -> Response:
    form = await request.form()
    check_csrf(request, str(form.get("csrf_token") or ""))
    session = signed_in(request, *FAMILY)
    choice = Choice.of(form)
    flow = await load_flow(request, session, kind, target_id, choice)
    request_id = str(form.get("request_id") or "")
    if _who_errors(session, choice) or not re.match(r"^[A-Za-z0-9]{8,64}$", request_id):
        return _redirect(f"{flow.base}?{choice.query()}")
    if _slot_errors(flow, choice):
        return _summary(request, flow, choice, status=409, gone=True)
    if funding_errors(flow, choice):
        return _redirect(f"{flow.base}/funding?{choice.query(funding=False)}")
    body: dict[str, Any] = {
        "request_id": request_id,
        "components": [
            {
                "offering_id": part.offering_id,
                "slot_id": slot["slot_id"],
                "price_cents": part.price_cents,
                "order": part.order,
            }
            for part, slot in flow.chosen(choice)
        ],
        "funding": {"split": split_of(flow, choice)},
    }
    if flow.kind == "package":
        body["package_id"] = flow.target_id
    if choice.member:
        body["for_member_id"] = choice.member
    if session.role == "social_worker":
        body["beneficiary_id"] = choice.beneficiary
        body["consent_reference"] = choice.consent.strip()
    try:
        accepted = await api.request_booking(request.app.state.services, session.token, body)
    except Problem as refusal:
        if refusal.code == "price_changed":
            changed = next(
                (p for p in flow.parts if p.offering_id == refusal.fields.get("offering_id")),
                None,
            )
            return _summary(
                request,
                flow,
                choice,
                status=409,
                price_changed=changed,
                new_price=refusal.fields.get("price_cents"),
            )
        if refusal.code in ("slot_unknown", "slot_unavailable", "offering_withdrawn"):
            return _summary(request, flow, choice, status=409, gone=True)
        return _summary(request, flow, choice, status=refusal.status, problem=refusal)
    return _redirect(f"/me/bookings/{accepted['booking_id']}/sent")
