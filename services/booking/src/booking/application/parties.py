"""Who a caller is to a booking, and what that lets them see and do. Each party sees only its
own bookings: the beneficiary, their current delegate and whoever requested it (a delegate, a
social worker on the beneficiary's behalf), the providers of its components, and the
territory's operator and auditor. Refusals are the domain's ``Forbidden`` (403)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from booking.domain.booking import Booking
from booking.domain.errors import NotAParty

FamilyRole = str  # "beneficiary", "delegate" or "social_worker"


@dataclass(frozen=True)
class Caller:
    """The verified role and subject of a token, as the application needs them."""

    role: str
    subject: str
    subject_id: str | None = None


IsDelegate = Callable[[str, str], bool]
"""(beneficiary id, subject id) → whether the subject is the beneficiary's current delegate."""


def family_role(booking: Booking, caller: Caller, is_delegate: IsDelegate) -> FamilyRole:
    """How the caller acts for the family of the booking; ``NotAParty`` if they do not."""
    if caller.role == "beneficiary" and caller.subject_id is not None:
        if caller.subject_id == booking.beneficiary_id:
            return "beneficiary"
        if caller.subject == booking.caller or is_delegate(
            booking.beneficiary_id, caller.subject_id
        ):
            return "delegate"
    if caller.role == "social_worker" and booking.requester.get("role") == "social_worker":
        return "social_worker"
    raise NotAParty("this booking is not yours, nor do you act for its beneficiary")


def check_may_read(booking: Booking, caller: Caller, is_delegate: IsDelegate) -> None:
    if caller.role in ("operator", "auditor"):
        return
    if caller.role == "provider" and any(
        c.provider_id == caller.subject_id for c in booking.components
    ):
        return
    family_role(booking, caller, is_delegate)


def provider_of(caller: Caller) -> str:
    if caller.role != "provider" or caller.subject_id is None:
        raise NotAParty("only a provider does this")
    return caller.subject_id
