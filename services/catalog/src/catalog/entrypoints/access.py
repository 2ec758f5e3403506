"""Who may do what in the catalog's routes, and the dependencies they share.

Who may do what: the territory's operator registers, accredits, suspends and reinstates
providers and composes packages; a provider (``provider:<id>``) applies, updates its contacts,
and manages only its own offerings and slots; any caller with a token may hold places; anyone,
even without a token, can browse and search.

Who sees which providers: the operator and auditors see all of them, whatever their status (the
review queue is ``GET /providers?status=applied&sort=applied``) and their history; a provider
sees itself; everyone else sees accredited providers only, with the organisation's public
contacts. The restricted part of a provider (its fiscal code, when it registered and its contact
person, who is personal data) is shown only to the operator and the provider itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any
from uuid import UUID

from fastapi import Depends, HTTPException, Path, Query, Request, status
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BeforeValidator
from servicekit.auth import ROLES, Principal, TokenVerifier, get_token_verifier, optional_principal
from servicekit.domain import Conflict, NotFound
from servicekit.http import application_of

from catalog.application import commands as cmd
from catalog.application.app import CatalogApplication
from catalog.domain.errors import BookingHoldNotYours, HoldNotFound
from catalog.domain.offering import Offering
from catalog.domain.provider import Provider
from catalog.domain.slot import BOOKING_HOLDER, Slot, is_booking_holder

OPERATOR_ONLY = ("operator",)
# Who sees every provider, accredited or not, and their histories.
OVERSEERS = ("operator", "auditor")
# Who may hold, confirm and release places (an auditor only looks).
BOOKERS = tuple(r for r in ROLES if r != "auditor")
# Public routes that show more to some callers: a token is optional, and OpenAPI says so
# (an empty requirement first: anonymous calls are fine).
OPTIONAL_BEARER: dict[str, Any] = {"security": [{}, {"HTTPBearer": []}]}
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_date(value: object) -> object:
    if isinstance(value, str) and not _ISO_DATE.fullmatch(value):
        raise ValueError("must be a date written YYYY-MM-DD")
    return value


# A date in a query, as OpenAPI documents it (pydantic alone would take "0" as a Unix time).
QueryDate = Annotated[date, BeforeValidator(_iso_date)]
REQUEST_ID_PATH = Path(
    min_length=1,
    max_length=128,
    pattern=cmd.REQUEST_ID_PATTERN,
    description="The request id the hold was made with (the holder's own)",
)


def catalog_app(request: Request) -> CatalogApplication:
    return application_of(request, CatalogApplication)


def public_caller(
    request: Request, verifier: TokenVerifier = Depends(get_token_verifier)
) -> Principal | None:
    """The caller if a bearer token was sent, None for anonymous calls (a token sent but invalid
    is still 401). Unlike the kit's ``optional_principal`` used as a dependency, it declares no
    required security in OpenAPI: the routes using it are public."""
    header = request.headers.get("Authorization")
    credentials: HTTPAuthorizationCredentials | None = None
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            credentials = HTTPAuthorizationCredentials(scheme=scheme, credentials=token.strip())
    return optional_principal(request, credentials, verifier)


def may_see_restricted(principal: Principal | None, provider_id: str) -> bool:
    return principal is not None and (
        principal.role == "operator" or principal.acts_for("provider", provider_id)
    )


@dataclass(frozen=True)
class ProvidersSeen:
    """What a caller's list of providers holds: providers of ``status`` (None: any), only
    ``only`` (a provider sees itself), with when they applied if ``privileged``."""

    status: str | None
    only: str | None
    privileged: bool


def providers_seen_by(principal: Principal | None, status_: str | None) -> ProvidersSeen:
    """The operator and auditors see every provider; a provider sees only itself; anyone else
    sees the accredited providers (asking for others is 403 ``forbidden_status``)."""
    if principal is not None and principal.role == "provider":
        return ProvidersSeen(status_, principal.subject_id, privileged=True)
    if principal is not None and principal.role in OVERSEERS:
        return ProvidersSeen(status_, None, privileged=True)
    if status_ not in (None, "accredited"):
        raise HTTPException(
            status_code=status.HTTP_403_FORBIDDEN,
            detail={
                "code": "forbidden_status",
                "message": "only the operator and auditors list providers that are not accredited",
            },
        )
    return ProvidersSeen("accredited", None, privileged=False)


def may_see_any_status(principal: Principal | None, provider_id: str) -> bool:
    return principal is not None and (
        principal.role in OVERSEERS or principal.acts_for("provider", provider_id)
    )


def visible_provider(
    provider_id: str, app: CatalogApplication, principal: Principal | None
) -> Provider:
    """The provider if the caller may see it: a provider that is not accredited is, for anyone
    but the operator, auditors and itself, as if it did not exist (404)."""
    provider = app.get_provider(provider_id)
    if not provider.bookable and not may_see_any_status(principal, provider_id):
        raise NotFound(f"no provider with id {provider_id}")
    return provider


def owned_offering(offering_id: UUID, app: CatalogApplication, principal: Principal) -> Offering:
    offering = app.get_offering(offering_id)
    principal.require_subject("provider", offering.provider_id, exempt_roles=OPERATOR_ONLY)
    return offering


HOLDER_QUERY = Query(
    None,
    max_length=140,
    description="For the slot's provider or the operator: whose hold (the holder's subject, "
    "e.g. beneficiary:b-001). Needed only when several callers used the same request id.",
)


def settled_holder(
    slot_id: UUID, request_id: str, holder: str | None, app: CatalogApplication, p: Principal
) -> str:
    """Whose hold a confirmation or release settles, never a booking's (403 ``booking_hold``:
    the booking saga settles those by event)."""
    whose = _settled_holder(slot_id, request_id, holder, app, p)
    if is_booking_holder(whose):
        raise BookingHoldNotYours(
            f"the hold {request_id} is booking {whose.removeprefix(BOOKING_HOLDER)}'s: it is "
            "confirmed or released by the booking service (a provider declines or cancels "
            "there)"
        )
    return whose


def _settled_holder(
    slot_id: UUID, request_id: str, holder: str | None, app: CatalogApplication, p: Principal
) -> str:
    """A caller settles its own (a request id is its holder's own: someone else's same id is
    never touched); the slot's provider or the operator settle anyone's, the holder named or
    the only one with that request id."""
    slot = app.get_slot(slot_id)
    if holder is None or holder == p.subject:
        if (p.subject, request_id) in slot.holds or not may_settle_others(p, slot):
            return p.subject
        holders = slot.holders_of(request_id)
        if len(holders) == 1:
            return holders[0]
        if not holders:
            raise HoldNotFound(f"slot {slot_id} has no hold for request {request_id}")
        raise Conflict(
            f"{len(holders)} callers hold places under request id {request_id}: name the "
            "holder (?holder=...)",
            holders=holders,
        )
    p.require_subject("provider", slot.provider_id, exempt_roles=OPERATOR_ONLY)
    return holder


def may_settle_others(p: Principal, slot: Slot) -> bool:
    return p.role == "operator" or p.acts_for("provider", slot.provider_id)
