"""An employee's family and delegate: who else the employee's welfare credit may serve, and who
else may spend it.

* **Family members** (the *familiari* of TUIR art. 12: spouse, children, parents, other
  dependants) may be the beneficiary of a hold or spend — childcare for a child (art. 51 c. 2
  f-bis), care for an elderly parent (f-ter). The employee names each by a pseudonymous member
  id of their choosing and a relationship; no name, fiscal code or age is ever recorded.
* **The delegate** (one at a time: a caregiver, a relative; another beneficiary of the
  territory) may hold and spend from the employee's wallets with their own token, until the
  employee revokes them or names someone else.

One record per employee, across plans and employers: the family is the person's, not a plan's.
Its events form a hash chain like the money streams', so an auditor can verify who was allowed
to spend when; they move no money.
"""

from __future__ import annotations

import uuid
from typing import Any, Literal
from uuid import UUID

from eventsourcing.domain import event
from servicekit.chain import ChainedAggregate
from servicekit.italian_ids import InvalidFiscalCode, validate_fiscal_code

from wallet.domain.errors import InvalidTransition, NotDelegate, NotEligible

FAMILY_NAMESPACE = uuid.UUID("5c1d8e37-9a4f-4b02-8e6d-3f7a2c9b1e48")
Relationship = Literal["spouse", "child", "parent", "other_dependent"]
RELATIONSHIPS: tuple[str, ...] = ("spouse", "child", "parent", "other_dependent")
MAX_MEMBERS = 20
Transfers = list[dict[str, Any]]


def looks_like_fiscal_code(value: str) -> bool:
    """A person's fiscal code (16 characters, with a valid check character)."""
    if len(value.strip()) != 16:
        return False
    try:
        validate_fiscal_code(value)
    except (InvalidFiscalCode, ValueError):
        return False
    return True


class Family(ChainedAggregate):
    class Opened(ChainedAggregate.Created):
        employee_id: str
        transfers: Transfers

    class MemberNamed(ChainedAggregate.Event):
        employee_id: str
        member_id: str
        relationship: str
        transfers: Transfers

    class MemberRemoved(ChainedAggregate.Event):
        employee_id: str
        member_id: str
        transfers: Transfers

    class DelegateNamed(ChainedAggregate.Event):
        employee_id: str
        delegate_id: str
        replaced_delegate_id: str | None
        transfers: Transfers

    class DelegateRevoked(ChainedAggregate.Event):
        employee_id: str
        delegate_id: str
        transfers: Transfers

    @event(Opened)
    def __init__(self, employee_id: str, transfers: Transfers) -> None:
        self.employee_id = employee_id
        self.members: dict[str, str] = {}  # member id -> relationship
        self.delegate_id: str | None = None

    @staticmethod
    def create_id(employee_id: str) -> UUID:
        return Family.id_for(employee_id)

    @staticmethod
    def id_for(employee_id: str) -> UUID:
        return uuid.uuid5(FAMILY_NAMESPACE, employee_id)

    @classmethod
    def open(cls, employee_id: str) -> Family:
        return cls(employee_id, [])

    @classmethod
    def open_for(cls, employee_id: str, *, has_wallet: bool) -> Family:
        """The family an employee names members and a delegate in: only an employee with a
        welfare wallet has one."""
        if not has_wallet:
            raise NotEligible(
                f"{employee_id} has no welfare wallet: family members and delegates are "
                "named by employees with one"
            )
        return cls.open(employee_id)

    # --- family members -----------------------------------------------------------------------

    def name_member(self, member_id: str, relationship: str) -> None:
        """Name a family member, or change the relationship of one named before."""
        if relationship not in RELATIONSHIPS:
            raise NotEligible(
                f"a family member is one of {', '.join(RELATIONSHIPS)}, not {relationship!r}"
            )
        if member_id == self.employee_id:
            raise InvalidTransition("the employee is the wallet's beneficiary already")
        if looks_like_fiscal_code(member_id):
            raise InvalidTransition(
                "a family member's id must be pseudonymous: this one is a fiscal code, which "
                "the wallet never records; choose an id such as 'child-1'"
            )
        if self.members.get(member_id) == relationship:
            return
        if member_id not in self.members and len(self.members) >= MAX_MEMBERS:
            raise InvalidTransition(f"at most {MAX_MEMBERS} family members can be named")
        self._name_member(self.employee_id, member_id, relationship, [])

    @event(MemberNamed)
    def _name_member(
        self, employee_id: str, member_id: str, relationship: str, transfers: Transfers
    ) -> None:
        self.members[member_id] = relationship

    def remove_member(self, member_id: str) -> None:
        """Holds already made for the member stay as they are; new ones are refused."""
        if member_id in self.members:
            self._remove_member(self.employee_id, member_id, [])

    @event(MemberRemoved)
    def _remove_member(self, employee_id: str, member_id: str, transfers: Transfers) -> None:
        del self.members[member_id]

    def check_member(self, member_id: str) -> None:
        if member_id not in self.members:
            raise NotEligible(
                f"{member_id!r} is not a family member named by employee {self.employee_id}: "
                "the employee names family members first (PUT /me/family/members/{member_id})"
            )

    # --- the delegate -------------------------------------------------------------------------

    def name_delegate(self, delegate_id: str) -> None:
        """Name the delegate; one named before is replaced (it may no longer spend)."""
        if delegate_id == self.employee_id:
            raise InvalidTransition("an employee cannot be their own delegate")
        if delegate_id == self.delegate_id:
            return
        self._name_delegate(self.employee_id, delegate_id, self.delegate_id, [])

    @event(DelegateNamed)
    def _name_delegate(
        self,
        employee_id: str,
        delegate_id: str,
        replaced_delegate_id: str | None,
        transfers: Transfers,
    ) -> None:
        self.delegate_id = delegate_id

    def revoke_delegate(self) -> None:
        if self.delegate_id is not None:
            self._revoke_delegate(self.employee_id, self.delegate_id, [])

    @event(DelegateRevoked)
    def _revoke_delegate(self, employee_id: str, delegate_id: str, transfers: Transfers) -> None:
        self.delegate_id = None

    def is_delegate(self, beneficiary_id: str) -> bool:
        return self.delegate_id is not None and self.delegate_id == beneficiary_id


def check_member(family: Family | None, employee_id: str, member_id: str) -> None:
    """Refuse unless ``member_id`` is a current family member of the employee."""
    if family is None:
        raise NotEligible(
            f"{member_id!r} is not a family member named by employee {employee_id}: the "
            "employee names family members first (PUT /me/family/members/{member_id})"
        )
    family.check_member(member_id)


def check_delegate(family: Family | None, employee_id: str, beneficiary_id: str) -> None:
    """Refuse unless ``beneficiary_id`` is the employee's current delegate."""
    if family is None or not family.is_delegate(beneficiary_id):
        raise NotDelegate(
            f"{beneficiary_id} is not the delegate of employee {employee_id}: only the employee "
            "and their current delegate may spend from this wallet"
        )
