"""The wallet application: the façade the routes, the jobs, the booking saga's messages and the
auditor's hook call. Each command runs its handler (``wallet.application.handlers``: get →
change → save, the rules in ``wallet.domain``) in one transaction, again after a concurrent
write; holds, captures, releases and refunds (the hot path) are group-committed. Queries read
the read model (``views``, ``adapters/read_model.py``) and the aggregates it names."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any, Concatenate, ParamSpec, TypeVar
from uuid import UUID

from benecomune_contracts import booking
from eventsourcing.dispatch import singledispatchmethod
from servicekit.batching import UnitOfWork
from servicekit.domain import NotFound
from servicekit.messages import Processing
from servicekit.projection import ReadModelStore
from servicekit.settings import ServiceSettings
from servicekit.store import ServiceApplication

from wallet.adapters.contract_mapping import to_contract
from wallet.adapters.read_model import open_read_model
from wallet.application import commands as cmd
from wallet.application import views
from wallet.application.context import WalletContext, run_once
from wallet.application.figures import PayrollLine, PlanFigures
from wallet.application.handlers import bonus, employees, family, holds, jobs, plans, saga
from wallet.application.handlers.bonus import BonusConversion
from wallet.application.handlers.bulk_loads import LoadReport, load_employees
from wallet.application.requests import (
    CaptureRequest,
    HoldRequest,
    ReleaseRequest,
    from_booking,
)
from wallet.application.views import ALL, Page
from wallet.domain.bonus import DEFAULT_YEARLY_LIMIT_CENTS, BonusYear, yearly_limits
from wallet.domain.family import Family
from wallet.domain.fringe import FringeYear, OverFringeCap
from wallet.domain.plan import Plan
from wallet.domain.plausible import check_report_year
from wallet.domain.wallet import Wallet

__all__ = ["BonusConversion", "LoadReport", "WalletApplication", "now_utc"]

P = ParamSpec("P")
T = TypeVar("T")
Handler = Callable[Concatenate[WalletContext, UnitOfWork, P], T]


def now_utc() -> datetime:
    return datetime.now(UTC)


class WalletApplication(ServiceApplication):
    snapshotting_intervals = {Wallet: 100, Plan: 200, FringeYear: 100, BonusYear: 100, Family: 100}
    # The relay's mapping; the kit registers it for the hash chain of these aggregates.
    contract_mapper = to_contract
    ledger_aggregates = (Plan, Wallet, FringeYear, BonusYear, Family)

    def __init__(self, settings: ServiceSettings, env: dict[str, Any] | None = None) -> None:
        super().__init__(settings, {"IS_SNAPSHOTTING_ENABLED": "y", **(env or {})})
        try:
            self.bonus_limits = yearly_limits(
                self.territory.rules.extra_table("productivity_bonus")
            )
        except (TypeError, ValueError) as error:
            raise ValueError(f"territory {self.territory.id}: {error}") from None

    # --- running handlers -----------------------------------------------------------------------

    def run(self, handler: Handler[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a command handler and save what it changed in one transaction; again, on fresh
        state, when a concurrent command saved the same aggregates first."""
        return self.retrying(lambda: run_once(self, handler, *args, **kwargs))

    def run_batched(self, handler: Handler[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a hot command handler in the next group-committed batch (servicekit.batching)."""
        return self.group_commit(lambda uow: handler(self, uow, *args, **kwargs))

    # --- the rules of the territory -------------------------------------------------------------

    def bonus_limit(self, year: int) -> int:
        """The productivity bonus an employee may convert tax-free in ``year`` (cents): the
        territory's rule, else the statutory 3,000 EUR."""
        return self.bonus_limits.get(year, DEFAULT_YEARLY_LIMIT_CENTS)

    def fringe_cap(self, year: int, *, with_children: bool) -> int | None:
        return self.territory.rules.fringe_benefits.cap_for(year, with_children=with_children)

    # --- the read model (adapters/read_model.py; its queries: views.py) ---------------------------

    def open_read_model(self) -> ReadModelStore:
        return open_read_model(self.settings)

    # --- plans and employees (handlers/plans.py, employees.py, bulk_loads.py) ---------------------

    def create_plan(
        self, employer_id: str, command: cmd.CreatePlan, today: date | None = None
    ) -> UUID:
        return self.run(plans.create_plan, employer_id, command, today or now_utc().date())

    def allow_bonus_conversion(self, plan_id: UUID) -> None:
        self.run(plans.allow_bonus_conversion, plan_id)

    def enrol(self, plan_id: UUID, command: cmd.Enrol) -> None:
        self.run(employees.enrol, plan_id, command)

    def grant(self, plan_id: UUID, command: cmd.Grant) -> UUID:
        return self.run(employees.grant, plan_id, command)

    def load_csv(self, plan_id: UUID, data: bytes | str, load_id: str | None = None) -> LoadReport:
        raw = data.encode() if isinstance(data, str) else data
        return load_employees(self, plan_id, raw, load_id)

    def close_plan(
        self, plan_id: UUID, command: cmd.ClosePlan, today: date | None = None
    ) -> dict[str, int]:
        return plans.close_plan(self, plan_id, command, today or now_utc().date())

    def convert_bonus(
        self, plan_id: UUID, command: cmd.ConvertBonus, today: date | None = None
    ) -> BonusConversion:
        return self.run(bonus.convert_bonus, plan_id, command, today or now_utc().date())

    # --- holds: the hot path (handlers/holds.py) ------------------------------------------------

    def hold(
        self,
        wallet_id: UUID,
        command: cmd.HoldFunds,
        now: datetime | None = None,
        *,
        delegate_id: str | None = None,
        on_the_spot: bool = False,
    ) -> UUID:
        """Reserve money for a pending booking (``wallet.domain.spending.hold``); a fringe
        spend over the cap unconfirmed: its warning is stored, then ``FringeCapExceeded``."""
        at = now or now_utc()
        outcome = self.run_batched(holds.hold, wallet_id, command, at, delegate_id, on_the_spot)
        if isinstance(outcome, OverFringeCap):
            raise outcome.error()
        return outcome

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
        terms = cmd.HoldFunds(expires_at=at, **command.model_dump())
        hold_id = self.hold(wallet_id, terms, at, delegate_id=delegate_id, on_the_spot=True)
        self.capture(wallet_id, hold_id, cmd.Capture(request_id=command.request_id))
        return hold_id

    def capture(self, wallet_id: UUID, hold_id: UUID, command: cmd.Capture) -> int:
        return self.run_batched(
            holds.capture, wallet_id, hold_id, command.request_id, command.amount_cents
        )

    def release(self, wallet_id: UUID, hold_id: UUID, command: cmd.Release) -> int:
        return self.run_batched(holds.release, wallet_id, hold_id, command.request_id)

    def refund(self, wallet_id: UUID, hold_id: UUID, command: cmd.Refund) -> int:
        return self.run_batched(holds.refund, wallet_id, hold_id, command)

    # --- families and delegates (handlers/family.py) ------------------------------------------

    def name_family_member(
        self, employee_id: str, member_id: str, command: cmd.NameFamilyMember
    ) -> Family:
        return self.run(family.name_family_member, employee_id, member_id, command)

    def remove_family_member(self, employee_id: str, member_id: str) -> Family:
        return self.run(family.remove_family_member, employee_id, member_id)

    def name_delegate(self, employee_id: str, command: cmd.NameDelegate) -> Family:
        return self.run(family.name_delegate, employee_id, command)

    def revoke_delegate(self, employee_id: str) -> Family:
        return self.run(family.revoke_delegate, employee_id)

    # --- periodic jobs (handlers/jobs.py), wallet by wallet -------------------------------------

    def expire_holds(self, now: datetime | None = None) -> int:
        """Release every hold past its expiry; returns the cents that went back."""
        at = now or now_utc()
        due = views.wallets_with_holds_due(self.fresh_read_model(), at)
        return sum(self.run_batched(jobs.expire_holds, wallet_id, at) for wallet_id in due)

    def remind_expiring_credit(self, now: datetime | None = None) -> int:
        """Record a reminder (CreditExpiring) for every wallet with credit left whose plan ends
        within 30, then within 7 days: once per wallet and threshold, however often this runs.
        Only plans that reset: a carry-over plan's credit moves on to the next plan. Returns the
        number of reminders recorded."""
        today = (now or now_utc()).astimezone(UTC).date()
        due = views.wallets_to_remind(self.fresh_read_model(), today)
        return sum(self.run_batched(jobs.remind_expiring_credit, w, today) for w in due)

    # --- requests by event (the booking saga: handlers/saga.py) ---------------------------------

    @singledispatchmethod
    def policy(self, event: Any, processing: Any) -> None:
        """Events the wallet does not act on are tracked and otherwise ignored."""

    @policy.register
    def _(self, message: booking.FundsHoldRequested, processing: Processing) -> None:
        self._booking_request(message, processing)

    @policy.register
    def _(self, message: booking.FundsCaptureRequested, processing: Processing) -> None:
        self._booking_request(message, processing)

    @policy.register
    def _(self, message: booking.FundsReleaseRequested, processing: Processing) -> None:
        self._booking_request(message, processing)

    def _booking_request(self, message: Any, processing: Processing) -> None:
        request = from_booking(message)  # None: a service voucher's, not the wallet's
        if isinstance(request, HoldRequest):
            saga.hold_requested(self, request, processing)
        elif isinstance(request, CaptureRequest):
            saga.capture_requested(self, request, processing)
        elif isinstance(request, ReleaseRequest):
            saga.release_requested(self, request, processing)

    # --- reads by id ----------------------------------------------------------------------------

    def get_plan(self, plan_id: UUID) -> Plan:
        return self.get_aggregate(plan_id, Plan, "plan")

    def get_wallet(self, wallet_id: UUID) -> Wallet:
        return self.get_aggregate(wallet_id, Wallet, "wallet")

    def get_family(self, employee_id: str) -> Family | None:
        return self._get_or_none(Family.id_for(employee_id), Family, "family")

    def fringe_year(self, employee_id: str, year: int) -> FringeYear | None:
        return self._get_or_none(FringeYear.id_for(employee_id, year), FringeYear, "fringe year")

    def bonus_year(self, employee_id: str, year: int) -> BonusYear | None:
        return self._get_or_none(BonusYear.id_for(employee_id, year), BonusYear, "bonus year")

    def _get_or_none(self, aggregate_id: UUID, kind: type[T], label: str) -> T | None:
        try:
            return self.get_aggregate(aggregate_id, kind, label)
        except NotFound:
            return None

    # --- queries (the read model) -------------------------------------------------------------

    def plans_of(self, employer_id: str | None, page: Page = ALL) -> list[Plan]:
        """The employer's plans (every plan when ``employer_id`` is None), oldest first."""
        ids = views.plans_of(self.fresh_read_model(), employer_id, page)
        return [self.get_plan(i) for i in ids]

    def loads_of(self, plan_id: UUID) -> list[dict[str, Any]]:
        """The plan's bulk loads, oldest first: key, time, rows loaded and refused, credit."""
        return views.loads_of(self.fresh_read_model(), plan_id)

    def wallets_of_plan(self, plan: Plan) -> list[Wallet]:
        ids = [Wallet.id_for(plan.id, employee_id) for employee_id in plan.employees]
        return [w for w in (self._get_or_none(i, Wallet, "wallet") for i in ids) if w is not None]

    def wallets_of_employee(self, employee_id: str, page: Page = ALL) -> list[Wallet]:
        """The employee's wallets, oldest first."""
        ids = views.wallets_of_employee(self.fresh_read_model(), employee_id, page)
        return [self.get_wallet(i) for i in ids]

    def wallets_delegated_to(self, delegate_id: str, page: Page = ALL) -> list[Wallet]:
        """The wallets of every employee whose current delegate is ``delegate_id``."""
        ids = views.wallets_delegated_to(self.fresh_read_model(), delegate_id, page)
        return [self.get_wallet(i) for i in ids]

    def history(self, wallet_id: UUID, page: Page = ALL) -> list[dict[str, Any]]:
        """The wallet's movements, oldest first, with the running figures (``views.history``);
        ``NotFound`` for an unknown wallet."""
        self.get_wallet(wallet_id)
        return views.history(self.fresh_read_model(), wallet_id, page)

    def captures_for(self, provider_id: str, page: Page = ALL) -> list[dict[str, Any]]:
        """What was captured for the provider and refunded by it, oldest first."""
        return views.captures_for(self.fresh_read_model(), provider_id, page)

    # --- reports ------------------------------------------------------------------------------

    def plan_figures(self, plan_id: UUID) -> PlanFigures:
        plan = self.get_plan(plan_id)
        return PlanFigures.of(plan, self.wallets_of_plan(plan))

    def payroll(
        self, employer_id: str | None, year: int, *, check_year: bool = True
    ) -> list[PayrollLine]:
        """Fringe benefits per employee of the employer's plans of ``year`` (all employers'
        when ``employer_id`` is None), with the taxable amount. ``check_year``: refuse an
        implausible year (the auditor reads every stored plan's year as it is)."""
        if check_year:
            check_report_year(year, now_utc().date())
        employees_ = views.employees_with_fringe(self.fresh_read_model(), employer_id, year)
        years = (self.fringe_year(employee_id, year) for employee_id in employees_)
        return [PayrollLine.of(fringe) for fringe in years if fringe is not None]

    def fringe_statement(self, employee_id: str, year: int) -> PayrollLine | None:
        """The employee's own fringe line for ``year``: the same figures as the payroll's."""
        check_report_year(year, now_utc().date())
        fringe = self.fringe_year(employee_id, year)
        return None if fringe is None else PayrollLine.of(fringe)

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
        fringe_ids = [
            FringeYear.id_for(employee_id, year)
            for year, employees_ in sorted(employees_by_year.items())
            for employee_id in sorted(employees_)
        ]
        payroll = [
            PayrollLine.of(self.get_as_of(f, versions, FringeYear, "fringe year"))
            for f in fringe_ids
            if f in versions
        ]
        return statements, payroll
