"""The wallet application: get → change → save on the ledger aggregates (plans, wallets, the
fringe and productivity-bonus memo ledgers, employees' families). Every command saves all it
changed in one transaction or nothing; holds, captures, releases and refunds (the hot path) are
group-committed."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import structlog
from eventsourcing.dispatch import singledispatchmethod
from servicekit.batching import UnitOfWork
from servicekit.domain import DomainError, NotFound
from servicekit.messages import Processing
from servicekit.projection import ReadModelStore
from servicekit.settings import ServiceSettings
from servicekit.store import ServiceApplication

from wallet import contract_mapping  # noqa: F401  (registers the ledger hash chain mapping)
from wallet.adapters.read_model import open_read_model
from wallet.application import bulk_load, views
from wallet.application import commands as cmd
from wallet.application.bulk_load import LoadReport
from wallet.application.requests import CaptureRequest, HoldRequest, ReleaseRequest
from wallet.application.views import ALL, Page
from wallet.domain import ledger
from wallet.domain.bonus import DEFAULT_YEARLY_LIMIT_CENTS, BonusYear, yearly_limits
from wallet.domain.errors import FringeCapExceeded, InvalidTransition, NoFringeCap, NotEligible
from wallet.domain.family import Family, check_delegate, check_member
from wallet.domain.fringe import FringeYear
from wallet.domain.plan import Plan
from wallet.domain.plausible import check_hold_expiry, check_report_year
from wallet.domain.wallet import Wallet
from wallet.figures import PayrollLine, PlanFigures

log = structlog.get_logger(__name__)


def now_utc() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class BonusConversion:
    """What a productivity-bonus conversion did, and the employee's room left for the year."""

    wallet_id: UUID
    amount_cents: int
    year: int
    converted_this_year_cents: int
    yearly_limit_cents: int


@dataclass(frozen=True)
class _Warned:
    """A fringe spend refused for crossing the cap (the warning itself is stored)."""

    message: str
    figures: dict[str, int]

    def error(self) -> FringeCapExceeded:
        return FringeCapExceeded(self.message, **self.figures)


class WalletApplication(ServiceApplication):
    snapshotting_intervals = {Wallet: 100, Plan: 200, FringeYear: 100, BonusYear: 100, Family: 100}

    def __init__(self, settings: ServiceSettings, env: dict[str, Any] | None = None) -> None:
        super().__init__(settings, {"IS_SNAPSHOTTING_ENABLED": "y", **(env or {})})
        try:
            self.bonus_limits = yearly_limits(
                self.territory.rules.extra_table("productivity_bonus")
            )
        except (TypeError, ValueError) as error:
            raise ValueError(f"territory {self.territory.id}: {error}") from None
        self._read_model: ReadModelStore | None = None
        self._read_model_lock = threading.Lock()

    def close(self) -> None:
        if self._read_model is not None:
            self._read_model.close()
        super().close()

    # --- the read model (adapters/read_model.py; its queries: views.py) ---------------------------

    @property
    def read_model(self) -> ReadModelStore:
        if self._read_model is None:
            with self._read_model_lock:
                if self._read_model is None:
                    self._read_model = open_read_model(self.settings)
        return self._read_model

    def read_model_stores(self) -> list[ReadModelStore]:
        return [self.read_model]

    def fresh_read_model(self) -> ReadModelStore:
        """The read model, caught up with every event stored so far (by this process or any
        other): a query on it sees the writes made before it."""
        self.catch_up_read_models()
        return self.read_model

    def bonus_limit(self, year: int) -> int:
        """The productivity bonus an employee may convert tax-free in ``year`` (cents): the
        territory's rule, else the statutory 3,000 EUR."""
        return self.bonus_limits.get(year, DEFAULT_YEARLY_LIMIT_CENTS)

    # --- plans --------------------------------------------------------------------------------

    def create_plan(
        self, employer_id: str, command: cmd.CreatePlan, today: date | None = None
    ) -> UUID:
        plan = Plan.create(
            employer_id=employer_id,
            vat_number=command.vat_number,
            year=command.year,
            starts_on=command.starts_on,
            ends_on=command.ends_on,
            budget_cents=command.budget_cents,
            credit_per_employee_cents=command.credit_per_employee_cents,
            categories=list(command.categories),
            end_policy=command.end_policy,
            today=today or now_utc().date(),
        )
        if command.productivity_bonus:
            plan.allow_bonus_conversion(self.bonus_limit(plan.year))
        self.save(plan)
        return plan.id

    def allow_bonus_conversion(self, plan_id: UUID) -> None:
        def change() -> None:
            plan = self.get_plan(plan_id)
            plan.allow_bonus_conversion(self.bonus_limit(plan.year))
            self.save(plan)

        self.retrying(change)

    def convert_bonus(
        self, plan_id: UUID, command: cmd.ConvertBonus, today: date | None = None
    ) -> BonusConversion:
        """Credit an employee's wallet with (part of) their productivity bonus: a transfer from
        the employer's bonus account to the wallet's general credit, counted against the
        employee's yearly tax-free limit (refused whole if it would cross it). The same request
        id converts once."""
        day = today or now_utc().date()

        def change() -> BonusConversion:
            plan = self.get_plan(plan_id)
            plan.check_open()
            plan.check_bonus_conversion()
            wallet = self._wallet_for(plan, command.employee_id)
            bonus_year = self._bonus_year(command.employee_id, plan.year)
            if not wallet.existing_conversion(command.request_id, command.amount_cents):
                bonus_year.check_room(command.amount_cents)
                t = wallet.bonus_transfer(command.amount_cents, day)
                plan.convert_bonus(command.employee_id, wallet.id, t)
                wallet.record_bonus(command.request_id, t)
                bonus_year.record(wallet.id, plan.id, command.amount_cents)
                self.save(plan, wallet, bonus_year)
            return BonusConversion(
                wallet_id=wallet.id,
                amount_cents=command.amount_cents,
                year=plan.year,
                converted_this_year_cents=bonus_year.converted_cents,
                yearly_limit_cents=bonus_year.limit_cents,
            )

        return self.retrying(change)

    def _bonus_year(self, employee_id: str, year: int) -> BonusYear:
        try:
            return self.get_aggregate(BonusYear.id_for(employee_id, year), BonusYear, "bonus year")
        except NotFound:
            return BonusYear.open(employee_id, year, self.bonus_limit(year))

    def bonus_year(self, employee_id: str, year: int) -> BonusYear | None:
        try:
            return self.get_aggregate(BonusYear.id_for(employee_id, year), BonusYear, "bonus year")
        except NotFound:
            return None

    def get_plan(self, plan_id: UUID) -> Plan:
        return self.get_aggregate(plan_id, Plan, "plan")

    def plans_of(self, employer_id: str | None, page: Page = ALL) -> list[Plan]:
        """The employer's plans (every plan when ``employer_id`` is None), oldest first."""
        ids = views.plans_of(self.fresh_read_model(), employer_id, page)
        return [self.get_plan(i) for i in ids]

    def enrol(self, plan_id: UUID, command: cmd.Enrol) -> None:
        def change() -> None:
            plan = self.get_plan(plan_id)
            plan.enrol(
                {e.employee_id: e.dependent_children for e in command.employees},
                {e.employee_id: e.fiscal_code for e in command.employees if e.fiscal_code},
            )
            self.save(plan)

        self.retrying(change)

    def grant(self, plan_id: UUID, command: cmd.Grant) -> UUID:
        def change() -> UUID:
            plan = self.get_plan(plan_id)
            wallet = self._wallet_for(plan, command.employee_id)
            self._grant(plan, wallet, command.employee_id, command.amount_cents, command.category)
            self.save(plan, wallet)
            return wallet.id

        return self.retrying(change)

    def _wallet_for(self, plan: Plan, employee_id: str) -> Wallet:
        plan.check_eligible(employee_id)
        try:
            return self.get_wallet(Wallet.id_for(plan.id, employee_id))
        except NotFound:
            return Wallet.open(
                plan_id=plan.id,
                employer_id=plan.employer_id,
                employee_id=employee_id,
                year=plan.year,
                categories=plan.categories,
                expires_on=plan.ends_on,
            )

    @staticmethod
    def _grant(
        plan: Plan, wallet: Wallet, employee_id: str, amount: int | None, category: str
    ) -> int:
        cents = amount if amount is not None else plan.credit_per_employee_cents
        plan.check_category(category)
        t = wallet.grant_transfer(category, cents)
        plan.allocate(employee_id, wallet.id, t)
        wallet.record_grant(category, t)
        return cents

    def load_csv(self, plan_id: UUID, data: bytes | str, load_id: str | None = None) -> LoadReport:
        """Enrol and credit the employees of a CSV file (see :mod:`bulk_load`): every row is
        judged alone; the same file (its SHA-256) is loaded once, and its report given again."""
        raw = data.encode() if isinstance(data, str) else data
        return bulk_load.load_employees(self, plan_id, raw, load_id)

    def loads_of(self, plan_id: UUID) -> list[dict[str, Any]]:
        """The plan's bulk loads, oldest first: key, time, rows loaded and refused, credit."""
        return views.loads_of(self.fresh_read_model(), plan_id)

    # --- wallets ------------------------------------------------------------------------------

    def get_wallet(self, wallet_id: UUID) -> Wallet:
        return self.get_aggregate(wallet_id, Wallet, "wallet")

    def wallets_of_plan(self, plan: Plan) -> list[Wallet]:
        wallets = []
        for employee_id in plan.employees:
            try:
                wallets.append(self.get_wallet(Wallet.id_for(plan.id, employee_id)))
            except NotFound:
                continue
        return wallets

    def wallets_of_employee(self, employee_id: str, page: Page = ALL) -> list[Wallet]:
        """The employee's wallets, oldest first."""
        ids = views.wallets_of_employee(self.fresh_read_model(), employee_id, page)
        return [self.get_wallet(i) for i in ids]

    def history(self, wallet_id: UUID, page: Page = ALL) -> list[dict[str, Any]]:
        """The wallet's movements, oldest first, with the running figures (``views.history``);
        ``NotFound`` for an unknown wallet."""
        self.get_wallet(wallet_id)
        return views.history(self.fresh_read_model(), wallet_id, page)

    # --- families and delegates ----------------------------------------------------------------

    def get_family(self, employee_id: str) -> Family | None:
        try:
            return self.get_aggregate(Family.id_for(employee_id), Family, "family")
        except NotFound:
            return None

    def _change_family(self, employee_id: str, change: Any) -> Family:
        def command() -> Family:
            family = self.get_family(employee_id)
            if family is None:
                if not views.has_wallet(self.fresh_read_model(), employee_id):
                    raise NotEligible(
                        f"{employee_id} has no welfare wallet: family members and delegates are "
                        "named by employees with one"
                    )
                family = Family.open(employee_id)
            change(family)
            self.save(family)
            return family

        return self.retrying(command)

    def name_family_member(
        self, employee_id: str, member_id: str, command: cmd.NameFamilyMember
    ) -> Family:
        return self._change_family(
            employee_id, lambda f: f.name_member(member_id, command.relationship)
        )

    def remove_family_member(self, employee_id: str, member_id: str) -> Family:
        return self._change_family(employee_id, lambda f: f.remove_member(member_id))

    def name_delegate(self, employee_id: str, command: cmd.NameDelegate) -> Family:
        return self._change_family(employee_id, lambda f: f.name_delegate(command.delegate_id))

    def revoke_delegate(self, employee_id: str) -> Family:
        return self._change_family(employee_id, lambda f: f.revoke_delegate())

    def wallets_delegated_to(self, delegate_id: str, page: Page = ALL) -> list[Wallet]:
        """The wallets of every employee whose current delegate is ``delegate_id``."""
        ids = views.wallets_delegated_to(self.fresh_read_model(), delegate_id, page)
        return [self.get_wallet(i) for i in ids]

    @staticmethod
    def _family(uow: UnitOfWork, employee_id: str) -> Family | None:
        """The employee's family as stored now (read fresh: a rule is checked against it)."""
        try:
            return uow.get(Family.id_for(employee_id), Family, "family", fresh=True)
        except NotFound:
            return None

    # --- holds: the hot path ------------------------------------------------------------------

    def hold(
        self,
        wallet_id: UUID,
        command: cmd.HoldFunds,
        now: datetime | None = None,
        *,
        delegate_id: str | None = None,
        on_the_spot: bool = False,
    ) -> UUID:
        """Reserve money for a pending booking (for the employee, or for the family member
        ``command.for_member_id``). ``delegate_id``: the employee's delegate holds, and must
        still be the delegate. The same request id always gives the same hold, made once. A
        hold expires in the future, within a year and its plan (``on_the_spot``: a spend's
        hold, captured at once, whose expiry is now)."""
        at = now or now_utc()

        def change(uow: UnitOfWork) -> UUID | _Warned:
            return self._hold(uow, wallet_id, command, at, delegate_id, on_the_spot=on_the_spot)

        outcome = self.group_commit(change)
        if isinstance(outcome, _Warned):
            raise outcome.error()
        return outcome

    def _hold(
        self,
        uow: UnitOfWork,
        wallet_id: UUID,
        command: cmd.HoldFunds,
        at: datetime,
        delegate_id: str | None = None,
        *,
        on_the_spot: bool = False,
    ) -> UUID | _Warned:
        wallet = uow.get(wallet_id, Wallet, "wallet")
        member_id = command.for_member_id
        family = None
        if delegate_id is not None or member_id is not None:
            family = self._family(uow, wallet.employee_id)
        if delegate_id is not None:
            check_delegate(family, wallet.employee_id, delegate_id)
        existing = wallet.existing_hold(
            command.request_id,
            command.provider_id,
            command.category,
            command.amount_cents,
            member_id,
        )
        if existing is not None:
            return existing
        wallet.check_hold(command.category, command.amount_cents, at.date())
        if not on_the_spot:
            check_hold_expiry(command.expires_at, at, wallet.expires_on)
        if member_id is not None:
            check_member(family, wallet.employee_id, member_id)
        fringe = None
        if command.category == ledger.FRINGE:
            fringe = self._fringe_year(uow, wallet)
            if fringe.would_cross(command.amount_cents):
                if not command.confirm_taxable:
                    fringe.warn(command.amount_cents)
                    return self._warned(fringe, command.amount_cents)
                fringe.confirm_taxable()
        hold_id = wallet.hold(
            command.request_id,
            command.provider_id,
            command.category,
            command.amount_cents,
            command.expires_at.astimezone(UTC),
            at.date(),
            member_id=member_id,
            delegate_id=delegate_id,
        )
        if fringe is not None:
            fringe.commit(hold_id, command.amount_cents)
        return hold_id

    def spend(
        self,
        wallet_id: UUID,
        command: cmd.Spend,
        now: datetime | None = None,
        *,
        delegate_id: str | None = None,
    ) -> UUID:
        """Pay a provider on the spot: a hold captured at once (idempotent by request id)."""
        at = now or now_utc()
        hold_id = self.hold(
            wallet_id,
            cmd.HoldFunds(
                request_id=command.request_id,
                provider_id=command.provider_id,
                category=command.category,
                amount_cents=command.amount_cents,
                expires_at=at,
                confirm_taxable=command.confirm_taxable,
                for_member_id=command.for_member_id,
            ),
            at,
            delegate_id=delegate_id,
            on_the_spot=True,
        )
        self.capture(wallet_id, hold_id, cmd.Capture(request_id=command.request_id))
        return hold_id

    def capture(self, wallet_id: UUID, hold_id: UUID, command: cmd.Capture) -> int:
        return self.group_commit(
            lambda uow: self._capture(
                uow, wallet_id, hold_id, command.request_id, command.amount_cents
            )
        )

    def _capture(
        self,
        uow: UnitOfWork,
        wallet_id: UUID,
        hold_id: UUID,
        request_id: str,
        amount_cents: int | None,
    ) -> int:
        wallet = uow.get(wallet_id, Wallet, "wallet")
        hold = wallet.get_hold(hold_id)
        before = hold["status"]
        captured = wallet.capture(hold_id, request_id, amount_cents)
        if before == "held" and hold["category"] == ledger.FRINGE:
            released = hold["amount"] - captured
            if released:
                self._fringe_year(uow, wallet).give_back(hold_id, released)
        return captured

    def release(self, wallet_id: UUID, hold_id: UUID, command: cmd.Release) -> int:
        return self.group_commit(
            lambda uow: self._release(uow, wallet_id, hold_id, command.request_id)
        )

    def _release(self, uow: UnitOfWork, wallet_id: UUID, hold_id: UUID, request_id: str) -> int:
        wallet = uow.get(wallet_id, Wallet, "wallet")
        released = wallet.release(hold_id, request_id)
        if released and wallet.get_hold(hold_id)["category"] == ledger.FRINGE:
            self._fringe_year(uow, wallet).give_back(hold_id, released)
        return released

    def refund(self, wallet_id: UUID, hold_id: UUID, command: cmd.Refund) -> int:
        def change(uow: UnitOfWork) -> int:
            wallet = uow.get(wallet_id, Wallet, "wallet")
            refunded = wallet.refund(hold_id, command.request_id, command.amount_cents)
            if refunded and wallet.get_hold(hold_id)["category"] == ledger.FRINGE:
                self._fringe_year(uow, wallet).give_back(hold_id, refunded)
            return refunded

        return self.group_commit(change)

    def expire_holds(self, now: datetime | None = None) -> int:
        """Release every hold past its expiry; returns the cents that went back."""
        at = now or now_utc()
        wallet_ids = views.wallets_with_holds_due(self.fresh_read_model(), at)
        total = 0
        for wallet_id in wallet_ids:

            def change(uow: UnitOfWork, wallet_id: UUID = wallet_id) -> int:
                wallet = uow.get(wallet_id, Wallet, "wallet")
                expired = wallet.expire_holds(at)
                for hold_id, category, cents in expired:
                    if category == ledger.FRINGE:
                        self._fringe_year(uow, wallet).give_back(hold_id, cents)
                return sum(cents for _, _, cents in expired)

            total += self.group_commit(change)
        return total

    # --- expiry reminders ------------------------------------------------------------------------

    def remind_expiring_credit(self, now: datetime | None = None) -> int:
        """Record a reminder (CreditExpiring) for every wallet with credit left whose plan ends
        within 30, then within 7 days: once per wallet and threshold, however often this runs.
        Only plans that reset: a carry-over plan's credit moves on to the next plan. Returns the
        number of reminders recorded."""
        today = (now or now_utc()).astimezone(UTC).date()
        reminded = 0
        for wallet_id in views.wallets_to_remind(self.fresh_read_model(), today):

            def change(uow: UnitOfWork, wallet_id: UUID = wallet_id) -> int:
                wallet = uow.get(wallet_id, Wallet, "wallet")
                return 1 if wallet.remind_expiry(today) else 0

            reminded += self.group_commit(change)
        return reminded

    def _fringe_year(self, uow: UnitOfWork, wallet: Wallet) -> FringeYear:
        fringe_id = FringeYear.id_for(wallet.employee_id, wallet.year)
        try:
            return uow.get(fringe_id, FringeYear, "fringe year")
        except NotFound:
            pass
        plan = uow.get(wallet.plan_id, Plan, "plan")
        with_children = plan.employees.get(wallet.employee_id, False)
        cap = self.territory.rules.fringe_benefits.cap_for(wallet.year, with_children=with_children)
        if cap is None:
            raise NoFringeCap(
                f"the territory configures no fringe-benefit cap for {wallet.year}: "
                "fringe credit cannot be spent"
            )
        fringe = FringeYear.open(wallet.employee_id, wallet.year, cap, with_children)
        uow.add(fringe)
        return fringe

    @staticmethod
    def _warned(fringe: FringeYear, amount: int) -> _Warned:
        """The refusal of a spend over the cap: the message and its figures (the year's total
        it would reach is all taxable, not just the excess)."""
        total = fringe.total_cents + amount
        message = (
            f"this spend would bring the fringe benefits of {fringe.year} to "
            f"{total} cents, over the tax-free cap of {fringe.cap_cents} "
            f"cents: the WHOLE year's fringe amount would become taxable income. Send "
            f"confirm_taxable=true to go ahead."
        )
        figures = {
            "year": fringe.year,
            "cap_cents": fringe.cap_cents,
            "fringe_cents": fringe.total_cents,
            "requested_cents": amount,
            "year_total_cents": total,
            "taxable_cents": total,
        }
        return _Warned(message, figures)

    def fringe_year(self, employee_id: str, year: int) -> FringeYear | None:
        try:
            return self.get_aggregate(
                FringeYear.id_for(employee_id, year), FringeYear, "fringe year"
            )
        except NotFound:
            return None

    # --- end of plan --------------------------------------------------------------------------

    def close_plan(
        self, plan_id: UUID, command: cmd.ClosePlan, today: date | None = None
    ) -> dict[str, int]:
        """End a plan (on or after its end date): open holds are released, then each wallet's
        credit expires back to the employer (``reset``) or moves to the employee's wallet in
        the next plan (``carry_over``; employees not enrolled there expire). Re-running after a
        crash finishes the job: closed wallets are skipped."""
        day = today or now_utc().date()
        plan = self.get_plan(plan_id)
        plan.check_open()
        if day < plan.ends_on:
            raise InvalidTransition(f"plan {plan_id} runs until {plan.ends_on}")
        next_plan = None
        if command.next_plan_id is not None:
            next_plan = self.get_plan(UUID(command.next_plan_id))
            if plan.end_policy != "carry_over":
                raise InvalidTransition("this plan resets at its end: it carries nothing over")
            if next_plan.employer_id != plan.employer_id or next_plan.year <= plan.year:
                raise InvalidTransition("credit carries over only to a later plan of the employer")
            next_plan.check_open()
        elif plan.end_policy == "carry_over":
            raise InvalidTransition("name the next plan (next_plan_id) to carry credit over to")
        expired = carried = 0
        for employee_id in list(plan.employees):
            wallet_id = Wallet.id_for(plan_id, employee_id)

            def change(
                employee_id: str = employee_id, wallet_id: UUID = wallet_id
            ) -> tuple[int, int]:
                try:
                    wallet = self.get_wallet(wallet_id)
                except NotFound:
                    return 0, 0
                if wallet.closed:
                    return 0, 0
                fresh_plan = self.get_plan(plan_id)
                changed: list[Any] = [wallet, fresh_plan]
                fringe: FringeYear | None = None
                for hold_id in [h for h, v in wallet.holds.items() if v["status"] == "held"]:
                    cents = wallet.release(UUID(hold_id), f"plan-closed:{plan_id}")
                    if wallet.holds[hold_id]["category"] == ledger.FRINGE:
                        if fringe is None:
                            fringe = self.get_aggregate(
                                FringeYear.id_for(employee_id, wallet.year), FringeYear, "fringe"
                            )
                            changed.append(fringe)
                        fringe.give_back(UUID(hold_id), cents)
                if next_plan is not None and employee_id in next_plan.employees:
                    target = self._wallet_for(self.get_plan(next_plan.id), employee_id)
                    amount = wallet.carry_over(target)
                    changed.append(target)
                    self.save(*changed)
                    return 0, amount
                transfers = wallet.expire_credit()
                if transfers:
                    fresh_plan.take_back(employee_id, wallet.id, transfers)
                self.save(*changed)
                return sum(t["amount_cents"] for t in transfers), 0

            e, c = self.retrying(change)
            expired += e
            carried += c

        def finish() -> int:
            fresh = self.get_plan(plan_id)
            left = fresh.funding_cents
            fresh.close(next_plan.id if next_plan else None)
            self.save(fresh)
            return left

        returned_budget = self.retrying(finish)
        return {
            "expired_cents": expired,
            "carried_over_cents": carried,
            "unallocated_returned_cents": returned_budget,
        }

    # --- requests by event (the booking saga) --------------------------------------------------

    @singledispatchmethod
    def policy(self, event: Any, processing: Any) -> None:
        """Events the wallet does not act on are tracked and otherwise ignored."""

    @policy.register
    def _(self, request: HoldRequest, processing: Processing) -> None:
        try:
            wallet = self.get_wallet(request.wallet_id)
        except NotFound:
            log.warning("hold_request_for_unknown_wallet", wallet_id=str(request.wallet_id))
            return  # tracked, no effect: the saga times out and compensates
        at = processing.envelope.time if processing.envelope is not None else now_utc()
        command = cmd.HoldFunds(
            request_id=request.request_id,
            provider_id=request.provider_id,
            category=request.category,  # type: ignore[arg-type]
            amount_cents=request.amount_cents,
            expires_at=request.expires_at,
            confirm_taxable=request.confirm_taxable,
            for_member_id=request.for_member_id,
        )
        uow = UnitOfWork(self)
        uow.add(wallet)
        try:
            outcome = self._hold(uow, request.wallet_id, command, at)
        except DomainError as refusal:
            fresh = self.get_wallet(request.wallet_id)  # nothing of the refused attempt
            fresh.refuse_hold(
                request.request_id,
                request.provider_id,
                request.category,
                request.amount_cents,
                refusal.code,
                str(refusal),
            )
            processing.collect_events(fresh)
            return
        if isinstance(outcome, _Warned):
            fringe = self._fringe_year(uow, wallet)
            wallet.refuse_hold(
                request.request_id,
                request.provider_id,
                request.category,
                request.amount_cents,
                FringeCapExceeded.code,
                outcome.message,
            )
            processing.collect_events(wallet, fringe)
            return
        processing.collect_events(*uow.changed())

    @policy.register
    def _(self, request: CaptureRequest, processing: Processing) -> None:
        uow = UnitOfWork(self)
        try:
            self._capture(
                uow, request.wallet_id, request.hold_id, request.request_id, request.amount_cents
            )
        except DomainError as refusal:  # e.g. the hold expired first: logged, tracked
            log.warning("capture_request_refused", hold_id=str(request.hold_id), why=str(refusal))
            return
        processing.collect_events(*uow.changed())

    @policy.register
    def _(self, request: ReleaseRequest, processing: Processing) -> None:
        uow = UnitOfWork(self)
        try:
            self._release(uow, request.wallet_id, request.hold_id, request.request_id)
        except DomainError as refusal:  # e.g. already captured or expired: logged, tracked
            log.warning("release_request_refused", hold_id=str(request.hold_id), why=str(refusal))
            return
        processing.collect_events(*uow.changed())

    # --- reports ------------------------------------------------------------------------------

    def plan_figures(self, plan_id: UUID) -> PlanFigures:
        plan = self.get_plan(plan_id)
        return PlanFigures.of(plan, self.wallets_of_plan(plan))

    def figures_upto(self, notification_id: int) -> tuple[list[PlanFigures], list[PayrollLine]]:
        """Every plan's statement and every employee's payroll line as they were once the
        events up to ``notification_id`` were stored: the point an auditor's replay reached,
        however far the service has moved on since. ``LedgerBehind`` (the kit's) when the
        store does not reach it. Reads the log up to there (an audit must read everything):
        the one query here that does not use the read model."""
        self.check_reaches(notification_id)
        versions = self.versions_upto(notification_id, Plan, Wallet, FringeYear)
        statements: list[PlanFigures] = []
        employees_by_year: dict[int, set[str]] = {}
        for e in self.events_of(Plan.Created):
            if e.originator_id not in versions:
                continue
            plan = self.get_as_of(e.originator_id, versions, Plan, "plan")
            wallet_ids = [Wallet.id_for(plan.id, employee) for employee in plan.employees]
            wallets = [
                self.get_as_of(w, versions, Wallet, "wallet") for w in wallet_ids if w in versions
            ]
            statements.append(PlanFigures.of(plan, wallets))
            employees_by_year.setdefault(plan.year, set()).update(plan.employees)
        payroll = []
        for year, employees in sorted(employees_by_year.items()):
            for employee_id in sorted(employees):
                fringe_id = FringeYear.id_for(employee_id, year)
                if fringe_id in versions:
                    fringe = self.get_as_of(fringe_id, versions, FringeYear, "fringe year")
                    payroll.append(PayrollLine.of(fringe))
        return statements, payroll

    def payroll(
        self, employer_id: str | None, year: int, *, check_year: bool = True
    ) -> list[PayrollLine]:
        """Fringe benefits per employee of the employer's plans of ``year`` (all employers'
        when ``employer_id`` is None), with the taxable amount. ``check_year``: refuse an
        implausible year (the auditor reads every stored plan's year as it is)."""
        if check_year:
            check_report_year(year, now_utc().date())
        employees = views.employees_with_fringe(self.fresh_read_model(), employer_id, year)
        lines = []
        for employee_id in employees:
            fringe = self.fringe_year(employee_id, year)
            if fringe is not None:
                lines.append(PayrollLine.of(fringe))
        return lines

    def fringe_statement(self, employee_id: str, year: int) -> PayrollLine | None:
        """The employee's own fringe line for ``year``: the same figures as the payroll's."""
        check_report_year(year, now_utc().date())
        fringe = self.fringe_year(employee_id, year)
        return None if fringe is None else PayrollLine.of(fringe)

    # --- queries ------------------------------------------------------------------------------

    def captures_for(self, provider_id: str, page: Page = ALL) -> list[dict[str, Any]]:
        """What was captured for the provider and refunded by it, oldest first."""
        return views.captures_for(self.fresh_read_model(), provider_id, page)

    def check_employee(self, plan: Plan, employee_id: str) -> None:
        if employee_id not in plan.employees:
            raise NotEligible(f"employee {employee_id} is not enrolled in this plan")
