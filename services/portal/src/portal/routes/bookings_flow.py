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
    accept_taxable: bool = False  # ticked on the summary: the fringe year may become taxable

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
        choice.accept_taxable = str(values.get("accept_taxable", "")) == "yes"
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


# --- back to the summary of a booking the wallet refused ----------------------------------------


# Before the flow's routes: "/book/again/..." is no kind of thing to book.
@router.get("/book/again/{booking_id}", include_in_schema=False)
async def book_again(request: Request, booking_id: str) -> Response:
    """The summary of the same booking again (same slots, same split, same family member),
    with a new request id: for a booking the wallet refused, e.g. over the fringe cap while the
    summary said it was under, so the employee sees the figures and may accept them."""
    session = signed_in(request, "beneficiary")
    if not re.match(r"^[0-9a-fA-F-]{36}$", booking_id):
        raise Problem(404, "not_found", detail="")
    services: Services = request.app.state.services
    found = await api.booking(services, session.token, booking_id)
    components = found.get("components") or []
    if not components:
        raise Problem(404, "not_found", detail="")
    choice = Choice(member=str(found.get("for_member_id") or ""))
    for key, cents in (found.get("split") or {}).items():
        kind, _, account = str(key).partition(":")
        if kind == "wallet":
            choice.wallet = int(cents)
        elif kind == "voucher" and account:
            choice.vouchers[account] = int(cents)
    package_id = found.get("package_id")
    if package_id:
        _package, parts = await api.package_parts(services, str(package_id), session.token)
        slots = {str(c["offering_id"]): str(c["slot_id"]) for c in components}
        for part in parts:
            choice.slots[part.order] = slots.get(part.offering_id, SKIP)
        base = f"/book/package/{package_id}"
    else:
        choice.slots[1] = str(components[0]["slot_id"])
        base = f"/book/offering/{components[0]['offering_id']}"
    return _redirect(f"{base}/summary?{choice.query()}")


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


@dataclass(frozen=True)
class FringeCheck:
    """The welfare credit of a booking in the fringe-benefit category against the year's
    tax-free cap (TUIR art. 51 c. 3), as the wallet counts it: over the cap, the WHOLE year's
    fringe amount becomes taxable, not just the excess. ``over``: this booking would take an
    untaxed year over the cap (the employee must accept it); ``already_taxable``: the year is
    over the cap already. The wallet decides again when the booking's hold reaches it."""

    year: int
    used_cents: int
    booking_cents: int
    cap_cents: int
    already_taxable: bool

    @property
    def total_cents(self) -> int:
        return self.used_cents + self.booking_cents

    @property
    def over(self) -> bool:
        return not self.already_taxable and self.total_cents > self.cap_cents


def fringe_credit(flow: Flow, choice: Choice) -> int:
    """The welfare credit that would pay for fringe-benefit parts: all of it for a booking of
    fringe parts only; for a package mixing categories at most the fringe parts' prices (the
    booking service apportions the credit among the parts)."""
    if not choice.wallet or flow.sources.wallet_id is None:
        return 0
    fringe = sum(p.price_cents for p, _ in flow.chosen(choice) if p.category == api.FRINGE)
    return min(choice.wallet, fringe)


async def fringe_check(
    request: Request, session: Session, flow: Flow, choice: Choice
) -> FringeCheck | None:
    """The fringe year against this booking's credit, or None when it does not apply (no
    fringe credit, no year known yet: the wallet then warns, and the confirmation says so)."""
    cents = fringe_credit(flow, choice)
    year = flow.sources.wallet_year
    if session.role != "beneficiary" or not cents or year is None:
        return None
    statement = await api.fringe_statement(request.app.state.services, session.token, year)
    if statement is None or statement.cap_cents is None:
        return None
    return FringeCheck(
        year=statement.year,
        used_cents=statement.fringe_cents,
        booking_cents=cents,
        cap_cents=statement.cap_cents,
        already_taxable=statement.taxable or statement.fringe_cents > statement.cap_cents,
    )


def _summary(
    request: Request,
    flow: Flow,
    choice: Choice,
    status: int = 200,
    fringe: FringeCheck | None = None,
    **more: Any,
) -> Response:
    split = split_of(flow, choice)
    context = _context(
        flow,
        choice,
        rows=flow.chosen(choice),
        split=split,
        total=flow.total(choice),
        request_id=new_request_id(),
        fringe=fringe,
        errors=more.pop("errors", {}),
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
    fringe = await fringe_check(request, session, flow, choice)
    return _summary(request, flow, choice, fringe=fringe)


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
    fringe = await fringe_check(request, session, flow, choice)
    if fringe is not None and fringe.over and not choice.accept_taxable:
        errors = {"accept_taxable": N_("Tick the box to accept that it becomes taxable.")}
        return _summary(request, flow, choice, status=422, fringe=fringe, errors=errors)
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
    if choice.accept_taxable and choice.wallet and flow.sources.wallet_id is not None:
        # The employee accepted on the summary that the year's fringe amount becomes taxable.
        body["funding"]["wallet"] = {
            "wallet_id": flow.sources.wallet_id,
            "available_cents": choice.wallet,
            "confirm_taxable": True,
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
                fringe=fringe,
                price_changed=changed,
                new_price=refusal.fields.get("price_cents"),
            )
        if refusal.code in ("slot_unknown", "slot_unavailable", "offering_withdrawn"):
            return _summary(request, flow, choice, status=409, gone=True)
        return _summary(
            request, flow, choice, status=refusal.status, fringe=fringe, problem=refusal
        )
    return _redirect(f"/me/bookings/{accepted['booking_id']}/sent")
