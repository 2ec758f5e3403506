"""The tables of the wallet's read model (see :mod:`wallet.adapters.read_model`).

Every list keeps the order the old log scans gave: a ``seq`` column numbered as the events are
projected (in notification order) stands for "first seen in the log". Times are stored as
strings: ``*_key`` columns as fixed-width UTC text that sorts and compares as the instant does,
``at`` columns as the event's own ISO text (read back to the same aware datetime). Money is
integer cents.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
)

metadata = MetaData()

ID = String(36)
NAME = String()
CENTS = BigInteger

plans = Table(
    "wallet_rm_plans",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("plan_id", ID, nullable=False, unique=True),
    Column("employer_id", NAME, nullable=False, index=True),
    Column("year", Integer, nullable=False),
    Column("ends_on", Date, nullable=False, index=True),
    Column("end_policy", String(), nullable=False),
    Column("closed", Boolean, nullable=False, default=False),
)

plan_employees = Table(
    "wallet_rm_plan_employees",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("plan_id", ID, nullable=False),
    Column("employee_id", NAME, nullable=False),
    UniqueConstraint("plan_id", "employee_id"),
)

wallets = Table(
    "wallet_rm_wallets",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("wallet_id", ID, nullable=False, unique=True),
    Column("plan_id", ID, nullable=False),
    Column("employee_id", NAME, nullable=False, index=True),
    Column("account_prefix", String(), nullable=False),
    Column("expires_on", Date, nullable=False),
    Column("closed", Boolean, nullable=False, default=False),
    # The history's running figures: credit + open holds, and the open holds.
    Column("balance_cents", CENTS, nullable=False, default=0),
    Column("held_cents", CENTS, nullable=False, default=0),
    # The most urgent expiry reminder sent (days before expiry); None: none sent.
    Column("reminded_days", Integer, nullable=True),
    UniqueConstraint("plan_id", "employee_id"),
)

movements = Table(
    "wallet_rm_movements",
    metadata,
    Column("wallet_id", ID, primary_key=True),
    Column("sequence", Integer, primary_key=True),
    Column("type", String(), nullable=False),
    Column("at", String(), nullable=False),
    Column("amount_cents", CENTS, nullable=False),
    Column("balance_cents", CENTS, nullable=False),
    Column("held_cents", CENTS, nullable=False),
    Column("hold_id", ID, nullable=True),
    Column("category", String(), nullable=True),
)

holds = Table(
    "wallet_rm_holds",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("hold_id", ID, nullable=False, unique=True),
    Column("wallet_id", ID, nullable=False, index=True),
    Column("status", String(), nullable=False),
    Column("provider_id", NAME, nullable=False),
    Column("category", String(), nullable=False),
    Column("amount_cents", CENTS, nullable=False),
    Column("expires_key", String(), nullable=False),
    Index("wallet_rm_holds_open_by_expiry", "status", "expires_key"),
)

captures = Table(
    "wallet_rm_captures",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("provider_id", NAME, nullable=False, index=True),
    Column("type", String(), nullable=False),
    Column("wallet_id", ID, nullable=False),
    Column("hold_id", ID, nullable=False),
    Column("category", String(), nullable=False),
    Column("amount_cents", CENTS, nullable=False),
    Column("at", String(), nullable=False),
)

# The current delegate of each employee who has one, and the first time each employee named
# each delegate (the order of "wallets delegated to").
delegates = Table(
    "wallet_rm_delegates",
    metadata,
    Column("employee_id", NAME, primary_key=True),
    Column("delegate_id", NAME, nullable=False, index=True),
)

delegate_namings = Table(
    "wallet_rm_delegate_namings",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("employee_id", NAME, nullable=False),
    Column("delegate_id", NAME, nullable=False),
    UniqueConstraint("employee_id", "delegate_id"),
)

fringe_years = Table(
    "wallet_rm_fringe_years",
    metadata,
    Column("employee_id", NAME, primary_key=True),
    Column("year", Integer, primary_key=True),
)

loads = Table(
    "wallet_rm_loads",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("id", ID, nullable=False, unique=True),
    Column("plan_id", ID, nullable=False, index=True),
    Column("load_id", String(), nullable=True),
    Column("sha256", String(), nullable=False),
    Column("loaded_at", String(), nullable=False),
    Column("encoding", String(), nullable=False),
    Column("rows_loaded", Integer, nullable=False),
    Column("rows_refused", Integer, nullable=False),
    Column("loaded_cents", CENTS, nullable=False),
)
