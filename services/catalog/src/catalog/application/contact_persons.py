"""A provider's contact person is personal data: sealed in the vault under a subject of its own
(one per person and provider), the provider's events carrying only the sealed token. Replacing
or removing the person erases that subject alone; a command refused after sealing leaves nothing
behind in the vault.
"""

from __future__ import annotations

import uuid
from types import TracebackType

from servicekit.vault import PersonalDataVault, VaultError

from catalog.application import commands as cmd
from catalog.domain.contacts import ContactPerson, check_contact_person
from catalog.domain.provider import Provider

Sealed = tuple[str | None, str | None]
"""(vault subject, sealed token), or (None, None): no contact person."""


def checked_person(given: cmd.ContactPersonInput | None) -> ContactPerson | None:
    if given is None:
        return None
    return check_contact_person(given.name, given.role, given.phone, given.email)


def open_contact_person(vault: PersonalDataVault, provider: Provider) -> ContactPerson | None:
    """The provider's contact person, or None when it has none or it was erased."""
    if provider.contact_person_subject is None or provider.contact_person_sealed is None:
        return None
    try:
        opened = vault.open(provider.contact_person_subject, provider.contact_person_sealed)
    except VaultError:
        return None
    return ContactPerson.from_dict(opened) if opened is not None else None


class SealedOnce:
    """The contact person one command names, sealed at most once however often the command is
    retried; on leaving, the sealed data is erased unless the provider saved keeps it
    (:meth:`keep`)."""

    def __init__(
        self, vault: PersonalDataVault, provider_id: str, person: ContactPerson | None
    ) -> None:
        self.vault = vault
        self.provider_id = provider_id
        self.person = person
        self.sealed: tuple[str, str] | None = None
        self.kept: str | None = None

    def seal(self) -> Sealed:
        """The person sealed (the first call seals it), or (None, None) for no person."""
        if self.person is None:
            return None, None
        if self.sealed is None:
            subject = f"provider:{self.provider_id}:contact:{uuid.uuid4().hex}"
            self.sealed = subject, self.vault.seal(subject, self.person.as_dict())
        return self.sealed

    def for_provider(self, provider: Provider) -> Sealed:
        """The contact person to record for ``provider``: the one it has if it is the same
        person, else the person sealed."""
        if self.person is not None and open_contact_person(self.vault, provider) == self.person:
            return provider.contact_person_subject, provider.contact_person_sealed
        return self.seal()

    def keep(self, subject: str | None) -> None:
        """The provider was saved with ``subject`` as its contact person."""
        self.kept = subject

    def __enter__(self) -> SealedOnce:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self.sealed is not None and (exc_type is not None or self.sealed[0] != self.kept):
            self.vault.erase(self.sealed[0])  # refused, or sealed for a retry that did not need it
