"""The bodies the catalog's routes answer with (pydantic models, documented in OpenAPI)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field

from catalog.adapters.read_model import ProviderRow
from catalog.domain.contacts import ContactPerson
from catalog.domain.offering import Offering
from catalog.domain.provider import Provider
from catalog.domain.slot import Hold


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
        cls,
        p: Provider,
        contact_person: Callable[[Provider], ContactPerson | None] | None = None,
        restricted: bool = False,
    ) -> ProviderView:
        """The public view; with ``restricted`` (and ``contact_person`` to open the sealed
        contact person) the restricted part too."""
        extra: RestrictedView | None = None
        if restricted and contact_person is not None:
            person = contact_person(p)
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


class TermsView(BaseModel):
    """How the offering is booked: ``instant`` (accepted when the slot is held) or within
    ``acceptance_hours`` by the provider; free cancellation until ``free_until_hours`` before
    the slot, then ``fee_percent``; a no-show ``no_show_fee_percent``."""

    instant: bool
    acceptance_hours: int
    free_until_hours: int
    fee_percent: int
    no_show_fee_percent: int


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
    terms: TermsView

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
            terms=TermsView(**o.terms.as_dict()),
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


class SearchResult(BaseModel):
    total: int
    page: int
    page_size: int
    items: list[dict[str, Any]]
