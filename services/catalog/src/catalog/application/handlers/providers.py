"""Providers: applying, keeping contacts current, and the operator's accreditation,
suspension and reinstatement."""

from __future__ import annotations

from typing import Any

from eventsourcing.persistence import IntegrityError
from servicekit.store import retried

from catalog.application import commands as cmd
from catalog.application.contact_persons import SealedOnce, checked_person
from catalog.application.store import CatalogStore
from catalog.domain.contacts import Address, check_address, check_email, check_phone, check_website
from catalog.domain.errors import AlreadyRegistered
from catalog.domain.provider import Provider, tax_identity_entries


def register_provider(store: CatalogStore, command: cmd.RegisterProvider, by: str | None) -> str:
    for istat in command.municipalities:
        store.check_municipality(istat)
    details = _application_details(store, command, by)
    person = checked_person(command.contact_person)
    provider = Provider.apply(**details)  # every rule checked before anything is sealed
    with SealedOnce(store.vault, command.provider_id, person) as sealing:
        subject, sealed = sealing.seal()
        if subject is not None:
            provider = Provider.apply(
                **details, contact_person_subject=subject, contact_person_sealed=sealed
            )
        _save_new(store, provider)
        sealing.keep(subject)
    return provider.provider_id


def _application_details(
    store: CatalogStore, command: cmd.RegisterProvider, by: str | None
) -> dict[str, Any]:
    """What the provider applies with (its address checked against the territory)."""
    return {
        "provider_id": command.provider_id,
        "legal_name": command.legal_name,
        "kind": command.kind,
        "vat_number": command.vat_number,
        "fiscal_code": command.fiscal_code,
        "municipalities": command.municipalities,
        "certifications": command.certifications,
        "contact_email": command.contact_email,
        "phone": command.phone,
        "website": command.website,
        "address": checked_address(store, command.address),
        "by": by,
    }


def _save_new(store: CatalogStore, provider: Provider) -> None:
    try:
        store.save(provider, *tax_identity_entries(provider))
    except IntegrityError:
        raise AlreadyRegistered(
            f"a provider with id {provider.provider_id} or with the same VAT number or "
            "fiscal code is already registered"
        ) from None


def update_contacts(
    store: CatalogStore, provider_id: str, command: cmd.UpdateContacts, by: str
) -> list[str]:
    """Change the contacts named in the command (``None`` clears one); returns the names of
    those that changed. A replaced or removed contact person's personal data is erased."""
    given = command.model_fields_set
    for value, check in (
        (command.contact_email, check_email),
        (command.phone, check_phone),
        (command.website, check_website),
    ):
        if value:
            check(value)  # before anything is sealed: a refusal leaves nothing in the vault
    named = ("contact_email", "phone", "website")
    changes: dict[str, Any] = {name: getattr(command, name) for name in named if name in given}
    if "address" in given:
        changes["address"] = checked_address(store, command.address)
    person = checked_person(command.contact_person) if "contact_person" in given else None
    with SealedOnce(store.vault, provider_id, person) as sealing:
        changed, before, after = _change_contacts(
            store, provider_id, changes, sealing if "contact_person" in given else None, by
        )
        sealing.keep(after)
    if before is not None and before != after:
        store.vault.erase(before)  # the person is no longer the contact: forget them
    return changed


@retried
def _change_contacts(
    store: CatalogStore,
    provider_id: str,
    changes: dict[str, Any],
    sealing: SealedOnce | None,
    by: str,
) -> tuple[list[str], str | None, str | None]:
    provider = store.get_provider(provider_id)
    before = provider.contact_person_subject
    subject, sealed = (
        sealing.for_provider(provider) if sealing else (before, provider.contact_person_sealed)
    )
    changed = provider.change_contacts(changes, subject, sealed, by)
    if changed:
        store.save(provider)
    return changed, before, subject


def checked_address(store: CatalogStore, given: cmd.AddressInput | None) -> Address | None:
    if given is None:
        return None
    store.check_municipality(given.municipality_istat)
    return check_address(given.street, given.municipality_istat, given.postcode)


@retried
def accredit_provider(store: CatalogStore, provider_id: str, by: str) -> None:
    provider = store.get_provider(provider_id)
    provider.accredit(by)
    store.save(provider)


@retried
def suspend_provider(
    store: CatalogStore, provider_id: str, command: cmd.SuspendProvider, by: str
) -> None:
    provider = store.get_provider(provider_id)
    provider.suspend(command.reason_code, command.reason, by)
    store.save(provider)


@retried
def reinstate_provider(store: CatalogStore, provider_id: str, by: str) -> None:
    provider = store.get_provider(provider_id)
    provider.reinstate(by)
    store.save(provider)


@retried
def add_certification(
    store: CatalogStore, provider_id: str, command: cmd.AddCertification, by: str | None
) -> None:
    provider = store.get_provider(provider_id)
    provider.add_certification(command.certification, by)
    store.save(provider)
