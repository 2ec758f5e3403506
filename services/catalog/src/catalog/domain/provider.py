"""A provider: a social cooperative, an association, a company or a shop offering services (or,
for shops, goods bought with vouchers) in the territory.

Lifecycle: applied → accredited (by the territory's operator) → suspended → reinstated
(accredited again). Only an accredited provider's published offerings can be found and held.

A provider is named by a short id of its own choosing (``coop-la-rete``), which is also the id in
its bearer token (``provider:coop-la-rete``); its aggregate id is derived from it, so a second
registration under the same id collides in the store.

Contacts (:mod:`catalog.domain.contacts`): the organisation's e-mail, phone, website and seat,
given when applying and updated later (``ContactsUpdated``), and a contact person, whose
personal data the events carry only sealed (the application seals it in the vault; the
aggregate keeps the token and the vault subject it was sealed for).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from typing import Any, Literal, get_args

from benecomune_contracts.catalog import Certification, Title
from eventsourcing.domain import event
from servicekit.domain import Aggregate
from servicekit.italian_ids import InvalidItalianId, validate_fiscal_code, validate_vat_number

from catalog.domain.contacts import Address, check_address, check_email, check_phone, check_website
from catalog.domain.errors import InvalidContact, InvalidProvider, InvalidTransition
from catalog.domain.texts import Reason, checked_text

PROVIDER_NAMESPACE = uuid.UUID("4c1f7a0e-8b2d-4e55-9a61-3f0d2c7b9e14")
TAX_INDEX_NAMESPACE = uuid.UUID("b3e8d9a2-6c4f-4a1e-8d75-0e2f9c1a6b38")

ProviderKind = Literal["coop_a", "coop_b", "association", "company", "shop"]
ProviderStatus = Literal["applied", "accredited", "suspended"]
PROVIDER_KINDS: tuple[str, ...] = get_args(ProviderKind)
PROVIDER_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{1,63}$")
CODE_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
MAX_CERTIFICATIONS = 20
CONTACT_FIELDS = ("contact_email", "phone", "website", "address")


def provider_aggregate_id(provider_id: str) -> uuid.UUID:
    return uuid.uuid5(PROVIDER_NAMESPACE, provider_id)


def check_tax_identity(
    vat_number: str | None, fiscal_code: str | None
) -> tuple[str | None, str | None]:
    """The normalised VAT number and fiscal code; at least one is required, each must be valid
    (check digit included)."""
    if not vat_number and not fiscal_code:
        raise InvalidProvider("a provider needs a VAT number (partita IVA) or a fiscal code")
    try:
        vat = validate_vat_number(vat_number) if vat_number else None
        code = validate_fiscal_code(fiscal_code) if fiscal_code else None
    except InvalidItalianId as error:
        raise InvalidProvider(str(error)) from None
    return vat, code


def check_certification(value: str) -> str:
    """A certification's name as the contract event carries it (one line, 1-100 characters)."""
    return checked_text(Certification, value, "a certification", InvalidProvider)


def check_sealed_person(subject: str | None, sealed: str | None) -> None:
    if (subject is None) != (sealed is None):
        raise InvalidContact("a sealed contact person needs both its token and its vault subject")


class Provider(Aggregate):
    class Applied(Aggregate.Created):
        provider_id: str
        legal_name: str
        kind: str
        vat_number: str | None
        fiscal_code: str | None
        municipalities: list[str]
        certifications: list[str]
        contact_email: str | None
        # v2: the other contacts, the sealed contact person and who registered the provider.
        phone: str | None
        website: str | None
        address: dict[str, str] | None
        contact_person_subject: str | None
        contact_person_sealed: str | None
        by: str | None

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            for name in (
                "phone",
                "website",
                "address",
                "contact_person_subject",
                "contact_person_sealed",
                "by",
            ):
                state[name] = None

    # Events that leave the service carry what their contract needs (the relay maps one event
    # at a time, without the aggregate's state).
    class Accredited(Aggregate.Event):
        by: str
        provider_id: str
        kind: str
        municipalities: list[str]
        certifications: list[str]

    class Suspended(Aggregate.Event):
        reason_code: str
        reason: str
        by: str
        provider_id: str

    class Reinstated(Aggregate.Event):
        by: str
        provider_id: str

    class CertificationAdded(Aggregate.Event):
        certification: str
        by: str | None  # v2

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["by"] = None

    class ContactsUpdated(Aggregate.Event):
        """The whole set of contacts after the change, and which of them changed. Private: it
        never leaves the service (the contact person is sealed anyway)."""

        email: str | None
        phone: str | None
        website: str | None
        address: dict[str, str] | None
        contact_person_subject: str | None
        contact_person_sealed: str | None
        changed: list[str]
        by: str

    class MerchantAffiliated(Aggregate.Event):
        goods_categories: list[str]
        provider_id: str
        vat_number: str | None
        municipalities: list[str]
        by: str | None  # v2

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["by"] = None

    @event(Applied)
    def __init__(
        self,
        provider_id: str,
        legal_name: str,
        kind: str,
        vat_number: str | None,
        fiscal_code: str | None,
        municipalities: list[str],
        certifications: list[str],
        contact_email: str | None,
        phone: str | None,
        website: str | None,
        address: dict[str, str] | None,
        contact_person_subject: str | None,
        contact_person_sealed: str | None,
        by: str | None,
    ) -> None:
        self.provider_id = provider_id
        self.legal_name = legal_name
        self.kind = kind
        self.vat_number = vat_number
        self.fiscal_code = fiscal_code
        self.municipalities = list(municipalities)
        self.certifications = list(certifications)
        self.contact_email = contact_email
        self.phone = phone
        self.website = website
        self.address = dict(address) if address else None
        self.contact_person_subject = contact_person_subject
        self.contact_person_sealed = contact_person_sealed
        self.status: ProviderStatus = "applied"
        self.goods_categories: list[str] = []

    @staticmethod
    def create_id(provider_id: str, **_: object) -> uuid.UUID:
        return provider_aggregate_id(provider_id)

    @classmethod
    def apply(
        cls,
        provider_id: str,
        legal_name: str,
        kind: str,
        vat_number: str | None,
        fiscal_code: str | None,
        municipalities: list[str],
        certifications: list[str] | None = None,
        contact_email: str | None = None,
        *,
        phone: str | None = None,
        website: str | None = None,
        address: Address | None = None,
        contact_person_subject: str | None = None,
        contact_person_sealed: str | None = None,
        by: str | None = None,
    ) -> Provider:
        """A provider asks to join the territory's catalogue. Municipalities (those it serves
        and its address's) must already be checked against the territory (the application does
        it), and its contact person sealed."""
        if not PROVIDER_ID_PATTERN.fullmatch(provider_id):
            raise InvalidProvider(
                f"provider id {provider_id!r} must be 2-64 lower-case letters, digits or dashes"
            )
        if not legal_name.strip():
            raise InvalidProvider("the legal name is required")
        name = checked_text(Title, legal_name, "the legal name", InvalidProvider)
        if kind not in PROVIDER_KINDS:
            raise InvalidProvider(f"kind must be one of {', '.join(PROVIDER_KINDS)}, got {kind!r}")
        vat, code = check_tax_identity(vat_number, fiscal_code)
        if kind in ("coop_a", "coop_b", "company") and vat is None:
            raise InvalidProvider(f"a provider of kind {kind} needs a VAT number (partita IVA)")
        if not municipalities:
            raise InvalidProvider("a provider serves at least one municipality")
        certs = list(
            dict.fromkeys(check_certification(c) for c in certifications or [] if c.strip())
        )
        if len(certs) > MAX_CERTIFICATIONS:
            raise InvalidProvider(f"at most {MAX_CERTIFICATIONS} certifications")
        check_sealed_person(contact_person_subject, contact_person_sealed)
        seat = check_address(**address.as_dict()) if address else None
        return cls(
            provider_id=provider_id,
            legal_name=name,
            kind=kind,
            vat_number=vat,
            fiscal_code=code,
            municipalities=sorted(set(municipalities)),
            certifications=certs,
            contact_email=check_email(contact_email) if contact_email else None,
            phone=check_phone(phone) if phone else None,
            website=check_website(website) if website else None,
            address=seat.as_dict() if seat else None,
            contact_person_subject=contact_person_subject,
            contact_person_sealed=contact_person_sealed,
            by=by,
        )

    @property
    def bookable(self) -> bool:
        return self.status == "accredited"

    def accredit(self, by: str) -> None:
        if self.status != "applied":
            raise InvalidTransition(
                f"only an applied provider can be accredited; {self.provider_id} is {self.status}"
                + (" (use reinstate)" if self.status == "suspended" else "")
            )
        self._accredit(by, self.provider_id, self.kind, self.municipalities, self.certifications)

    def suspend(self, reason_code: str, reason: str, by: str) -> None:
        if self.status != "accredited":
            raise InvalidTransition(
                f"only an accredited provider can be suspended; {self.provider_id} is {self.status}"
            )
        if not CODE_PATTERN.fullmatch(reason_code):
            raise InvalidProvider(f"reason code {reason_code!r} must be a lower-case code")
        why = checked_text(Reason, reason, "the reason", InvalidProvider)
        self._suspend(reason_code, why, by, self.provider_id)

    def reinstate(self, by: str) -> None:
        if self.status != "suspended":
            raise InvalidTransition(
                f"only a suspended provider can be reinstated; {self.provider_id} is {self.status}"
            )
        self._reinstate(by, self.provider_id)

    def update_contacts(
        self,
        email: str | None,
        phone: str | None,
        website: str | None,
        address: Address | None,
        contact_person_subject: str | None,
        contact_person_sealed: str | None,
        by: str,
    ) -> list[str]:
        """Replace the contacts with this complete set (``None`` clears one); returns the names
        of those that changed, and records nothing when none did."""
        check_sealed_person(contact_person_subject, contact_person_sealed)
        new: dict[str, Any] = {
            "email": check_email(email) if email else None,
            "phone": check_phone(phone) if phone else None,
            "website": check_website(website) if website else None,
            "address": check_address(**address.as_dict()).as_dict() if address else None,
        }
        old: dict[str, Any] = {
            "email": self.contact_email,
            "phone": self.phone,
            "website": self.website,
            "address": self.address,
        }
        changed = [name for name in new if new[name] != old[name]]
        if contact_person_subject != self.contact_person_subject:
            changed.append("contact_person")
        if not changed:
            return []
        self._update_contacts(
            new["email"],
            new["phone"],
            new["website"],
            new["address"],
            contact_person_subject,
            contact_person_sealed,
            changed,
            by,
        )
        return changed

    def change_contacts(
        self,
        changes: Mapping[str, Any],
        contact_person_subject: str | None,
        contact_person_sealed: str | None,
        by: str,
    ) -> list[str]:
        """Change the contacts named in ``changes`` (``contact_email``, ``phone``, ``website``,
        ``address``: an :class:`Address`), ``None`` clearing one, and keep the others; the
        contact person is given whole (sealed). Returns the names of those that changed."""
        unknown = set(changes) - set(CONTACT_FIELDS)
        if unknown:
            raise InvalidContact(f"unknown contacts: {', '.join(sorted(unknown))}")
        current = Address.from_dict(self.address) if self.address else None
        return self.update_contacts(
            email=changes.get("contact_email", self.contact_email),
            phone=changes.get("phone", self.phone),
            website=changes.get("website", self.website),
            address=changes.get("address", current),
            contact_person_subject=contact_person_subject,
            contact_person_sealed=contact_person_sealed,
            by=by,
        )

    def add_certification(self, certification: str, by: str | None = None) -> None:
        if not certification.strip():
            raise InvalidProvider("a certification needs a name, e.g. UNI/PdR 58:2019")
        value = check_certification(certification)
        if value in self.certifications:
            return  # already recorded: nothing to do
        if len(self.certifications) >= MAX_CERTIFICATIONS:
            raise InvalidProvider(f"at most {MAX_CERTIFICATIONS} certifications")
        self._add_certification(value, by)

    def affiliate_as_merchant(self, goods_categories: list[str], by: str | None = None) -> None:
        """Join the territory's voucher programme as a shop selling these goods categories."""
        if self.kind != "shop":
            raise InvalidProvider(
                f"only shops join the voucher programme; {self.provider_id} is a {self.kind}"
            )
        if not self.bookable:
            raise InvalidTransition(
                f"a shop must be accredited before joining the voucher programme; "
                f"{self.provider_id} is {self.status}"
            )
        categories = sorted(set(goods_categories))
        if not categories:
            raise InvalidProvider("a merchant sells at least one goods category")
        for category in categories:
            if not CODE_PATTERN.fullmatch(category):
                raise InvalidProvider(f"goods category {category!r} must be a lower-case code")
        if categories == self.goods_categories:
            return
        self._affiliate(categories, self.provider_id, self.vat_number, self.municipalities, by)

    def check_serves(self, municipalities: list[str]) -> None:
        outside = sorted(set(municipalities) - set(self.municipalities))
        if outside:
            raise InvalidProvider(
                f"provider {self.provider_id} does not serve municipalities {', '.join(outside)}"
            )

    @event(Accredited)
    def _accredit(
        self,
        by: str,
        provider_id: str,
        kind: str,
        municipalities: list[str],
        certifications: list[str],
    ) -> None:
        self.status = "accredited"

    @event(Suspended)
    def _suspend(self, reason_code: str, reason: str, by: str, provider_id: str) -> None:
        self.status = "suspended"

    @event(Reinstated)
    def _reinstate(self, by: str, provider_id: str) -> None:
        self.status = "accredited"

    @event(CertificationAdded)
    def _add_certification(self, certification: str, by: str | None) -> None:
        self.certifications.append(certification)

    @event(ContactsUpdated)
    def _update_contacts(
        self,
        email: str | None,
        phone: str | None,
        website: str | None,
        address: dict[str, str] | None,
        contact_person_subject: str | None,
        contact_person_sealed: str | None,
        changed: list[str],
        by: str,
    ) -> None:
        self.contact_email = email
        self.phone = phone
        self.website = website
        self.address = dict(address) if address else None
        self.contact_person_subject = contact_person_subject
        self.contact_person_sealed = contact_person_sealed

    @event(MerchantAffiliated)
    def _affiliate(
        self,
        goods_categories: list[str],
        provider_id: str,
        vat_number: str | None,
        municipalities: list[str],
        by: str | None,
    ) -> None:
        self.goods_categories = list(goods_categories)


class TaxIdentityIndex(Aggregate):
    """One per VAT number (or fiscal code): a second provider with the same one collides."""

    class Registered(Aggregate.Created):
        key: str
        provider_id: str

    @event(Registered)
    def __init__(self, key: str, provider_id: str) -> None:
        self.key = key
        self.provider_id = provider_id

    @staticmethod
    def create_id(key: str, **_: object) -> uuid.UUID:
        return uuid.uuid5(TAX_INDEX_NAMESPACE, key)


def tax_identity_keys(vat_number: str | None, fiscal_code: str | None) -> list[str]:
    """The index keys of a provider's tax identity: its VAT number and its fiscal code (a
    company's fiscal code that is its VAT number counts once)."""
    keys = {f"vat:{vat_number}"} if vat_number else set()
    if fiscal_code and fiscal_code != vat_number:
        keys.add(f"cf:{fiscal_code}")
    return sorted(keys)


def tax_identity_entries(provider: Provider) -> list[TaxIdentityIndex]:
    """One index entry per tax identity, saved with the provider: a second provider with the
    same VAT number or fiscal code collides in the store."""
    keys = tax_identity_keys(provider.vat_number, provider.fiscal_code)
    return [TaxIdentityIndex(key=key, provider_id=provider.provider_id) for key in keys]
