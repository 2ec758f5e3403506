"""An employer's welfare plan: a year's budget in the plan's funding account, the eligible
employees, the categories its credit may pay for, and what happens to unspent credit at the end
(``reset``: back to the employer; ``carry_over``: into the employer's next plan, as the tax
agency allows since 2021). A plan may also let employees convert their productivity bonus into
its credit (the money comes from the employer's bonus account, not from the budget)."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any, Literal
from uuid import UUID

from eventsourcing.domain import event
from servicekit.chain import ChainedAggregate

from wallet.domain import accounts
from wallet.domain.errors import (
    BonusConversionNotAllowed,
    CategoryNotAllowed,
    FiscalCodeInUse,
    FiscalCodeMismatch,
    InvalidTransition,
    NotEligible,
    PlanNotActive,
)
from wallet.domain.plausible import check_plan_period
from wallet.domain.wallet import Wallet

if TYPE_CHECKING:
    from wallet.domain.fringe import FringeYear

EndPolicy = Literal["reset", "carry_over"]
MAX_EMPLOYEES_PER_ENROLMENT = 10_000


class Plan(ChainedAggregate):
    # 2: productivity-bonus conversion (attributes added to older snapshots by upcast_v1_v2).
    # 3: the fingerprints of the employees' fiscal codes (upcast_v2_v3).
    class_version = 3

    class Created(ChainedAggregate.Created):
        employer_id: str
        vat_number: str
        year: int
        starts_on: date
        ends_on: date
        budget_cents: int
        credit_per_employee_cents: int
        categories: list[str]
        end_policy: EndPolicy
        transfers: list[dict[str, Any]]

    class EmployeesEnrolled(ChainedAggregate.Event):
        # 2: employee id -> fingerprint of their fiscal code (not public; {} in older events).
        class_version = 2

        employee_ids: list[str]
        with_children_ids: list[str]
        transfers: list[dict[str, Any]]
        fiscal_fingerprints: dict[str, str]

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state.setdefault("fiscal_fingerprints", {})

    class CreditAllocated(ChainedAggregate.Event):
        employee_id: str
        wallet_id: UUID
        amount_cents: int
        transfers: list[dict[str, Any]]

    class CreditReturned(ChainedAggregate.Event):
        employee_id: str
        wallet_id: UUID
        amount_cents: int
        transfers: list[dict[str, Any]]

    class Closed(ChainedAggregate.Event):
        returned_cents: int
        next_plan_id: UUID | None
        transfers: list[dict[str, Any]]

    class BonusConversionAllowed(ChainedAggregate.Event):
        yearly_limit_cents: int
        transfers: list[dict[str, Any]]

    class BonusConverted(ChainedAggregate.Event):
        employee_id: str
        wallet_id: UUID
        amount_cents: int
        transfers: list[dict[str, Any]]

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state.setdefault("bonus_conversion", False)
        state.setdefault("bonus_converted_cents", 0)

    @staticmethod
    def upcast_v2_v3(state: dict[str, Any]) -> None:
        state.setdefault("fiscal_codes", {})
        state.setdefault("fiscal_code_of", {})

    @event(Created)
    def __init__(
        self,
        employer_id: str,
        vat_number: str,
        year: int,
        starts_on: date,
        ends_on: date,
        budget_cents: int,
        credit_per_employee_cents: int,
        categories: list[str],
        end_policy: EndPolicy,
        transfers: list[dict[str, Any]],
    ) -> None:
        self.employer_id = employer_id
        self.vat_number = vat_number
        self.year = year
        self.starts_on = starts_on
        self.ends_on = ends_on
        self.budget_cents = budget_cents
        self.credit_per_employee_cents = credit_per_employee_cents
        self.categories = categories
        self.end_policy = end_policy
        self.balances: dict[str, int] = {}
        self.employees: dict[str, bool] = {}  # employee id -> has dependent children
        self.allocated_cents = 0
        self.returned_from_wallets_cents = 0
        self.closed = False
        self.next_plan_id: UUID | None = None
        self.bonus_conversion = False
        self.bonus_converted_cents = 0
        self.fiscal_codes: dict[str, str] = {}  # fingerprint of a fiscal code -> employee id
        self.fiscal_code_of: dict[str, str] = {}  # employee id -> fingerprint
        accounts.apply_transfers(self.balances, self.owns, transfers)

    @classmethod
    def create(
        cls,
        *,
        employer_id: str,
        vat_number: str,
        year: int,
        starts_on: date,
        ends_on: date,
        budget_cents: int,
        credit_per_employee_cents: int,
        categories: list[str],
        end_policy: EndPolicy,
        today: date,
    ) -> Plan:
        accounts.check_amount(budget_cents)
        check_plan_period(year, starts_on, ends_on, today)
        allowed = [c for c in categories if c in accounts.SPENDING_CATEGORIES]
        if not allowed or len(allowed) != len(categories):
            raise CategoryNotAllowed(
                f"a plan's categories are some of {', '.join(accounts.SPENDING_CATEGORIES)}"
            )
        if credit_per_employee_cents < 0 or credit_per_employee_cents > budget_cents:
            raise InvalidTransition("the credit per employee must be between 0 and the budget")
        plan_id = uuid.uuid4()
        funding = accounts.transfer(
            accounts.employer_contributions(employer_id),
            accounts.plan_funding(plan_id),
            budget_cents,
        )
        plan: Plan = cls._create(
            cls.Created,
            id=plan_id,
            employer_id=employer_id,
            vat_number=vat_number,
            year=year,
            starts_on=starts_on,
            ends_on=ends_on,
            budget_cents=budget_cents,
            credit_per_employee_cents=credit_per_employee_cents,
            categories=sorted(set(categories)),
            end_policy=end_policy,
            transfers=[funding],
        )
        return plan

    def owns(self, account: str) -> bool:
        return account.startswith(f"plan:{self.id}:")

    @property
    def funding_cents(self) -> int:
        return self.balances.get(accounts.plan_funding(self.id), 0)

    def check_open(self) -> None:
        if self.closed:
            raise PlanNotActive(f"plan {self.id} is closed")

    def check_eligible(self, employee_id: str) -> None:
        if employee_id not in self.employees:
            raise NotEligible(f"employee {employee_id} is not enrolled in plan {self.id}")

    def check_category(self, category: str) -> None:
        if category != accounts.GENERAL and category not in self.categories:
            raise CategoryNotAllowed(
                f"plan {self.id} allows {', '.join(self.categories)}, not {category}"
            )

    def fingerprint(self, fiscal_code: str) -> str:
        """A keyed hash of the normalised fiscal code (upper case, no spaces): equal codes give
        equal fingerprints within this plan, and the code itself is never stored."""
        normalised = "".join(fiscal_code.split()).upper()
        return hmac.new(self.id.bytes, normalised.encode(), hashlib.sha256).hexdigest()

    def check_fiscal_code(self, employee_id: str, fiscal_code: str) -> str:
        """Refuse a fiscal code another employee id of the plan has (one person, two caps), or
        another code for an employee enrolled with one; returns the code's fingerprint."""
        fingerprint = self.fingerprint(fiscal_code)
        holder = self.fiscal_codes.get(fingerprint)
        if holder is not None and holder != employee_id:
            raise FiscalCodeInUse(
                f"this fiscal code already belongs to employee {holder} in this plan: one "
                "person is enrolled once",
                employee_id=holder,
            )
        if self.fiscal_code_of.get(employee_id, fingerprint) != fingerprint:
            raise FiscalCodeMismatch(
                f"employee {employee_id} is enrolled in this plan with another fiscal code",
                employee_id=employee_id,
            )
        return fingerprint

    def enrol(self, employees: dict[str, bool], fiscal_codes: dict[str, str] | None = None) -> None:
        """Make employees eligible (``id -> has dependent children``); already enrolled ones
        are left as they are. ``fiscal_codes`` (``id -> code``, for some or all): a code
        another employee id of the plan has is refused, and so is one given twice here."""
        self.check_open()
        new = {e: c for e, c in employees.items() if e not in self.employees}
        if len(new) > MAX_EMPLOYEES_PER_ENROLMENT:
            raise InvalidTransition(f"enrol at most {MAX_EMPLOYEES_PER_ENROLMENT} at once")
        fingerprints: dict[str, str] = {}
        given: dict[str, str] = {}  # fingerprint -> employee id, in this enrolment
        for employee_id, code in (fiscal_codes or {}).items():
            fingerprint = self.check_fiscal_code(employee_id, code)
            if given.get(fingerprint, employee_id) != employee_id:
                raise FiscalCodeInUse(
                    f"employees {given[fingerprint]} and {employee_id} have the same fiscal "
                    "code: one person is enrolled once",
                    employee_id=given[fingerprint],
                )
            given[fingerprint] = employee_id
            if fingerprint not in self.fiscal_codes:
                fingerprints[employee_id] = fingerprint
        if new or fingerprints:
            self._enrol(sorted(new), sorted(e for e, c in new.items() if c), [], fingerprints)

    @event(EmployeesEnrolled)
    def _enrol(
        self,
        employee_ids: list[str],
        with_children_ids: list[str],
        transfers: list[Any],
        fiscal_fingerprints: dict[str, str],
    ) -> None:
        children = set(with_children_ids)
        for employee_id in employee_ids:
            self.employees[employee_id] = employee_id in children
        for employee_id, fingerprint in fiscal_fingerprints.items():
            self.fiscal_codes[fingerprint] = employee_id
            self.fiscal_code_of[employee_id] = fingerprint

    # --- wallets and their credit -----------------------------------------------------------

    def open_wallet(self, employee_id: str) -> Wallet:
        """A new wallet of an enrolled employee: the plan's categories, expiring with it."""
        self.check_eligible(employee_id)
        return Wallet.open(
            plan_id=self.id,
            employer_id=self.employer_id,
            employee_id=employee_id,
            year=self.year,
            categories=self.categories,
            expires_on=self.ends_on,
        )

    def grant(self, wallet: Wallet, amount_cents: int | None, category: str) -> int:
        """Credit ``wallet`` from the budget (``None``: the plan's credit per employee) in
        ``category`` (``general`` or one the plan allows): one transfer, recorded by both.
        Returns the cents granted."""
        cents = amount_cents if amount_cents is not None else self.credit_per_employee_cents
        self.check_category(category)
        transfer = wallet.grant_transfer(category, cents)
        self.allocate(wallet.employee_id, wallet.id, transfer)
        wallet.record_grant(category, transfer)
        return cents

    def allocate(self, employee_id: str, wallet_id: UUID, transfer: dict[str, Any]) -> None:
        """The plan's leg of a grant: ``transfer`` takes budget from the funding account to an
        employee's wallet (the wallet records the same transfer)."""
        self.check_open()
        self.check_eligible(employee_id)
        if transfer["from_account"] != accounts.plan_funding(self.id):
            raise InvalidTransition("a grant is paid from the plan's funding account")
        accounts.check_transfers(self.balances, self.owns, [transfer])
        self._allocate(employee_id, wallet_id, transfer["amount_cents"], [transfer])

    @event(CreditAllocated)
    def _allocate(
        self, employee_id: str, wallet_id: UUID, amount_cents: int, transfers: list[Any]
    ) -> None:
        accounts.apply_transfers(self.balances, self.owns, transfers)
        self.allocated_cents += amount_cents

    def take_back(self, employee_id: str, wallet_id: UUID, transfers: list[dict[str, Any]]) -> None:
        """The plan's leg of a wallet's expiry (the wallet made the transfers)."""
        amount = sum(t["amount_cents"] for t in transfers)
        self._take_back(employee_id, wallet_id, amount, transfers)

    @event(CreditReturned)
    def _take_back(
        self, employee_id: str, wallet_id: UUID, amount_cents: int, transfers: list[Any]
    ) -> None:
        accounts.apply_transfers(self.balances, self.owns, transfers)
        self.returned_from_wallets_cents += amount_cents

    # --- the end of the plan -----------------------------------------------------------------

    def check_closable(self, today: date) -> None:
        """A plan closes once, on or after its end date."""
        self.check_open()
        if today < self.ends_on:
            raise InvalidTransition(f"plan {self.id} runs until {self.ends_on}")

    def check_carry_over_to(self, next_plan: Plan | None) -> None:
        """A ``carry_over`` plan names the plan its credit moves to: a later, open plan of the
        same employer; a ``reset`` plan names none."""
        if next_plan is None:
            if self.end_policy == "carry_over":
                raise InvalidTransition("name the next plan (next_plan_id) to carry credit over to")
            return
        if self.end_policy != "carry_over":
            raise InvalidTransition("this plan resets at its end: it carries nothing over")
        if next_plan.employer_id != self.employer_id or next_plan.year <= self.year:
            raise InvalidTransition("credit carries over only to a later plan of the employer")
        next_plan.check_open()

    def settle_wallet(
        self,
        wallet: Wallet,
        fringe_of: Callable[[], FringeYear],
        carry_to: Callable[[], Wallet] | None,
    ) -> tuple[int, int]:
        """End one of the plan's wallets: its open holds are released (a fringe hold's amount
        given back to the year, ``fringe_of``), then its credit moves to the employee's wallet
        in the next plan (``carry_to``, for an employee enrolled there) or expires back to the
        employer (the plan records the return). Returns (expired, carried over) cents."""
        for hold_id in [h for h, v in wallet.holds.items() if v["status"] == "held"]:
            cents = wallet.release(UUID(hold_id), f"plan-closed:{self.id}")
            if wallet.holds[hold_id]["category"] == accounts.FRINGE:
                fringe_of().give_back(UUID(hold_id), cents)
        if carry_to is not None:
            return 0, wallet.carry_over(carry_to())
        transfers = wallet.expire_credit()
        if transfers:
            self.take_back(wallet.employee_id, wallet.id, transfers)
        return sum(t["amount_cents"] for t in transfers), 0

    def close(self, next_plan_id: UUID | None) -> int:
        """Close the plan once its wallets are settled: the budget never allocated returns to
        the employer. Returns its cents."""
        self.check_open()
        left = self.funding_cents
        transfers = (
            [
                accounts.transfer(
                    accounts.plan_funding(self.id), accounts.plan_returned(self.id), left
                )
            ]
            if left
            else []
        )
        self._close(left, next_plan_id, transfers)
        return left

    @event(Closed)
    def _close(self, returned_cents: int, next_plan_id: UUID | None, transfers: list[Any]) -> None:
        accounts.apply_transfers(self.balances, self.owns, transfers)
        self.closed = True
        self.next_plan_id = next_plan_id

    # --- productivity bonus -----------------------------------------------------------------

    def allow_bonus_conversion(self, yearly_limit_cents: int) -> None:
        """Let employees convert their productivity bonus into credit of this plan (as the
        company or territorial agreement provides); allowing it again changes nothing."""
        self.check_open()
        accounts.check_amount(yearly_limit_cents)
        if not self.bonus_conversion:
            self._allow_bonus_conversion(yearly_limit_cents, [])

    @event(BonusConversionAllowed)
    def _allow_bonus_conversion(self, yearly_limit_cents: int, transfers: list[Any]) -> None:
        self.bonus_conversion = True

    def check_converts_bonus(self) -> None:
        """The plan is open and lets employees convert their productivity bonus."""
        self.check_open()
        self.check_bonus_conversion()

    def check_bonus_conversion(self) -> None:
        if not self.bonus_conversion:
            raise BonusConversionNotAllowed(
                f"plan {self.id} does not allow converting a productivity bonus into welfare "
                "credit: the employer allows it first (PUT /plans/{plan_id}/bonus-conversion)"
            )

    def convert_bonus(self, employee_id: str, wallet_id: UUID, transfer: dict[str, Any]) -> None:
        """The plan's leg of a conversion: ``transfer`` takes the bonus from the employer's
        bonus account to the employee's wallet (the wallet records the same transfer)."""
        self.check_converts_bonus()
        self.check_eligible(employee_id)
        if transfer["from_account"] != accounts.employer_bonus(self.employer_id):
            raise InvalidTransition("a converted bonus comes from the employer's bonus account")
        self._convert_bonus(employee_id, wallet_id, transfer["amount_cents"], [transfer])

    @event(BonusConverted)
    def _convert_bonus(
        self, employee_id: str, wallet_id: UUID, amount_cents: int, transfers: list[Any]
    ) -> None:
        accounts.apply_transfers(self.balances, self.owns, transfers)
        self.bonus_converted_cents += amount_cents

    def is_active_on(self, day: date) -> bool:
        return not self.closed and self.starts_on <= day <= self.ends_on
