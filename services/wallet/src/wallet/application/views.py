"""The wallet's read side: each list or lookup query is a function of the read model
(:mod:`wallet.adapters.read_model`) returning plain data — ids, or rows as dicts — in the order
the old scans of the event log gave. Reads of one aggregate by id stay the application's
``get_*``. Callers pass a read model caught up with the log
(``WalletApplication.fresh_read_model``): a query then sees every write made before it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from servicekit.projection import ReadModelStore
from sqlalchemy import Select, and_, exists, or_, select

from wallet.adapters.read_model import time_key
from wallet.adapters.read_model_tables import (
    captures,
    delegate_namings,
    delegates,
    fringe_years,
    holds,
    loads,
    movements,
    plan_employees,
    plans,
    wallets,
)
from wallet.domain.reminders import EXPIRY_REMINDER_DAYS, reminder_threshold

MAX_PAGE = 1000


@dataclass(frozen=True)
class Page:
    """A slice of a list: ``limit`` items (None: all) after skipping ``offset``."""

    offset: int = 0
    limit: int | None = None


ALL = Page()


def _paged(query: Select[Any], page: Page) -> Select[Any]:
    if page.offset:
        query = query.offset(page.offset)
    if page.limit is not None:
        query = query.limit(page.limit)
    return query


def _ids(rm: ReadModelStore, query: Select[Any]) -> list[UUID]:
    with rm.engine.connect() as connection:
        return [UUID(x) for x in connection.execute(query).scalars()]


# --- plans and wallets ----------------------------------------------------------------------------


def plans_of(rm: ReadModelStore, employer_id: str | None, page: Page = ALL) -> list[UUID]:
    """The employer's plans (every plan when ``employer_id`` is None), oldest first."""
    query = select(plans.c.plan_id).order_by(plans.c.seq)
    if employer_id is not None:
        query = query.where(plans.c.employer_id == employer_id)
    return _ids(rm, _paged(query, page))


def wallets_of_plan(rm: ReadModelStore, plan_id: UUID, page: Page = ALL) -> list[UUID]:
    """The plan's wallets, in the order its employees were enrolled."""
    query = (
        select(wallets.c.wallet_id)
        .join(
            plan_employees,
            and_(
                plan_employees.c.plan_id == wallets.c.plan_id,
                plan_employees.c.employee_id == wallets.c.employee_id,
            ),
        )
        .where(plan_employees.c.plan_id == str(plan_id))
        .order_by(plan_employees.c.seq)
    )
    return _ids(rm, _paged(query, page))


def wallets_of_employee(rm: ReadModelStore, employee_id: str, page: Page = ALL) -> list[UUID]:
    """The employee's wallets (one per plan they were credited in), oldest first."""
    query = (
        select(wallets.c.wallet_id)
        .where(wallets.c.employee_id == employee_id)
        .order_by(wallets.c.seq)
    )
    return _ids(rm, _paged(query, page))


def has_wallet(rm: ReadModelStore, employee_id: str) -> bool:
    with rm.engine.connect() as connection:
        return bool(
            connection.execute(
                select(exists().where(wallets.c.employee_id == employee_id))
            ).scalar()
        )


def wallets_delegated_to(rm: ReadModelStore, delegate_id: str, page: Page = ALL) -> list[UUID]:
    """The wallets of every employee whose current delegate is ``delegate_id``: employees in
    the order they first named them, each one's wallets oldest first."""
    query = (
        select(wallets.c.wallet_id)
        .join(delegates, delegates.c.employee_id == wallets.c.employee_id)
        .join(
            delegate_namings,
            and_(
                delegate_namings.c.employee_id == delegates.c.employee_id,
                delegate_namings.c.delegate_id == delegates.c.delegate_id,
            ),
        )
        .where(delegates.c.delegate_id == delegate_id)
        .order_by(delegate_namings.c.seq, wallets.c.seq)
    )
    return _ids(rm, _paged(query, page))


# --- movements, holds, captures -------------------------------------------------------------------


def history(rm: ReadModelStore, wallet_id: UUID, page: Page = ALL) -> list[dict[str, Any]]:
    """The wallet's movements, oldest first, each with the running ``balance_cents`` (credit +
    open holds), ``held_cents`` (open holds) and ``available_cents`` (the balance less the
    holds)."""
    query = (
        select(movements)
        .where(movements.c.wallet_id == str(wallet_id))
        .order_by(movements.c.sequence)
    )
    with rm.engine.connect() as connection:
        rows = connection.execute(_paged(query, page)).all()
    return [
        {
            "sequence": r.sequence,
            "type": r.type,
            "at": datetime.fromisoformat(r.at),
            "amount_cents": r.amount_cents,
            "balance_cents": r.balance_cents,
            "held_cents": r.held_cents,
            "available_cents": r.balance_cents - r.held_cents,
            "hold_id": r.hold_id,
            "category": r.category,
        }
        for r in rows
    ]


def holds_of(
    rm: ReadModelStore, wallet_id: UUID, status: str | None = None
) -> list[dict[str, Any]]:
    """The wallet's holds (those in ``status`` only, if given), oldest first."""
    query = select(holds).where(holds.c.wallet_id == str(wallet_id)).order_by(holds.c.seq)
    if status is not None:
        query = query.where(holds.c.status == status)
    with rm.engine.connect() as connection:
        rows = connection.execute(query).all()
    return [
        {
            "hold_id": r.hold_id,
            "status": r.status,
            "provider_id": r.provider_id,
            "category": r.category,
            "amount_cents": r.amount_cents,
        }
        for r in rows
    ]


def wallets_with_holds_due(rm: ReadModelStore, at: datetime) -> list[UUID]:
    """The wallets with a hold still open whose expiry is ``at`` or earlier, the most overdue
    first (the hold-expiry job's work list: an index range, not the log)."""
    query = (
        select(holds.c.wallet_id, holds.c.expires_key)
        .where(holds.c.status == "held", holds.c.expires_key <= time_key(at))
        .order_by(holds.c.expires_key)
    )
    with rm.engine.connect() as connection:
        wallet_ids = dict.fromkeys(r.wallet_id for r in connection.execute(query))
    return [UUID(x) for x in wallet_ids]


def captures_for(rm: ReadModelStore, provider_id: str, page: Page = ALL) -> list[dict[str, Any]]:
    """What was captured for the provider and refunded by it, oldest first."""
    query = select(captures).where(captures.c.provider_id == provider_id).order_by(captures.c.seq)
    with rm.engine.connect() as connection:
        rows = connection.execute(_paged(query, page)).all()
    return [
        {
            "type": r.type,
            "wallet_id": r.wallet_id,
            "hold_id": r.hold_id,
            "category": r.category,
            "amount_cents": r.amount_cents,
            "at": datetime.fromisoformat(r.at),
        }
        for r in rows
    ]


# --- jobs and reports ---------------------------------------------------------------------------


def wallets_to_remind(rm: ReadModelStore, today: date) -> list[UUID]:
    """Wallets a credit-expiry reminder may be due for today: credit left, in an open plan that
    resets within the reminders' horizon, not yet reminded at today's threshold or a more
    urgent one (the wallet's own rule decides, on the aggregate)."""
    horizon = max(EXPIRY_REMINDER_DAYS)
    due_plans = select(plans.c.plan_id, plans.c.ends_on).where(
        plans.c.closed.is_(False),
        plans.c.end_policy == "reset",
        plans.c.ends_on >= today,
        plans.c.ends_on <= date.fromordinal(today.toordinal() + horizon),
    )
    found: list[UUID] = []
    with rm.engine.connect() as connection:
        for plan_id, ends_on in connection.execute(due_plans.order_by(plans.c.seq)).all():
            threshold = reminder_threshold((ends_on - today).days)
            if threshold is None:
                continue
            query = (
                select(wallets.c.wallet_id)
                .where(
                    wallets.c.plan_id == plan_id,
                    wallets.c.closed.is_(False),
                    wallets.c.balance_cents > wallets.c.held_cents,
                    or_(wallets.c.reminded_days.is_(None), wallets.c.reminded_days > threshold),
                )
                .order_by(wallets.c.seq)
            )
            found.extend(UUID(x) for x in connection.execute(query).scalars())
    return found


def employees_with_fringe(rm: ReadModelStore, employer_id: str | None, year: int) -> list[str]:
    """Employees enrolled in the employer's plans of ``year`` (every employer's when None) who
    have fringe benefits recorded that year, sorted."""
    query = (
        select(plan_employees.c.employee_id)
        .distinct()
        .join(plans, plans.c.plan_id == plan_employees.c.plan_id)
        .join(
            fringe_years,
            and_(
                fringe_years.c.employee_id == plan_employees.c.employee_id,
                fringe_years.c.year == year,
            ),
        )
        .where(plans.c.year == year)
        .order_by(plan_employees.c.employee_id)
    )
    if employer_id is not None:
        query = query.where(plans.c.employer_id == employer_id)
    with rm.engine.connect() as connection:
        return list(connection.execute(query).scalars())


def loads_of(rm: ReadModelStore, plan_id: UUID) -> list[dict[str, Any]]:
    """The plan's bulk loads, oldest first: key, time, rows loaded and refused, credit."""
    query = select(loads).where(loads.c.plan_id == str(plan_id)).order_by(loads.c.seq)
    with rm.engine.connect() as connection:
        rows = connection.execute(query).all()
    return [
        {
            "load_id": r.load_id,
            "sha256": r.sha256,
            "loaded_at": datetime.fromisoformat(r.loaded_at),
            "encoding": r.encoding,
            "rows_loaded": r.rows_loaded,
            "rows_refused": r.rows_refused,
            "loaded_cents": r.loaded_cents,
        }
        for r in rows
    ]


def load_named(rm: ReadModelStore, plan_id: UUID, load_id: str) -> UUID | None:
    """The plan's first load made under the client's ``load_id``, if any."""
    query = (
        select(loads.c.id)
        .where(loads.c.plan_id == str(plan_id), loads.c.load_id == load_id)
        .order_by(loads.c.seq)
        .limit(1)
    )
    found = _ids(rm, query)
    return found[0] if found else None
