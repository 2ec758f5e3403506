"""What the provider's pages share: the notices shown after a form's redirect, the signed-in
provider, the services, an offering's title in the page's language."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from portal.access import Session, signed_in
from portal.clients import provider as calls
from portal.clients import services_of
from portal.clients.base import Problem
from portal.labels import N_
from portal.rendering import language_of, translate

NOTICES = {
    "accepted": N_("The request was accepted: the family is told."),
    "declined": N_("The request was declined: the family is told and the funds are released."),
    "delivered": N_(
        "The delivery was recorded: the family confirms it and the funds are captured."
    ),
    "slot": N_("The slot was opened: families can book it now."),
    "withdrawn": N_("The offering was withdrawn: it can no longer be booked."),
    "co_payment": N_("The co-payment is recorded as paid."),
}


def notice_of(request: Request, done: str | None) -> str | None:
    return translate(request, NOTICES[done]) if done in NOTICES else None


def provider_of(request: Request) -> tuple[Session, str]:
    session = signed_in(request, "provider")
    if not session.subject_id:  # a provider token always names the provider; never trust less
        raise Problem(403, "no_subject", detail="This session names no provider.")
    return session, session.subject_id


def title_of(offering: dict[str, Any], language: str) -> str:
    """An offering's title in the page's language (search rows or offering views)."""
    titles = offering.get("title")
    if isinstance(titles, dict):
        return str(titles.get(language) or next(iter(titles.values()), ""))
    return str(offering.get(f"title_{language}") or offering.get("title_it") or "")


async def titles(request: Request, session: Session, provider_id: str) -> dict[str, str]:
    """The provider's offerings' titles by id (a booking row names only the offering's id)."""
    try:
        found = await calls.offerings(services_of(request), session.token, provider_id)
    except Problem:
        return {}
    language = language_of(request)
    return {str(o["offering_id"]): title_of(o, language) for o in found}
