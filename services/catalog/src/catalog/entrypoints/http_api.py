"""HTTP routes of the catalog service: they only translate HTTP into commands and queries.

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
from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, status
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel, BeforeValidator, Field
from servicekit.auth import (
    ROLES,
    Principal,
    TokenVerifier,
    get_token_verifier,
    optional_principal,
    require_roles,
)
from servicekit.domain import Conflict, NotFound
from servicekit.http import application_of

from catalog.adapters.read_model import ProviderQuery, ProviderRow, SearchQuery
from catalog.application import commands as cmd
from catalog.application.app import CatalogApplication
from catalog.domain.errors import HoldNotFound
from catalog.domain.offering import Offering
from catalog.domain.provider import Provider, ProviderKind, ProviderStatus
from catalog.domain.slot import Hold, Slot

providers = APIRouter(prefix="/providers", tags=["providers"])
offerings = APIRouter(prefix="/offerings", tags=["offerings"])
slots = APIRouter(prefix="/slots", tags=["slots"])
packages = APIRouter(prefix="/packages", tags=["packages"])
search = APIRouter(tags=["search"])

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


# --- views ---------------------------------------------------------------------------------------


class AddressView(BaseModel):
    street: str
    municipality_istat: str
    postcode: str


class ContactsView(BaseModel):
    """The organisation's own contacts: public for an accredited provider."""

    email: str | None
    phone: str | None = Field(description="International form, e.g. +390152523456")
    website: str | None
    address: AddressView | None


class ContactPersonView(BaseModel):
    name: str
    role: str | None
    phone: str | None
    email: str | None


class RestrictedView(BaseModel):
    """For the territory's operator and the provider itself only."""

    fiscal_code: str | None
    applied_at: datetime
    contact_person: ContactPersonView | None
    contact_person_erased: bool = Field(
        description="A contact person was named but their personal data is no longer readable"
    )


class ProviderView(BaseModel):
    provider_id: str
    legal_name: str
    kind: str
    status: str
    vat_number: str | None
    municipalities: list[str]
    certifications: list[str]
    goods_categories: list[str]
    contacts: ContactsView
    restricted: RestrictedView | None = Field(
        default=None, description="Only for the operator and the provider itself"
    )

    @classmethod
    def of(
        cls, p: Provider, app: CatalogApplication | None = None, restricted: bool = False
    ) -> ProviderView:
        """The public view; with ``restricted`` (and ``app`` to open the sealed contact
        person) the restricted part too."""
        extra: RestrictedView | None = None
        if restricted and app is not None:
            person = app.contact_person(p)
            extra = RestrictedView(
                fiscal_code=p.fiscal_code,
                applied_at=p.created_on,
                contact_person=ContactPersonView(**person.as_dict()) if person else None,
                contact_person_erased=person is None and p.contact_person_subject is not None,
            )
        return cls(
            provider_id=p.provider_id,
            legal_name=p.legal_name,
            kind=p.kind,
            status=p.status,
            vat_number=p.vat_number,
            municipalities=p.municipalities,
            certifications=p.certifications,
            goods_categories=p.goods_categories,
            contacts=ContactsView(
                email=p.contact_email,
                phone=p.phone,
                website=p.website,
                address=AddressView(**p.address) if p.address else None,
            ),
            restricted=extra,
        )


class ProviderSummary(BaseModel):
    """A provider in a list (from the read model): public fields and contacts;
    ``applied_at`` only for the operator, auditors and the provider itself."""

    provider_id: str
    legal_name: str
    kind: str
    status: str
    status_since: datetime
    applied_at: datetime | None
    vat_number: str | None
    municipalities: list[str]
    certifications: list[str]
    goods_categories: list[str]
    contacts: ContactsView

    @classmethod
    def of(cls, r: ProviderRow, privileged: bool) -> ProviderSummary:
        return cls(
            provider_id=r.provider_id,
            legal_name=r.legal_name,
            kind=r.kind,
            status=r.status,
            status_since=r.status_since,
            applied_at=r.applied_at if privileged else None,
            vat_number=r.vat_number,
            municipalities=r.municipalities,
            certifications=r.certifications,
            goods_categories=r.goods_categories,
            contacts=ContactsView(
                email=r.email,
                phone=r.phone,
                website=r.website,
                address=AddressView(**r.address) if r.address else None,
            ),
        )


class ProviderList(BaseModel):
    total: int
    page: int
    page_size: int
    items: list[ProviderSummary]


class HistoryEntry(BaseModel):
    version: int
    at: datetime
    event: str = Field(
        description="applied, accredited, suspended, reinstated, certification_added, "
        "merchant_affiliated or contacts_updated"
    )
    by: str | None = Field(description="Who did it (the token's subject), when recorded")
    details: dict[str, Any]


class PriceView(BaseModel):
    valid_from: datetime
    price_cents: int
    unit: str


class OfferingView(BaseModel):
    offering_id: UUID
    provider_id: str
    status: str
    title: dict[str, str]
    description: dict[str, str]
    category: str
    delivery_mode: str
    price_cents: int
    unit: str
    municipalities: list[str]
    price_history: list[PriceView]

    @classmethod
    def of(cls, o: Offering) -> OfferingView:
        return cls(
            offering_id=o.id,
            provider_id=o.provider_id,
            status=o.status,
            title=o.title,
            description=o.description,
            category=o.category,
            delivery_mode=o.delivery_mode,
            price_cents=o.current_price.price_cents,
            unit=o.current_price.unit,
            municipalities=o.municipalities,
            price_history=[PriceView(**vars(p)) for p in o.prices],
        )


class HoldView(BaseModel):
    slot_id: UUID
    request_id: str
    quantity: int
    status: str
    expires_at: datetime | None

    @classmethod
    def of(cls, slot_id: UUID, h: Hold) -> HoldView:
        return cls(
            slot_id=slot_id,
            request_id=h.request_id,
            quantity=h.quantity,
            status=h.status,
            expires_at=h.expires_at,
        )


class Created(BaseModel):
    id: str


# --- providers -----------------------------------------------------------------------------------


def may_see_restricted(principal: Principal | None, provider_id: str) -> bool:
    return principal is not None and (
        principal.role == "operator" or principal.acts_for("provider", provider_id)
    )


def may_see_any_status(principal: Principal | None, provider_id: str) -> bool:
    return principal is not None and (
        principal.role in OVERSEERS or principal.acts_for("provider", provider_id)
    )


@providers.post("", status_code=status.HTTP_201_CREATED, summary="Apply to join the catalogue")
def register_provider(
    command: cmd.RegisterProvider,
    app: CatalogApplication = Depends(catalog_app),
    principal: Principal = Depends(require_roles("operator", "provider")),
) -> Created:
    principal.require_subject("provider", command.provider_id, exempt_roles=OPERATOR_ONLY)
    return Created(id=app.register_provider(command, principal.subject))


@providers.get(
    "",
    summary="Providers: the operator's review queue, or the public list",
    openapi_extra=OPTIONAL_BEARER,
)
def list_providers(
    status_: ProviderStatus | None = Query(None, alias="status"),
    kind: ProviderKind | None = None,
    municipality: str | None = Query(
        None, pattern=r"^\d{6}$", description="ISTAT code of a municipality served"
    ),
    q: str = Query("", max_length=100, description="Words of the legal name or the id"),
    sort: Literal["name", "applied", "recent"] = Query(
        "name",
        description="name; applied: oldest application first (the review queue); "
        "recent: latest status change first",
    ),
    page: int = Query(1, ge=1, le=10_000),
    page_size: int = Query(20, ge=1, le=100),
    app: CatalogApplication = Depends(catalog_app),
    principal: Principal | None = Depends(public_caller),
) -> ProviderList:
    """The operator and auditors see every provider; a provider sees only itself; anyone else
    (no token needed) sees the accredited providers."""
    only: str | None = None
    privileged = principal is not None and principal.role in OVERSEERS
    if principal is not None and principal.role == "provider":
        only = principal.subject_id
        privileged = True
    elif not privileged:
        if status_ not in (None, "accredited"):
            raise HTTPException(
                status_code=status.HTTP_403_FORBIDDEN,
                detail={
                    "code": "forbidden_status",
                    "message": "only the operator and auditors list providers that are not "
                    "accredited",
                },
            )
        status_ = "accredited"
    found = app.providers(
        ProviderQuery(
            status=status_,
            kind=kind,
            municipality=municipality,
            provider_id=only,
            text=q,
            sort=sort,
            page=page,
            page_size=page_size,
        )
    )
    return ProviderList(
        total=found.total,
        page=found.page,
        page_size=found.page_size,
        items=[ProviderSummary.of(r, privileged) for r in found.items],
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


@providers.get(
    "/{provider_id}",
    summary="A provider (public; more for the operator and itself)",
    openapi_extra=OPTIONAL_BEARER,
)
def get_provider(
    provider_id: str,
    app: CatalogApplication = Depends(catalog_app),
    principal: Principal | None = Depends(public_caller),
) -> ProviderView:
    provider = visible_provider(provider_id, app, principal)
    return ProviderView.of(provider, app, may_see_restricted(principal, provider_id))


@providers.get("/{provider_id}/history", summary="A provider's lifecycle, oldest first")
def provider_history(
    provider_id: str,
    app: CatalogApplication = Depends(catalog_app),
    principal: Principal = Depends(require_roles("operator", "auditor", "provider")),
) -> list[HistoryEntry]:
    principal.require_subject("provider", provider_id, exempt_roles=OVERSEERS)
    return [HistoryEntry(**entry) for entry in app.provider_history(provider_id)]


@providers.patch(
    "/{provider_id}/contacts",
    summary="Update the contacts (only the fields given; null clears one)",
)
def update_contacts(
    provider_id: str,
    command: cmd.UpdateContacts,
    app: CatalogApplication = Depends(catalog_app),
    principal: Principal = Depends(require_roles("operator", "provider")),
) -> ProviderView:
    principal.require_subject("provider", provider_id, exempt_roles=OPERATOR_ONLY)
    app.update_contacts(provider_id, command, principal.subject)
    return ProviderView.of(app.get_provider(provider_id), app, restricted=True)


@providers.post("/{provider_id}/accreditation", summary="Accredit an applied provider")
def accredit(
    provider_id: str,
    app: CatalogApplication = Depends(catalog_app),
    principal: Principal = Depends(require_roles("operator")),
) -> ProviderView:
    app.accredit_provider(provider_id, principal.subject)
    return ProviderView.of(app.get_provider(provider_id), app, restricted=True)


@providers.post("/{provider_id}/suspension", summary="Suspend a provider")
def suspend(
    provider_id: str,
    command: cmd.SuspendProvider,
    app: CatalogApplication = Depends(catalog_app),
    principal: Principal = Depends(require_roles("operator")),
) -> ProviderView:
    app.suspend_provider(provider_id, command, principal.subject)
    return ProviderView.of(app.get_provider(provider_id), app, restricted=True)


@providers.post("/{provider_id}/reinstatement", summary="Reinstate a suspended provider")
def reinstate(
    provider_id: str,
    app: CatalogApplication = Depends(catalog_app),
    principal: Principal = Depends(require_roles("operator")),
) -> ProviderView:
    app.reinstate_provider(provider_id, principal.subject)
    return ProviderView.of(app.get_provider(provider_id), app, restricted=True)


@providers.post("/{provider_id}/certifications", summary="Record a quality certification")
def add_certification(
    provider_id: str,
    command: cmd.AddCertification,
    app: CatalogApplication = Depends(catalog_app),
    principal: Principal = Depends(require_roles("operator", "provider")),
) -> ProviderView:
    principal.require_subject("provider", provider_id, exempt_roles=OPERATOR_ONLY)
    app.add_certification(provider_id, command, principal.subject)
    return ProviderView.of(app.get_provider(provider_id), app, restricted=True)


@providers.post("/{provider_id}/merchant-affiliation", summary="Affiliate a shop to vouchers")
def affiliate_merchant(
    provider_id: str,
    command: cmd.AffiliateMerchant,
    app: CatalogApplication = Depends(catalog_app),
    principal: Principal = Depends(require_roles("operator")),
) -> ProviderView:
    app.affiliate_merchant(provider_id, command, principal.subject)
    return ProviderView.of(app.get_provider(provider_id), app, restricted=True)


@providers.post(
    "/{provider_id}/offerings",
    status_code=status.HTTP_201_CREATED,
    summary="Draft an offering (the provider itself)",
)
def draft_offering(
    provider_id: str,
    command: cmd.DraftOffering,
    app: CatalogApplication = Depends(catalog_app),
    principal: Principal = Depends(require_roles("operator", "provider")),
) -> OfferingView:
    principal.require_subject("provider", provider_id, exempt_roles=OPERATOR_ONLY)
    return OfferingView.of(app.get_offering(app.draft_offering(provider_id, command)))


@search.get("/merchants", tags=["merchants"], summary="Shops affiliated to the voucher programme")
def merchants(
    goods_category: str | None = None, app: CatalogApplication = Depends(catalog_app)
) -> list[dict[str, Any]]:
    return app.merchants(goods_category)


# --- offerings -----------------------------------------------------------------------------------


def owned_offering(offering_id: UUID, app: CatalogApplication, principal: Principal) -> Offering:
    offering = app.get_offering(offering_id)
    principal.require_subject("provider", offering.provider_id, exempt_roles=OPERATOR_ONLY)
    return offering


@offerings.get("/{offering_id}", summary="An offering with its price history (public)")
def get_offering(offering_id: UUID, app: CatalogApplication = Depends(catalog_app)) -> OfferingView:
    return OfferingView.of(app.get_offering(offering_id))


@offerings.get("/{offering_id}/price", summary="The price valid at a moment (default: now)")
def price_at(
    offering_id: UUID,
    at: datetime | None = None,
    app: CatalogApplication = Depends(catalog_app),
) -> PriceView:
    price = app.price_at(offering_id, at or datetime.now().astimezone())
    return PriceView(**vars(price))


@offerings.post("/{offering_id}/publication", summary="Publish an offering")
def publish(
    offering_id: UUID,
    app: CatalogApplication = Depends(catalog_app),
    principal: Principal = Depends(require_roles("operator", "provider")),
) -> OfferingView:
    owned_offering(offering_id, app, principal)
    app.publish_offering(offering_id)
    return OfferingView.of(app.get_offering(offering_id))


@offerings.post("/{offering_id}/price", summary="Change the price (history is kept)")
def change_price(
    offering_id: UUID,
    command: cmd.ChangePrice,
    app: CatalogApplication = Depends(catalog_app),
    principal: Principal = Depends(require_roles("operator", "provider")),
) -> OfferingView:
    owned_offering(offering_id, app, principal)
    app.change_price(offering_id, command)
    return OfferingView.of(app.get_offering(offering_id))


@offerings.post("/{offering_id}/withdrawal", summary="Withdraw an offering for good")
def withdraw(
    offering_id: UUID,
    command: cmd.WithdrawOffering,
    app: CatalogApplication = Depends(catalog_app),
    principal: Principal = Depends(require_roles("operator", "provider")),
) -> OfferingView:
    owned_offering(offering_id, app, principal)
    app.withdraw_offering(offering_id, command)
    return OfferingView.of(app.get_offering(offering_id))


@offerings.post(
    "/{offering_id}/slots", status_code=status.HTTP_201_CREATED, summary="Open one slot"
)
def open_slot(
    offering_id: UUID,
    command: cmd.OpenSlot,
    app: CatalogApplication = Depends(catalog_app),
    principal: Principal = Depends(require_roles("operator", "provider")),
) -> Created:
    owned_offering(offering_id, app, principal)
    return Created(id=str(app.open_slot(offering_id, command)))


@offerings.post(
    "/{offering_id}/weekly-slots",
    status_code=status.HTTP_201_CREATED,
    summary="Open slots from a weekly availability, minus exception dates",
)
def open_weekly_slots(
    offering_id: UUID,
    command: cmd.OpenWeeklySlots,
    app: CatalogApplication = Depends(catalog_app),
    principal: Principal = Depends(require_roles("operator", "provider")),
) -> list[str]:
    owned_offering(offering_id, app, principal)
    return [str(i) for i in app.open_weekly_slots(offering_id, command)]


@offerings.get(
    "/{offering_id}/slots",
    summary="Slots from a date, with free places (public)",
    responses={
        410: {
            "description": "The offering was withdrawn by its provider: it has no slots to "
            "book any more (code `offering_withdrawn`)"
        }
    },
)
def list_slots(
    offering_id: UUID,
    from_date: QueryDate | None = None,
    app: CatalogApplication = Depends(catalog_app),
) -> list[dict[str, Any]]:
    return app.slots(offering_id, from_date or date.today())


# --- slots ---------------------------------------------------------------------------------------


@slots.post("/{slot_id}/holds", summary="Hold places (idempotent by your own request id)")
async def hold(
    slot_id: UUID,
    command: cmd.HoldSlot,
    app: CatalogApplication = Depends(catalog_app),
    principal: Principal = Depends(require_roles(*BOOKERS)),
) -> HoldView:
    """A request id is the caller's own: the same caller repeating it gets the same hold (or
    the same refusal); another caller using the same id gets a hold of its own."""
    # async: the request awaits its group-committed batch without holding a worker thread.
    return HoldView.of(slot_id, await app.hold_slot_async(slot_id, command, principal.subject))


HOLDER_QUERY = Query(
    None,
    max_length=140,
    description="For the slot's provider or the operator: whose hold (the holder's subject, "
    "e.g. beneficiary:b-001). Needed only when several callers used the same request id.",
)


def settled_holder(
    slot_id: UUID, request_id: str, holder: str | None, app: CatalogApplication, p: Principal
) -> str:
    """Whose hold a confirmation or release settles. A caller settles its own (a request id is
    its holder's own: someone else's same id is never touched); the slot's provider or the
    operator settle anyone's, the holder named or the only one with that request id."""
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


@slots.post("/{slot_id}/holds/{request_id}/confirmation", summary="Confirm a hold")
def confirm(
    slot_id: UUID,
    request_id: str = REQUEST_ID_PATH,
    holder: str | None = HOLDER_QUERY,
    app: CatalogApplication = Depends(catalog_app),
    principal: Principal = Depends(require_roles(*BOOKERS)),
) -> HoldView:
    """The holder confirms its own hold; the slot's provider or the operator anyone's."""
    whose = settled_holder(slot_id, request_id, holder, app, principal)
    return HoldView.of(slot_id, app.confirm_hold(slot_id, request_id, whose))


@slots.post("/{slot_id}/holds/{request_id}/release", summary="Release a hold (idempotent)")
def release(
    slot_id: UUID,
    request_id: str = REQUEST_ID_PATH,
    holder: str | None = HOLDER_QUERY,
    app: CatalogApplication = Depends(catalog_app),
    principal: Principal = Depends(require_roles(*BOOKERS)),
) -> HoldView:
    """The holder releases its own hold (before it arrives: the late hold is then refused);
    the slot's provider or the operator anyone's."""
    whose = settled_holder(slot_id, request_id, holder, app, principal)
    return HoldView.of(slot_id, app.release_hold(slot_id, request_id, whose))


# --- packages ------------------------------------------------------------------------------------


@packages.post("", status_code=status.HTTP_201_CREATED, summary="Compose a multi-provider package")
def compose(
    command: cmd.ComposePackage,
    app: CatalogApplication = Depends(catalog_app),
    principal: Principal = Depends(require_roles("operator")),
) -> Created:
    return Created(id=str(app.compose_package(command, principal.subject)))


@packages.get("", summary="Packages on offer (public)")
def list_packages(app: CatalogApplication = Depends(catalog_app)) -> list[dict[str, Any]]:
    return app.packages()


@packages.get("/{package_id}", summary="A package with its parts and price (public)")
def get_package(package_id: UUID, app: CatalogApplication = Depends(catalog_app)) -> dict[str, Any]:
    package = app.get_package(package_id)
    return {
        "package_id": str(package.id),
        "title": package.title,
        "description": package.description,
        "status": package.status,
        "price_cents": app.package_price_cents(package),
        "own_price": package.price_cents is not None,
        "parts": [p.as_dict() for p in package.parts],
    }


# --- search --------------------------------------------------------------------------------------


class SearchResult(BaseModel):
    total: int
    page: int
    page_size: int
    items: list[dict[str, Any]]


@search.get("/search", summary="Search the marketplace (public)")
def search_offerings(
    q: str = Query("", max_length=200, description="Free text, Italian or English"),
    territory: str | None = Query(None, description="Default: this instance's territory"),
    municipality: str | None = Query(None, pattern=r"^\d{6}$"),
    category: str | None = None,
    delivery_mode: Literal["at_provider", "at_home", "remote"] | None = None,
    min_price_cents: int | None = Query(None, ge=0),
    max_price_cents: int | None = Query(None, ge=0),
    available_from: QueryDate | None = None,
    provider_id: str | None = None,
    sort: Literal["relevance", "price_asc", "price_desc", "newest", "title"] | None = None,
    page: int = Query(1, ge=1, le=10_000),
    page_size: int = Query(20, ge=1, le=100),
    app: CatalogApplication = Depends(catalog_app),
) -> SearchResult:
    if territory is not None and territory != app.territory.id:
        return SearchResult(total=0, page=page, page_size=page_size, items=[])
    found = app.search(
        SearchQuery(
            text=q,
            municipality=municipality,
            category=category,
            delivery_mode=delivery_mode,
            min_price_cents=min_price_cents,
            max_price_cents=max_price_cents,
            available_from=available_from,
            provider_id=provider_id,
            sort=sort,
            page=page,
            page_size=page_size,
        )
    )
    return SearchResult(
        total=found.total,
        page=found.page,
        page_size=found.page_size,
        items=[vars(hit) for hit in found.items],
    )
