"""A household's application to a round (``HouseholdApplication``), and the index that allows
one application per household per round.

Personal data (names, fiscal codes, address) never appear in these events in clear: they are
sealed with the household's own key (servicekit.vault) and erasing that key erases them, while
the ledger stays intact. What stays readable is what the ranking needs and auditors check.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal
from uuid import UUID

from eventsourcing.domain import event
from eventsourcing.utils import register_topic
from servicekit.domain import Aggregate

from vouchers.domain.errors import InvalidTransition
from vouchers.domain.rules import EntitlementRules

Status = Literal["submitted", "approved", "rejected", "waitlisted", "served"]

INDEX_NAMESPACE = uuid.UUID("3f0e9d1c-4a77-4c5e-8f43-1c2b0e6a9d57")


class HouseholdApplication(Aggregate):
    """What a household declared to a round, and how its review and issuing went."""

    class Submitted(Aggregate.Created):
        round_id: UUID
        household_id: UUID
        applicant: str
        members: int
        minors: int
        isee_cents: int
        other_support: bool
        sealed_personal_data: str

    class Approved(Aggregate.Event):
        round_id: UUID
        household_id: UUID
        entitlement_cents: int
        voucher_values: list[int]
        priority: int
        reviewer: str

    class Rejected(Aggregate.Event):
        round_id: UUID
        household_id: UUID
        reason_code: str
        # The social worker's words may name people: since 2026-11-25 they are sealed with the
        # household's key (``sealed_reason``), so erasure takes them; older events hold them in
        # clear in ``reason``, new ones leave it empty.
        reason: str
        reviewer: str
        sealed_reason: str | None = None

    class Waitlisted(Aggregate.Event):
        round_id: UUID
        household_id: UUID
        rank: int

    class Served(Aggregate.Event):
        round_id: UUID
        household_id: UUID
        voucher_ids: list[str]
        sealed_codes: str
        # What the household is told (since 2026-12-07); older events lack them.
        amount_cents: int | None = None
        expires_at: datetime | None = None
        from_waitlist: bool | None = None

    @event(Submitted)
    def __init__(
        self,
        round_id: UUID,
        household_id: UUID,
        applicant: str,
        members: int,
        minors: int,
        isee_cents: int,
        other_support: bool,
        sealed_personal_data: str,
    ) -> None:
        self.round_id = round_id
        self.household_id = household_id
        self.applicant = applicant
        self.members = members
        self.minors = minors
        self.isee_cents = isee_cents
        self.other_support = other_support
        self.sealed_personal_data = sealed_personal_data
        self.status: Status = "submitted"
        self.entitlement_cents = 0
        self.voucher_values: list[int] = []
        self.priority = 0
        self.rank: int | None = None
        self.reason: str | None = None  # in clear: rejections recorded before 2026-11-25
        self.sealed_reason: str | None = None
        self.voucher_ids: list[str] = []
        self.sealed_codes = ""

    def check_status(self, *allowed: Status, action: str) -> None:
        if self.status not in allowed:
            raise InvalidTransition(f"cannot {action} an application that is {self.status}")

    def approve(
        self, rules: EntitlementRules, denominations: tuple[int, ...], reviewer: str
    ) -> None:
        self.check_status("submitted", action="approve")
        rules.check_eligible(self.isee_cents)
        values = rules.entitlement(self.members, self.minors, self.other_support, denominations)
        if not values:
            raise InvalidTransition("the round's rules entitle this household to nothing")
        self._approve(
            self.round_id,
            self.household_id,
            sum(values),
            values,
            rules.priority(self.other_support),
            reviewer,
        )

    def check_can_reject(self) -> None:
        self.check_status("submitted", "approved", "waitlisted", action="reject")

    def reject(self, reason_code: str, sealed_reason: str, reviewer: str) -> None:
        self.check_can_reject()
        self._reject(self.round_id, self.household_id, reason_code, "", reviewer, sealed_reason)

    def waitlist(self, rank: int) -> None:
        self.check_status("approved", "waitlisted", action="waitlist")
        if self.status != "waitlisted" or self.rank != rank:
            self._waitlist(self.round_id, self.household_id, rank)

    def serve(self, voucher_ids: list[str], sealed_codes: str, expires_at: datetime) -> None:
        """The household gets its vouchers: its whole entitlement, valid until ``expires_at``."""
        self.check_status("approved", "waitlisted", action="issue vouchers for")
        self._serve(
            self.round_id,
            self.household_id,
            voucher_ids,
            sealed_codes,
            self.entitlement_cents,
            expires_at,
            self.status == "waitlisted",
        )

    @event(Approved)
    def _approve(
        self,
        round_id: UUID,
        household_id: UUID,
        entitlement_cents: int,
        voucher_values: list[int],
        priority: int,
        reviewer: str,
    ) -> None:
        self.status = "approved"
        self.entitlement_cents = entitlement_cents
        self.voucher_values = voucher_values
        self.priority = priority

    @event(Rejected)
    def _reject(
        self,
        round_id: UUID,
        household_id: UUID,
        reason_code: str,
        reason: str,
        reviewer: str,
        sealed_reason: str | None = None,
    ) -> None:
        self.status = "rejected"
        self.reason = reason or None
        self.sealed_reason = sealed_reason

    @event(Waitlisted)
    def _waitlist(self, round_id: UUID, household_id: UUID, rank: int) -> None:
        self.status = "waitlisted"
        self.rank = rank

    @event(Served)
    def _serve(
        self,
        round_id: UUID,
        household_id: UUID,
        voucher_ids: list[str],
        sealed_codes: str,
        amount_cents: int | None = None,
        expires_at: datetime | None = None,
        from_waitlist: bool | None = None,
    ) -> None:
        self.status = "served"
        self.voucher_ids = voucher_ids
        self.sealed_codes = sealed_codes


class HouseholdIndexEntry(Aggregate):
    """Exists once per (round, member): creating a second one for the same key fails in the
    store, atomically with the application, which is how one household gets one application
    per round even under concurrent submissions."""

    class Claimed(Aggregate.Created):
        key: str
        application_id: UUID

    @event(Claimed)
    def __init__(self, key: str, application_id: UUID) -> None:
        self.application_id = application_id

    @staticmethod
    def create_id(key: str, application_id: UUID) -> UUID:
        return uuid.uuid5(INDEX_NAMESPACE, key)

    @staticmethod
    def id_for(key: str) -> UUID:
        return uuid.uuid5(INDEX_NAMESPACE, key)


# Stored events and snapshots name their class by topic (``module:Qualname``). Until 2026-12 the
# household's application was ``vouchers.domain.application:Application``: those topics (its
# events' ``Application.Submitted``... resolve through the class's) still load.
LEGACY_TOPICS = {
    "vouchers.domain.application:Application": HouseholdApplication,
    "vouchers.domain.application:HouseholdIndexEntry": HouseholdIndexEntry,
}
for _topic, _cls in LEGACY_TOPICS.items():
    register_topic(_topic, _cls)
