"""Bulk loads of a plan's employees (HR's CSV file): enrol and credit every good row, report
every bad one by line, and record the load under the file's SHA-256 (and the client's optional
load id) in the same transaction, so the same file uploaded again answers with the first load's
report and credits nobody twice — across restarts, since the record is an event."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from servicekit.batching import UnitOfWork
from servicekit.domain import DomainError, NotFound

from wallet.application import csv_loading, views
from wallet.application.context import WalletContext, wallet_for
from wallet.domain.loads import EmployeeLoad, check_load_id_free
from wallet.domain.plan import Plan
from wallet.domain.wallet import Wallet


@dataclass
class LoadReport:
    """What a CSV load did, row by row (``already_loaded``: this file was loaded before, and
    this is that load's report; nothing was credited now)."""

    loaded: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    sha256: str = ""
    load_id: str | None = None
    encoding: str = "utf-8"
    loaded_at: datetime | None = None
    already_loaded: bool = False

    @property
    def loaded_cents(self) -> int:
        return sum(int(r["amount_cents"]) for r in self.loaded)

    @property
    def notes(self) -> list[str]:
        notes = []
        if self.already_loaded:
            when = self.loaded_at.isoformat() if self.loaded_at else "before"
            notes.append(f"this file was already loaded ({when}): nothing was credited again")
        if self.encoding != "utf-8":
            notes.append(
                f"the file is not UTF-8: it was read as {self.encoding} (Windows-1252, Excel's "
                "usual CSV); check accented names, or save it as CSV UTF-8"
            )
        return notes

    @classmethod
    def of(cls, load: EmployeeLoad, *, already_loaded: bool) -> LoadReport:
        return cls(
            loaded=list(load.loaded),
            rejected=list(load.rejected),
            sha256=load.sha256,
            load_id=load.load_id,
            encoding=load.encoding,
            loaded_at=load.loaded_at,
            already_loaded=already_loaded,
        )


def earlier_load(ctx: WalletContext, plan_id: UUID, sha256: str) -> EmployeeLoad | None:
    try:
        return ctx.get_aggregate(EmployeeLoad.id_for(plan_id, sha256), EmployeeLoad, "load")
    except NotFound:
        return None


def load_named(ctx: WalletContext, plan_id: UUID, load_id: str) -> EmployeeLoad | None:
    """The plan's load made under the client's ``load_id``, if any (found in the read model)."""
    found = views.load_named(ctx.fresh_read_model(), plan_id, load_id)
    return None if found is None else ctx.get_aggregate(found, EmployeeLoad, "load")


def load_employees(
    ctx: WalletContext, plan_id: UUID, data: bytes, load_id: str | None = None
) -> LoadReport:
    """Enrol and credit the employees of a CSV file: every row is judged alone; the same file
    (its SHA-256) is loaded once, and its report given again."""
    sha256 = hashlib.sha256(data).hexdigest()
    if load_id is not None:
        check_load_id_free(load_id, sha256, load_named(ctx, plan_id, load_id))
    done = earlier_load(ctx, plan_id, sha256)
    if done is not None:
        return LoadReport.of(done, already_loaded=True)
    text, encoding = csv_loading.decode(data)
    rows, errors = csv_loading.parse(text)
    rejected = [{"line": e.line, "employee_id": e.employee_id, "reason": e.reason} for e in errors]
    file = _File(sha256, load_id, encoding)
    return ctx.retrying(lambda: _load(ctx, plan_id, file, rows, list(rejected)))


@dataclass(frozen=True)
class _File:
    sha256: str
    load_id: str | None
    encoding: str


def _load(
    ctx: WalletContext,
    plan_id: UUID,
    file: _File,
    rows: list[csv_loading.Row],
    rejected: list[dict[str, Any]],
) -> LoadReport:
    """One attempt (again after a concurrent write): the plan enrols the rows whose fiscal code
    it accepts, then credits each; the plan, the wallets credited and the load's record are
    saved together."""
    done = earlier_load(ctx, plan_id, file.sha256)  # a concurrent upload of the same file
    if done is not None:
        return LoadReport.of(done, already_loaded=True)
    uow = UnitOfWork(ctx)
    plan = uow.get(plan_id, Plan, "plan")
    plan.check_open()
    accepted = []
    for row in rows:
        try:
            plan.check_fiscal_code(row.employee_id, row.fiscal_code)
        except DomainError as refusal:
            rejected.append(_refused(row, refusal))
            continue
        accepted.append(row)
    plan.enrol(
        {r.employee_id: r.dependent_children for r in accepted},
        {r.employee_id: r.fiscal_code for r in accepted},
    )
    wallets, loaded = _credit(uow, plan, accepted, rejected)
    rejected.sort(key=lambda r: int(r["line"]))
    load = EmployeeLoad(
        plan_id=plan_id,
        sha256=file.sha256,
        load_id=file.load_id,
        encoding=file.encoding,
        loaded=loaded,
        rejected=rejected,
        loaded_cents=sum(int(r["amount_cents"]) for r in loaded),
    )
    ctx.save(plan, *wallets, load)
    return LoadReport.of(load, already_loaded=False)


def _credit(
    uow: UnitOfWork, plan: Plan, rows: list[csv_loading.Row], rejected: list[dict[str, Any]]
) -> tuple[list[Wallet], list[dict[str, Any]]]:
    """Credit each row's wallet (a refusal refuses that row alone): the wallets credited and
    the report's lines."""
    wallets: list[Wallet] = []
    loaded: list[dict[str, Any]] = []
    for row in rows:
        try:
            wallet = wallet_for(uow, plan, row.employee_id)
            cents = plan.grant(wallet, row.amount_cents, row.category)
        except (DomainError, ValueError) as refusal:  # refused: this row alone
            rejected.append(_refused(row, refusal))
            continue
        wallets.append(wallet)
        loaded.append(
            {
                "line": row.line,
                "employee_id": row.employee_id,
                "wallet_id": str(wallet.id),
                "amount_cents": cents,
                "category": row.category,
            }
        )
    return wallets, loaded


def _refused(row: csv_loading.Row, refusal: Exception) -> dict[str, Any]:
    return {"line": row.line, "employee_id": row.employee_id, "reason": str(refusal)}
