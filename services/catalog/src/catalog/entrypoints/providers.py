"""Providers: applying, the review queue and the public list, a provider's page and history, its
contacts, the operator's decisions; and a provider drafting an offering."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Query, status
from servicekit.auth import Principal, require_roles

from catalog.adapters.read_model import ProviderQuery
from catalog.application import commands as cmd
from catalog.application.app import CatalogApplication
from catalog.domain.provider import ProviderKind, ProviderStatus
from catalog.entrypoints.access import (
    OPERATOR_ONLY,
    OPTIONAL_BEARER,
    OVERSEERS,
    catalog_app,
    may_see_restricted,
    providers_seen_by,
    public_caller,
    visible_provider,
)
from catalog.entrypoints.responses import (
    Created,
    HistoryEntry,
    OfferingView,
    ProviderList,
    ProviderSummary,
    ProviderView,
)

router = APIRouter(prefix="/providers", tags=["providers"])


@router.post("", status_code=status.HTTP_201_CREATED, summary="Apply to join the catalogue")
def register_provider(
    command: cmd.RegisterProvider,
    app: CatalogApplication = Depends(catalog_app),
    principal: Principal = Depends(require_roles("operator", "provider")),
) -> Created:
    principal.require_subject("provider", command.provider_id, exempt_roles=OPERATOR_ONLY)
    return Created(id=app.register_provider(command, principal.subject))


@router.get(
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
    seen = providers_seen_by(principal, status_)
    found = app.providers(
        ProviderQuery(
            status=seen.status,
            kind=kind,
            municipality=municipality,
            provider_id=seen.only,
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
        items=[ProviderSummary.of(r, seen.privileged) for r in found.items],
    )


@router.get(
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
    return ProviderView.of(provider, app.contact_person, may_see_restricted(principal, provider_id))


@router.get("/{provider_id}/history", summary="A provider's lifecycle, oldest first")
def provider_history(
    provider_id: str,
    app: CatalogApplication = Depends(catalog_app),
    principal: Principal = Depends(require_roles("operator", "auditor", "provider")),
) -> list[HistoryEntry]:
    principal.require_subject("provider", provider_id, exempt_roles=OVERSEERS)
    return [HistoryEntry(**entry) for entry in app.provider_history(provider_id)]


@router.patch(
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
    return ProviderView.of(app.get_provider(provider_id), app.contact_person, restricted=True)


@router.post("/{provider_id}/accreditation", summary="Accredit an applied provider")
def accredit(
    provider_id: str,
    app: CatalogApplication = Depends(catalog_app),
    principal: Principal = Depends(require_roles("operator")),
) -> ProviderView:
    app.accredit_provider(provider_id, principal.subject)
    return ProviderView.of(app.get_provider(provider_id), app.contact_person, restricted=True)


@router.post("/{provider_id}/suspension", summary="Suspend a provider")
def suspend(
    provider_id: str,
    command: cmd.SuspendProvider,
    app: CatalogApplication = Depends(catalog_app),
    principal: Principal = Depends(require_roles("operator")),
) -> ProviderView:
    app.suspend_provider(provider_id, command, principal.subject)
    return ProviderView.of(app.get_provider(provider_id), app.contact_person, restricted=True)


@router.post("/{provider_id}/reinstatement", summary="Reinstate a suspended provider")
def reinstate(
    provider_id: str,
    app: CatalogApplication = Depends(catalog_app),
    principal: Principal = Depends(require_roles("operator")),
) -> ProviderView:
    app.reinstate_provider(provider_id, principal.subject)
    return ProviderView.of(app.get_provider(provider_id), app.contact_person, restricted=True)


@router.post("/{provider_id}/certifications", summary="Record a quality certification")
def add_certification(
    provider_id: str,
    command: cmd.AddCertification,
    app: CatalogApplication = Depends(catalog_app),
    principal: Principal = Depends(require_roles("operator", "provider")),
) -> ProviderView:
    principal.require_subject("provider", provider_id, exempt_roles=OPERATOR_ONLY)
    app.add_certification(provider_id, command, principal.subject)
    return ProviderView.of(app.get_provider(provider_id), app.contact_person, restricted=True)


@router.post("/{provider_id}/merchant-affiliation", summary="Affiliate a shop to vouchers")
def affiliate_merchant(
    provider_id: str,
    command: cmd.AffiliateMerchant,
    app: CatalogApplication = Depends(catalog_app),
    principal: Principal = Depends(require_roles("operator")),
) -> ProviderView:
    app.affiliate_merchant(provider_id, command, principal.subject)
    return ProviderView.of(app.get_provider(provider_id), app.contact_person, restricted=True)


@router.post(
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
