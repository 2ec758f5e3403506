"""What the operator's pages share: the notices shown after a form's redirect, the signed-in
operator, the services, a refusal to show, a municipality's name."""

from __future__ import annotations

from fastapi import Request

from portal.access import Session, signed_in
from portal.clients.base import Problem
from portal.labels import N_
from portal.rendering import translate

NOTICES = {
    "accreditation": N_("The provider is accredited: its offerings can be booked."),
    "suspension": N_("The provider is suspended: its offerings cannot be booked until reinstated."),
    "reinstatement": N_("The provider is reinstated: its offerings can be booked again."),
    "round": N_("The round is open on its fund."),
    "resolved": N_("The dispute is decided: the funds follow the decision."),
}


def notice_of(request: Request) -> str | None:
    done = request.query_params.get("done")
    return translate(request, NOTICES[done]) if done in NOTICES else None


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
