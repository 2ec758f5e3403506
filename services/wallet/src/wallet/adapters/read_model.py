"""The wallet's read model: its own events projected into SQL tables (the kit's
:mod:`servicekit.projection`), for every list and lookup query and for the periodic jobs, so
that none of them reads the whole event log.

What it holds (tables in :mod:`wallet.adapters.read_model_tables`): the plans (employer, year,
end, closed) and their employees in enrolment order; the wallets (plan, employee, the running
figures of their history, the most urgent expiry reminder sent); each wallet's movements (the
history, with the running balance); the holds (status and expiry: the hold-expiry job reads the
open ones due); captures and refunds per provider; each employee's current delegate and the
delegates they named; the fringe years that exist; the bulk loads of each plan. Reads of one
aggregate by id stay ``get()``; the read side's queries are :mod:`wallet.application.views`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import singledispatchmethod
from typing import Any

from servicekit.projection import Projection, ReadModelStore, read_model_url
from servicekit.settings import ServiceSettings
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.engine import Connection

from wallet.adapters.read_model_tables import (
    captures,
    delegate_namings,
    delegates,
    fringe_years,
    holds,
    loads,
    metadata,
    movements,
    plan_employees,
    plans,
    wallets,
)
from wallet.domain import accounts
from wallet.domain.family import Family
from wallet.domain.fringe import FringeYear
from wallet.domain.loads import EmployeeLoad
from wallet.domain.plan import Plan
from wallet.domain.wallet import Wallet

FILE_NAME = "wallet-read.sqlite"


def time_key(moment: datetime) -> str:
    """Fixed-width UTC text of an aware instant: sorts and compares as the instant does."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")


# Statements built once and run with parameters: SQLAlchemy then compiles each once (building
# a statement per event, with its values inline, cost most of the projection's time).
INSERT_PLAN = insert(plans)
INSERT_PLAN_EMPLOYEE = insert(plan_employees)
CLOSE_PLAN = update(plans).where(plans.c.plan_id == bindparam("key")).values(closed=True)
INSERT_WALLET = insert(wallets)
WALLET_STATE = select(
    wallets.c.account_prefix,
    wallets.c.balance_cents,
    wallets.c.held_cents,
    wallets.c.closed,
    wallets.c.reminded_days,
).where(wallets.c.wallet_id == bindparam("key"))
UPDATE_WALLET = (
    update(wallets)
    .where(wallets.c.wallet_id == bindparam("key"))
    .values(
        balance_cents=bindparam("new_balance"),
        held_cents=bindparam("new_held"),
        closed=bindparam("new_closed"),
        reminded_days=bindparam("new_reminded"),
    )
)
INSERT_MOVEMENT = insert(movements)
INSERT_HOLD = insert(holds)
HOLD_STATUS = (
    update(holds).where(holds.c.hold_id == bindparam("key")).values(status=bindparam("new_status"))
)
INSERT_CAPTURE = insert(captures)
DROP_DELEGATE = delegates.delete().where(delegates.c.employee_id == bindparam("key"))
INSERT_DELEGATE = insert(delegates)
NAMED_BEFORE = select(delegate_namings.c.seq).where(
    delegate_namings.c.employee_id == bindparam("employee"),
    delegate_namings.c.delegate_id == bindparam("delegate"),
)
INSERT_NAMING = insert(delegate_namings)
INSERT_FRINGE_YEAR = insert(fringe_years)
INSERT_LOAD = insert(loads)


def open_read_model(settings: ServiceSettings) -> ReadModelStore:
    """The read model beside the service's event store (a SQLite file, or the PostgreSQL
    database and schema of the store)."""
    url, schema = read_model_url(settings, FILE_NAME)
    return ReadModelStore(WalletProjection(), url, schema)


class WalletProjection(Projection):
    name = "wallet"
    version = 1
    metadata = metadata

    # Its own dispatcher: handlers registered on the kit's ``Projection.apply`` would be shared
    # with every projection in the process.
    @singledispatchmethod
    def apply(self, domain_event: object, connection: Connection) -> None:
        """Events the read model does not need are skipped."""

    # --- plans --------------------------------------------------------------------------------

    @apply.register
    def _(self, e: Plan.Created, connection: Connection) -> None:
        connection.execute(
            INSERT_PLAN,
            {
                "plan_id": str(e.originator_id),
                "employer_id": e.employer_id,
                "year": e.year,
                "ends_on": e.ends_on,
                "end_policy": e.end_policy,
                "closed": False,
            },
        )

    @apply.register
    def _(self, e: Plan.EmployeesEnrolled, connection: Connection) -> None:
        if e.employee_ids:
            plan_id = str(e.originator_id)
            connection.execute(
                INSERT_PLAN_EMPLOYEE,
                [{"plan_id": plan_id, "employee_id": x} for x in e.employee_ids],
            )

    @apply.register
    def _(self, e: Plan.Closed, connection: Connection) -> None:
        connection.execute(CLOSE_PLAN, {"key": str(e.originator_id)})

    # --- wallets and their history ------------------------------------------------------------

    @apply.register
    def _(self, e: Wallet.Opened, connection: Connection) -> None:
        connection.execute(
            INSERT_WALLET,
            {
                "wallet_id": str(e.originator_id),
                "plan_id": str(e.plan_id),
                "employee_id": e.employee_id,
                "account_prefix": accounts.wallet_account(e.plan_id, e.employee_id, ""),
                "expires_on": e.expires_on,
                "closed": False,
                "balance_cents": 0,
                "held_cents": 0,
                "reminded_days": None,
            },
        )
        _movement(e, connection)

    @apply.register
    def _(
        self,
        e: Wallet.CreditGranted
        | Wallet.HoldReleased
        | Wallet.HoldRefused
        | Wallet.CreditCarriedIn
        | Wallet.BonusConverted,
        connection: Connection,
    ) -> None:
        _movement(e, connection)
        if isinstance(e, Wallet.HoldReleased):
            _hold_status(e, "released", connection)

    @apply.register
    def _(self, e: Wallet.FundsHeld, connection: Connection) -> None:
        connection.execute(
            INSERT_HOLD,
            {
                "hold_id": str(e.hold_id),
                "wallet_id": str(e.originator_id),
                "status": "held",
                "provider_id": e.provider_id,
                "category": e.category,
                "amount_cents": e.amount_cents,
                "expires_key": time_key(e.expires_at),
            },
        )
        _movement(e, connection)

    @apply.register
    def _(self, e: Wallet.HoldExpired, connection: Connection) -> None:
        _hold_status(e, "expired", connection)
        _movement(e, connection)

    @apply.register
    def _(self, e: Wallet.HoldCaptured | Wallet.Refunded, connection: Connection) -> None:
        if isinstance(e, Wallet.HoldCaptured):
            _hold_status(e, "captured", connection)
        connection.execute(
            INSERT_CAPTURE,
            {
                "provider_id": e.provider_id,
                "type": "captured" if isinstance(e, Wallet.HoldCaptured) else "refunded",
                "wallet_id": str(e.originator_id),
                "hold_id": str(e.hold_id),
                "category": e.category,
                "amount_cents": e.amount_cents,
                "at": e.timestamp.isoformat(),
            },
        )
        _movement(e, connection)

    @apply.register
    def _(self, e: Wallet.CreditExpired | Wallet.CreditCarriedOver, connection: Connection) -> None:
        _movement(e, connection, closed=True)

    @apply.register
    def _(self, e: Wallet.CreditExpiring, connection: Connection) -> None:
        _movement(e, connection, reminded=e.threshold_days)

    # --- families, fringe years, loads ----------------------------------------------------------

    @apply.register
    def _(self, e: Family.DelegateNamed, connection: Connection) -> None:
        current = {"employee_id": e.employee_id, "delegate_id": e.delegate_id}
        connection.execute(DROP_DELEGATE, {"key": e.employee_id})
        connection.execute(INSERT_DELEGATE, current)
        named = {"employee": e.employee_id, "delegate": e.delegate_id}
        if connection.execute(NAMED_BEFORE, named).first() is None:
            connection.execute(INSERT_NAMING, current)

    @apply.register
    def _(self, e: Family.DelegateRevoked, connection: Connection) -> None:
        connection.execute(DROP_DELEGATE, {"key": e.employee_id})

    @apply.register
    def _(self, e: FringeYear.Opened, connection: Connection) -> None:
        connection.execute(INSERT_FRINGE_YEAR, {"employee_id": e.employee_id, "year": e.year})

    @apply.register
    def _(self, e: EmployeeLoad.Recorded, connection: Connection) -> None:
        connection.execute(
            INSERT_LOAD,
            {
                "id": str(e.originator_id),
                "plan_id": str(e.plan_id),
                "load_id": e.load_id,
                "sha256": e.sha256,
                "loaded_at": e.timestamp.isoformat(),
                "encoding": e.encoding,
                "rows_loaded": len(e.loaded),
                "rows_refused": len(e.rejected),
                "loaded_cents": e.loaded_cents,
            },
        )


def _hold_status(e: Any, status: str, connection: Connection) -> None:
    connection.execute(HOLD_STATUS, {"key": str(e.hold_id), "new_status": status})


def _movement(
    e: Any, connection: Connection, *, closed: bool = False, reminded: int | None = None
) -> None:
    """The event's line of the wallet's history: what it moved into or out of the wallet (its
    category accounts and its holds) and the running figures after it."""
    wallet_id = str(e.originator_id)
    row = connection.execute(WALLET_STATE, {"key": wallet_id}).one()
    prefix = row.account_prefix
    balance, held = int(row.balance_cents), int(row.held_cents)
    delta = 0
    for t in e.transfers:
        # Every hold account in a wallet's events is one of its own holds.
        inside_from = t["from_account"].startswith((prefix, "hold:"))
        inside_to = t["to_account"].startswith((prefix, "hold:"))
        if inside_to and not inside_from:
            delta += t["amount_cents"]
        elif inside_from and not inside_to:
            delta -= t["amount_cents"]
        if t["to_account"].startswith("hold:"):
            held += t["amount_cents"]
        if t["from_account"].startswith("hold:"):
            held -= t["amount_cents"]
    balance += delta
    hold_id = getattr(e, "hold_id", None)
    connection.execute(
        INSERT_MOVEMENT,
        {
            "wallet_id": wallet_id,
            "sequence": e.originator_version,
            "type": type(e).__name__,
            "at": e.timestamp.isoformat(),
            "amount_cents": delta,
            "balance_cents": balance,
            "held_cents": held,
            "hold_id": None if hold_id is None else str(hold_id),
            "category": getattr(e, "category", None),
        },
    )
    was_reminded = row.reminded_days
    if reminded is not None and (was_reminded is None or reminded < was_reminded):
        was_reminded = reminded
    connection.execute(
        UPDATE_WALLET,
        {
            "key": wallet_id,
            "new_balance": balance,
            "new_held": held,
            "new_closed": bool(row.closed) or closed,
            "new_reminded": was_reminded,
        },
    )
