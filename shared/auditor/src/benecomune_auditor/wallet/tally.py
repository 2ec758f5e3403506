"""The auditor's independent tally of the wallet ledger: every account rebuilt from the
transfers the events carry, and the ledger's rules checked at every event (see the package's
docstring); the rules themselves are the auditor's own copy (:mod:`.rules`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from benecomune_contracts import wallet as c
from benecomune_contracts.chain import LedgerEvent

from benecomune_auditor.records import AuditRecord
from benecomune_auditor.wallet.rules import may_go_negative, taxable_fringe_cents

__all__ = ["PlanTally", "Violation", "WalletTally"]


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
    """Feed it the sound events of the wallet topic (see
    :func:`benecomune_auditor.replay.replay`)."""

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
        return {
            key: taxable_fringe_cents(self.fringe_totals.get(key, 0), cap)
            for key, cap in self.fringe_caps.items()
        }
