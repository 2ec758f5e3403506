"""What each step of the voucher application's stepper checks (household, income and ISEE,
declarations), the step's fields taken from its form into the draft, and the application sent
once the draft is complete."""

from __future__ import annotations

import re
from typing import Any

from servicekit.italian_ids import InvalidItalianId, validate_fiscal_code

from portal.forms import FieldError, euro_cents
from portal.labels import N_
from portal.routes.household_draft import MAX_OTHER_MEMBERS, Draft, Member

NAME_LENGTH = 60
ADDRESS_LENGTH = 200
_ZERO = re.compile(r"^0+([.,]0{1,2})?$")


def _text(value: str, limit: int) -> str | None:
    """A message when a required text is empty or too long."""
    if not value.strip():
        return N_("Fill in this field.")
    if len(value.strip()) > limit:
        return N_("This is too long.")
    return None


def _fiscal_code(value: str) -> tuple[str | None, str | None]:
    """The normalised code, or a message."""
    if not value.strip():
        return None, N_("Fill in this field.")
    try:
        return validate_fiscal_code(value), None
    except InvalidItalianId:
        return None, N_("This is not a valid fiscal code: check its 16 characters.")


def household_errors(draft: Draft) -> dict[str, str]:
    errors: dict[str, str] = {}
    seen: set[str] = set()
    people = [("", Member(draft.first_name, draft.last_name, draft.fiscal_code))] + [
        (f"member-{i}-", m) for i, m in enumerate(draft.members)
    ]
    for prefix, person in people:
        if prefix and person.blank():
            continue
        for name, limit in (("first_name", NAME_LENGTH), ("last_name", NAME_LENGTH)):
            message = _text(getattr(person, name), limit)
            if message:
                errors[prefix + name] = message
        code, message = _fiscal_code(person.fiscal_code)
        if message:
            errors[prefix + "fiscal_code"] = message
        elif code in seen:
            errors[prefix + "fiscal_code"] = N_("This fiscal code is already in the household.")
        elif code:
            seen.add(code)
    message = _text(draft.address, ADDRESS_LENGTH)
    if message:
        errors["address"] = message
    return errors


def isee_cents(text: str) -> int:
    """The ISEE typed in euro (``12.345,67``); zero is a valid ISEE."""
    if _ZERO.match(text.strip().replace("€", "").strip()):
        return 0
    cents = euro_cents(text)
    assert cents is not None
    return cents


def income_errors(draft: Draft) -> dict[str, str]:
    errors: dict[str, str] = {}
    try:
        isee_cents(draft.isee)
    except FieldError as error:
        errors["isee"] = error.message
    if draft.other_support not in ("yes", "no"):
        errors["other_support"] = N_("Answer yes or no.")
    return errors


def declarations_errors(draft: Draft) -> dict[str, str]:
    if not draft.declared:
        return {"declared": N_("Tick the declaration to go on: the application needs it.")}
    return {}


CHECKS = {"household": household_errors, "income": income_errors}
CHECKS["declarations"] = declarations_errors


def first_incomplete(draft: Draft) -> str | None:
    return next((step for step, check in CHECKS.items() if check(draft)), None)


def application_of(draft: Draft) -> dict[str, Any]:
    """The body of ``POST /applications`` (the draft complete and checked)."""

    def person(m: Member) -> dict[str, Any]:
        return {
            "fiscal_code": validate_fiscal_code(m.fiscal_code),
            "first_name": m.first_name.strip(),
            "last_name": m.last_name.strip(),
            "minor": m.minor,
        }

    return {
        "round_id": draft.round_id,
        "applicant": person(Member(draft.first_name, draft.last_name, draft.fiscal_code)),
        "other_members": [person(m) for m in draft.members if not m.blank()],
        "address": draft.address.strip(),
        "isee_cents": isee_cents(draft.isee),
        "other_public_support": draft.other_support == "yes",
        "self_declaration": draft.declared,
    }


def take_step_fields(draft: Draft, step: str, form: Any) -> None:
    """The step's fields from the posted form into the draft, as typed."""

    def text(name: str) -> str:
        return str(form.get(name) or "")[:ADDRESS_LENGTH]

    if step == "household":
        draft.first_name = text("first_name")
        draft.last_name = text("last_name")
        draft.fiscal_code = text("fiscal_code")
        draft.address = text("address")
        try:
            count = min(int(str(form.get("member_count") or 0)), MAX_OTHER_MEMBERS)
        except ValueError:
            count = 0
        draft.members = [
            Member(
                first_name=text(f"member-{i}-first_name"),
                last_name=text(f"member-{i}-last_name"),
                fiscal_code=text(f"member-{i}-fiscal_code"),
                minor=form.get(f"member-{i}-minor") == "yes",
            )
            for i in range(max(count, 0))
        ]
    elif step == "income":
        draft.isee = text("isee")
        draft.other_support = text("other_support")
    elif step == "declarations":
        draft.declared = form.get("declared") == "yes"
