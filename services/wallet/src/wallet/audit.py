"""The auditor's independent tally of the wallet ledger (employers' welfare money).

Built ONLY from the public contract events (read from Kafka or mapped from the store by the
shared replay in :mod:`servicekit.audit`), never from the service's aggregates: every account is
rebuilt from the transfers the events carry. A transfer between accounts of two streams (a grant:
plan → wallet; an expiry: wallet → plan; a carry-over: wallet → wallet) is carried by both
streams with the same ``transfer_id``: it is counted once, and its two legs must agree.

The rules checked, naming the events involved in any violation:

* **zero sum** — all balances add up to zero (every transfer is balanced by construction; a
  transfer whose legs disagree is reported);
* **non-negative** — no account that must not go negative (a plan's funding and returned
  accounts, an employee's wallet accounts, holds, a provider's payable, the fringe memo's
  exempt and taxable accounts) ever goes below zero, at any event, in the order stored;
* **the fringe cap** — a year's exempt fringe amount never exceeds its cap; the taxable amount
  is the rule's, from the amounts committed and given back: the year's whole net total when it
  is over the cap, nothing when it is at the cap or below (a release or refund that brings a
  year back under the cap makes it tax-free again);
* **the bonus limit** — the productivity bonus an employee converted into welfare in a year
  never exceeds the yearly limit, and is converted only into plans that allow it.

Then the per-plan figures (loaded, carried in, converted from a productivity bonus — for plans
that allow it —, spent per category, held, left, expired, carried over, unallocated, returned)
and the taxable fringe amount per employee and year are compared, to the cent, with what the
service reports (``PlanFigures`` and ``PayrollLine``). Events that move no money (family
members, delegates, expiry reminders) are verified in the hash chain and change no figure.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from benecomune_contracts import wallet as c
from benecomune_contracts.chain import LedgerEvent
from servicekit.audit import AuditItem, AuditRecord, ReadProblem, ReplayReport, replay_and_check
from servicekit.ledger_seal import LedgerSeal

from wallet.domain.ledger import may_go_negative

if TYPE_CHECKING:
    import httpx

    from wallet.application.app import WalletApplication

__all__ = [
    "ServiceFigures",
    "Violation",
    "WalletAudit",
    "WalletTally",
    "audit_wallet",
    "figures_from_api",
    "figures_from_application",
]

PLAN_FIGURES = (
    "budget_cents",
    "loaded_cents",
    "carried_in_cents",
    "bonus_converted_cents",  # only for plans that allow the conversion
    "spent_cents",
    "held_cents",
    "left_cents",
    "expired_cents",
    "carried_over_cents",
    "unallocated_cents",
    "returned_to_employer_cents",
)


@dataclass(frozen=True)
class Violation:
    rule: str
    subject: str
    detail: str
    origin: str

    def describe(self) -> str:
        return f"[{self.rule}] {self.subject}: {self.detail} ({self.origin})"


@dataclass
class PlanTally:
    plan_id: str
    employer_id: str = ""
    year: int = 0
    budget_cents: int = 0
    loaded_cents: int = 0
    carried_in_cents: int = 0
    expired_cents: int = 0
    carried_over_cents: int = 0
    bonus_conversion: bool = False
    bonus_converted_cents: int = 0
    spent_by_category: dict[str, int] = field(default_factory=dict)
    wallets: set[str] = field(default_factory=set)
    closed: bool = False


class WalletTally:
    """Feed it the sound events of the wallet topic (see :func:`servicekit.audit.replay`)."""

    def __init__(self) -> None:
        self.balances: dict[str, int] = {}
        self.transfers: dict[str, dict[str, Any]] = {}
        self.plans: dict[str, PlanTally] = {}
        self.wallet_plan: dict[str, str] = {}
        self.hold_wallet: dict[str, str] = {}
        self.fringe_caps: dict[tuple[str, int], int] = {}
        self.fringe_totals: dict[tuple[str, int], int] = {}
        self.bonus_limits: dict[tuple[str, int], int] = {}
        self.violations: list[Violation] = []
        self.tainted: set[str] = set()

    # --- the Tally protocol -----------------------------------------------------------------

    def add(self, record: AuditRecord) -> None:
        event = record.event
        if not isinstance(event, c.WalletLedgerEvent):
            return  # another service's event on a shared copy
        for t in event.transfers:
            self._transfer(t, record)
        self._figures(event)

    def broken(self, record: AuditRecord) -> None:
        if isinstance(record.event, LedgerEvent):
            self.tainted.add(record.event.stream_id)

    # --- accounts -----------------------------------------------------------------------------

    def _transfer(self, t: c.Transfer, record: AuditRecord) -> None:
        body = t.model_dump()
        seen = self.transfers.get(t.transfer_id)
        if seen is not None:
            if seen != body:
                self._violate(
                    "zero sum",
                    f"transfer {t.transfer_id}",
                    f"its two legs disagree: {seen} vs {body}",
                    record,
                )
            return
        self.transfers[t.transfer_id] = body
        for account, delta in ((t.from_account, -t.amount_cents), (t.to_account, t.amount_cents)):
            balance = self.balances.get(account, 0) + delta
            self.balances[account] = balance
            if balance < 0 and not may_go_negative(account):
                self._violate(
                    "non-negative",
                    f"account {account}",
                    f"goes to {balance} cents",
                    record,
                )
        if t.to_account.startswith("hold:") and isinstance(record.event, c.FundsHeld):
            self.hold_wallet[t.to_account] = record.event.wallet_id

    def _violate(self, rule: str, subject: str, detail: str, record: AuditRecord) -> None:
        self.violations.append(Violation(rule, subject, detail, record.origin))

    # --- figures ------------------------------------------------------------------------------

    def _plan(self, plan_id: str) -> PlanTally:
        return self.plans.setdefault(plan_id, PlanTally(plan_id))

    def _figures(self, e: LedgerEvent) -> None:
        if isinstance(e, c.PlanCreated):
            plan = self._plan(e.plan_id)
            plan.employer_id, plan.year, plan.budget_cents = e.employer_id, e.year, e.budget_cents
        elif isinstance(e, c.PlanClosed):
            self._plan(e.plan_id).closed = True
        elif isinstance(e, c.WalletOpened):
            self.wallet_plan[e.wallet_id] = e.plan_id
            self._plan(e.plan_id).wallets.add(e.wallet_id)
        elif isinstance(e, c.CreditGranted):
            self._plan(e.plan_id).loaded_cents += e.amount_cents
        elif isinstance(e, c.CreditCarriedIn):
            self._plan(e.plan_id).carried_in_cents += e.amount_cents
        elif isinstance(e, c.CreditCarriedOver):
            self._plan(e.plan_id).carried_over_cents += e.amount_cents
        elif isinstance(e, c.CreditExpired):
            self._plan(e.plan_id).expired_cents += e.amount_cents
        elif isinstance(e, c.HoldCaptured | c.Refunded):
            plan = self._plan(self.wallet_plan.get(e.wallet_id, "?"))
            sign = 1 if isinstance(e, c.HoldCaptured) else -1
            plan.spent_by_category[e.category] = (
                plan.spent_by_category.get(e.category, 0) + sign * e.amount_cents
            )
        elif isinstance(e, c.BonusConversionAllowed):
            self._plan(e.plan_id).bonus_conversion = True
        elif isinstance(e, c.BonusConverted):
            plan = self._plan(e.plan_id)
            plan.bonus_converted_cents += e.amount_cents
            if not plan.bonus_conversion:
                self._violate_at(
                    "bonus limit",
                    f"plan {e.plan_id}",
                    f"{e.amount_cents} cents of productivity bonus converted into a plan that "
                    "does not allow it",
                    e,
                )
        elif isinstance(e, c.BonusYearOpened):
            self.bonus_limits[(e.employee_id, e.year)] = e.limit_cents
        elif isinstance(e, c.BonusRecorded):
            converted = self.balances.get(f"bonus:{e.employee_id}:{e.year}:converted", 0)
            limit = self.bonus_limits.get((e.employee_id, e.year))
            if limit is not None and converted > limit:
                self._violate_at(
                    "bonus limit",
                    f"employee {e.employee_id} in {e.year}",
                    f"{converted} cents of productivity bonus converted, over the limit of {limit}",
                    e,
                )
        elif isinstance(e, c.FringeYearOpened):
            self.fringe_caps[(e.employee_id, e.year)] = e.cap_cents
        elif isinstance(e, c.FringeRecorded):
            key = (e.employee_id, e.year)
            sign = 1 if e.direction == "committed" else -1
            self.fringe_totals[key] = self.fringe_totals.get(key, 0) + sign * e.amount_cents
            exempt = self.balances.get(f"fringe:{e.employee_id}:{e.year}:exempt", 0)
            cap = self.fringe_caps.get((e.employee_id, e.year))
            if cap is not None and exempt > cap:
                self.violations.append(
                    Violation(
                        "fringe cap",
                        f"employee {e.employee_id} in {e.year}",
                        f"{exempt} cents treated as tax-free, over the cap of {cap}",
                        f"stream {e.stream_id} sequence {e.sequence}",
                    )
                )

    def _violate_at(self, rule: str, subject: str, detail: str, e: LedgerEvent) -> None:
        origin = f"stream {e.stream_id} sequence {e.sequence}"
        self.violations.append(Violation(rule, subject, detail, origin))

    def finish(self) -> list[Violation]:
        total = sum(self.balances.values())
        if total != 0:
            self.violations.append(
                Violation("zero sum", "the ledger", f"balances add up to {total} cents", "all")
            )
        return self.violations

    def plan_figures(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for plan_id, plan in self.plans.items():
            wallet_prefix = f"wallet:{plan_id}:"
            holds = [
                b
                for a, b in self.balances.items()
                if a.startswith("hold:") and self.hold_wallet.get(a) in plan.wallets
            ]
            figures = {
                "budget_cents": plan.budget_cents,
                "loaded_cents": plan.loaded_cents,
                "carried_in_cents": plan.carried_in_cents,
                "spent_cents": sum(plan.spent_by_category.values()),
                "held_cents": sum(holds),
                "left_cents": sum(
                    b for a, b in self.balances.items() if a.startswith(wallet_prefix)
                ),
                "expired_cents": plan.expired_cents,
                "carried_over_cents": plan.carried_over_cents,
                "unallocated_cents": self.balances.get(f"plan:{plan_id}:funding", 0),
                "returned_to_employer_cents": self.balances.get(f"plan:{plan_id}:returned", 0),
            }
            if plan.bonus_conversion:
                figures["bonus_converted_cents"] = plan.bonus_converted_cents
            out[plan_id] = figures
        return out

    def taxable_fringe(self) -> dict[tuple[str, int], int]:
        """The rule, not the memo's taxable account: a year's net fringe total (committed
        minus given back) is all taxable when over its cap, none of it otherwise."""
        out = {}
        for key, cap in self.fringe_caps.items():
            total = self.fringe_totals.get(key, 0)
            out[key] = total if total > cap else 0
        return out


# --- The service's figures and the comparison ---------------------------------------------------


@dataclass(frozen=True)
class ServiceFigures:
    against: str
    plans: dict[str, dict[str, int]]
    taxable_fringe: dict[tuple[str, int], int]


def figures_from_application(app: WalletApplication, upto: int | None = None) -> ServiceFigures:
    """In-process: the plan statements and payroll now or, given ``upto`` (the last
    notification id the replay read), as they were once the events up to there were stored."""
    plans: dict[str, dict[str, int]] = {}
    if upto is not None:
        statements, payroll = app.figures_upto(upto)
        for statement in statements:
            plans[statement.plan_id] = _plan_figures(statement.as_dict())
        taxable = {(line.employee_id, line.year): line.taxable_cents for line in payroll}
        return ServiceFigures(
            f"the service's application (up to notification {upto})", plans, taxable
        )
    years: set[int] = set()
    for plan in app.plans_of(None):
        plans[str(plan.id)] = _plan_figures(app.plan_figures(plan.id).as_dict())
        years.add(plan.year)
    taxable = {
        (line.employee_id, line.year): line.taxable_cents
        for year in sorted(years)
        for line in app.payroll(None, year, check_year=False)
    }
    return ServiceFigures("the service's application", plans, taxable)


def figures_from_api(
    base_url: str,
    token: str,
    *,
    upto: int | None = None,
    client: httpx.Client | None = None,
    timeout: float = 120.0,
) -> ServiceFigures:
    """Over the service's HTTP API with an auditor token: given ``upto``, ``GET
    /audit/figures?upto=`` (as they were once the events up to that notification were
    stored); otherwise the live ``GET /plans``, every plan's ``GET /plans/{id}/report`` and
    ``GET /payroll/{year}`` for every plan year. Raises ``httpx.HTTPError``
    (``HTTPStatusError`` for a 4xx/5xx answer: 409 when the store does not reach ``upto``)."""
    import httpx

    own = client is None
    http = client or httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout)
    headers = {"Authorization": f"Bearer {token}"}

    def get(path: str, **params: Any) -> Any:
        response = http.get(path, headers=headers, params=params)
        response.raise_for_status()
        return response.json()

    try:
        plans: dict[str, dict[str, int]] = {}
        if upto is not None:
            answer = get("/audit/figures", upto=upto)
            for statement in answer["plans"]:
                plans[str(statement["plan_id"])] = _plan_figures(statement)
            taxable = {
                (str(line["employee_id"]), int(line["year"])): int(line["taxable_cents"])
                for line in answer["payroll"]
            }
            return ServiceFigures(
                f"the service's API at {base_url} (up to notification {upto})", plans, taxable
            )
        years: set[int] = set()
        for plan in get("/plans"):
            report = get(f"/plans/{plan['plan_id']}/report")
            plans[str(plan["plan_id"])] = _plan_figures(report)
            years.add(int(plan["year"]))
        taxable = {
            (str(line["employee_id"]), int(line["year"])): int(line["taxable_cents"])
            for year in sorted(years)
            for line in get(f"/payroll/{year}")
        }
    finally:
        if own:
            http.close()
    return ServiceFigures(f"the service's API at {base_url}", plans, taxable)


def _plan_figures(statement: dict[str, Any]) -> dict[str, int]:
    """The audited figures of a plan statement (a figure the plan does not have is None)."""
    return {name: int(v) for name in PLAN_FIGURES if (v := statement.get(name)) is not None}


@dataclass(frozen=True)
class Difference:
    subject: str
    figure: str
    tally_cents: int | None
    service_cents: int | None

    def describe(self) -> str:
        return (
            f"{self.subject} {self.figure}: events say {self.tally_cents}, the service says "
            f"{self.service_cents}"
        )


def compare(tally: WalletTally, service: ServiceFigures) -> list[Difference]:
    differences: list[Difference] = []
    ours = tally.plan_figures()
    for plan_id in sorted(ours.keys() | service.plans.keys()):
        mine, theirs = ours.get(plan_id, {}), service.plans.get(plan_id, {})
        for name in PLAN_FIGURES:
            if mine.get(name) != theirs.get(name):
                differences.append(
                    Difference(f"plan {plan_id}", name, mine.get(name), theirs.get(name))
                )
    taxable = tally.taxable_fringe()
    for key in sorted(taxable.keys() | service.taxable_fringe.keys()):
        if taxable.get(key, 0) != service.taxable_fringe.get(key, 0):
            differences.append(
                Difference(
                    f"employee {key[0]} in {key[1]}",
                    "taxable_fringe_cents",
                    taxable.get(key),
                    service.taxable_fringe.get(key),
                )
            )
    return differences


@dataclass
class WalletAudit:
    replay: ReplayReport
    tally: WalletTally
    violations: list[Violation]
    differences: list[Difference] | None
    generated_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    compared_with: str | None = None
    """Whose figures, and at which point (``ServiceFigures.against``)."""

    CSV_COLUMNS: ClassVar[tuple[str, ...]] = (
        "level",
        "subject",
        "plan_id",
        "employer_id",
        "year",
        "figure",
        "cents",
    )

    @property
    def ok(self) -> bool:
        return self.replay.intact and not self.violations and not self.differences

    def csv_rows(self) -> list[dict[str, Any]]:
        """One row per plan figure, per taxable fringe amount and per account balance (cents):
        a long table the auditor can pivot as they like."""
        rows: list[dict[str, Any]] = []
        for plan_id, figures in sorted(self.tally.plan_figures().items()):
            plan = self.tally.plans[plan_id]
            for figure, cents in figures.items():
                rows.append(
                    {
                        "level": "plan",
                        "subject": plan_id,
                        "plan_id": plan_id,
                        "employer_id": plan.employer_id,
                        "year": plan.year,
                        "figure": figure,
                        "cents": cents,
                    }
                )
        for (employee, year), cents in sorted(self.tally.taxable_fringe().items()):
            rows.append(
                {
                    "level": "payroll",
                    "subject": employee,
                    "year": year,
                    "figure": "taxable_fringe_cents",
                    "cents": cents,
                }
            )
        for account, cents in sorted(self.tally.balances.items()):
            rows.append(
                {"level": "account", "subject": account, "figure": "balance", "cents": cents}
            )
        return [{column: row.get(column, "") for column in self.CSV_COLUMNS} for row in rows]

    def as_dict(self) -> dict[str, Any]:
        return {
            "audit": "wallet",
            "generated_at": self.generated_at.isoformat(),
            "ok": self.ok,
            "chain": self.replay.as_dict(),
            "accounts": dict(sorted(self.tally.balances.items())),
            "plans": self.tally.plan_figures(),
            "taxable_fringe": [
                {"employee_id": e, "year": y, "taxable_cents": cents}
                for (e, y), cents in sorted(self.tally.taxable_fringe().items())
            ],
            "violations": [asdict(v) for v in self.violations],
            "differences": None
            if self.differences is None
            else [asdict(d) for d in self.differences],
        }

    def summary_lines(self) -> list[str]:
        r = self.replay
        lines = [
            f"Wallet audit of {r.source}",
            f"  read {r.records} records: {r.ledger_events} ledger events in {r.streams} "
            f"streams verified, {len(self.tally.transfers)} transfers, {r.duplicates} "
            "duplicates skipped",
            *r.chain_lines(),
        ]
        if self.violations:
            lines.append(f"  ledger rules: {len(self.violations)} VIOLATION(S)")
            lines.extend(f"    {v.describe()}" for v in self.violations)
        else:
            lines.append(
                "  ledger rules: all hold (zero sum, nothing negative, fringe cap, bonus limit)"
            )
        against = f" with {self.compared_with}" if self.compared_with else ""
        if self.differences is None:
            lines.append("  comparison with the service: not made")
        elif not self.differences:
            lines.append(
                f"  comparison{against}: {len(self.tally.plans)} plan(s), every figure matches "
                "to the cent"
            )
        else:
            lines.append(f"  comparison{against}: {len(self.differences)} DIFFERENCE(S)")
            lines.extend(f"    {d.describe()}" for d in self.differences)
        lines.append("RESULT: " + ("OK" if self.ok else "FAILED"))
        return lines


def audit_wallet(
    items: Iterable[AuditItem],
    *,
    source: str,
    problems: Iterable[ReadProblem] = (),
    figures: ServiceFigures | Callable[[int], ServiceFigures | None] | None = None,
    since: LedgerSeal | None = None,
) -> WalletAudit:
    """Replay the events into a fresh tally, check the ledger rules and compare with the
    service's figures: given, or fetched by the callable *after* the replay, which is handed
    the last notification id the replay read, to ask for the figures at that point.
    ``since``: an earlier audit's seal, every head of which must still be in the ledger."""
    tally = WalletTally()
    report, violations = replay_and_check(
        items, tally, source=source, problems=problems, since=since
    )
    service = figures(report.last_position) if callable(figures) else figures
    differences = None if service is None else compare(tally, service)
    against = None if service is None else service.against
    return WalletAudit(report, tally, violations, differences, compared_with=against)
