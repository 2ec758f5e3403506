"""A household's application: submitted by its applicant, approved or rejected by a social
worker (approval applies the round's rules: entitlement, priority)."""

from __future__ import annotations

import uuid
from datetime import datetime
from uuid import UUID

from eventsourcing.persistence import IntegrityError
from servicekit.store import retried

from vouchers.application import commands as cmd
from vouchers.application.store import VouchersStore
from vouchers.domain.errors import AlreadyApplied
from vouchers.domain.household_application import HouseholdApplication, HouseholdIndexEntry
from vouchers.domain.round import Round


def submit_application(
    store: VouchersStore, command: cmd.SubmitApplication, applicant: str, now: datetime
) -> UUID:
    """One application per household and round: the index entries of its members and of the
    applicant's account are saved with it, and a second one naming any of them collides."""
    round_ = store.get_round(UUID(command.round_id))
    round_.check_accepts_applications(now)
    application = new_application(store, round_, command, applicant)
    entries = [
        HouseholdIndexEntry(key, application.id) for key in index_keys(store, command, applicant)
    ]
    try:
        store.save(application, *entries)
    except IntegrityError:
        store.vault.erase(str(application.household_id))
        raise AlreadyApplied(
            "this household, or this account, has already applied in this round"
        ) from None
    return application.id


def new_application(
    store: VouchersStore, round_: Round, command: cmd.SubmitApplication, applicant: str
) -> HouseholdApplication:
    """The application, its household's personal data sealed with a key of its own."""
    household_id = uuid.uuid4()
    members = [command.applicant, *command.other_members]
    personal_data = {"members": [m.model_dump() for m in members], "address": command.address}
    return HouseholdApplication(
        round_id=round_.id,
        household_id=household_id,
        applicant=applicant,
        members=len(members),
        minors=sum(1 for m in members if m.minor),
        isee_cents=command.isee_cents,
        other_support=command.other_public_support,
        sealed_personal_data=store.vault.seal(str(household_id), personal_data),
    )


def index_keys(store: VouchersStore, command: cmd.SubmitApplication, applicant: str) -> list[str]:
    """One key per member, and one for the applicant's account, whose fiscal codes are only
    typed in: without it one account could apply again naming other people (a neighbour's
    codes, even)."""
    round_id = UUID(command.round_id)
    members = [command.applicant, *command.other_members]
    keys = [store.index_key(round_id, m.fiscal_code) for m in members]
    return [*keys, store.index_key(round_id, f"account:{applicant}")]


@retried
def approve_application(store: VouchersStore, application_id: UUID, reviewer: str) -> None:
    application = store.get_application(application_id)
    round_ = store.get_round(application.round_id)
    denominations = tuple(round_.denominations_cents)
    application.approve(round_.entitlement_rules, denominations, reviewer)
    store.save(application)


@retried
def reject_application(
    store: VouchersStore, application_id: UUID, command: cmd.RejectApplication, reviewer: str
) -> None:
    application = store.get_application(application_id)
    application.check_can_reject()  # before sealing: an erased household has no key
    sealed = store.vault.seal(str(application.household_id), {"reason": command.reason})
    application.reject(command.reason_code, sealed, reviewer)
    store.save(application)
