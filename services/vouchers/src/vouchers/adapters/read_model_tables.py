"""The vouchers read model's tables (see :mod:`.read_model`, whose projection fills them, and
:mod:`vouchers.application.views`, which queries them). Moments are kept as microseconds since
1970 (``micros``): exact, and ordered as the moments are."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def micros(moment: datetime) -> int:
    """A moment as microseconds since 1970 (UTC): exact, and ordered as the moments are."""
    return (moment - EPOCH) // timedelta(microseconds=1)


def from_micros(value: int) -> datetime:
    return EPOCH + timedelta(microseconds=value)


metadata = MetaData()

applications = Table(
    "applications",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("application_id", String(36), nullable=False, unique=True),
    Column("round_id", String(36), nullable=False),
    Column("household_id", String(36), nullable=False, index=True),
    Column("applicant", String(140), nullable=False),
    Column("status", String(20), nullable=False),
    Column("submitted_at", BigInteger, nullable=False),  # micros(), see above
    Column("members", Integer, nullable=False),
    Column("minors", Integer, nullable=False),
    Column("isee_cents", BigInteger, nullable=False),
    Column("other_support", Boolean, nullable=False),
    Column("entitlement_cents", BigInteger, nullable=False, default=0),
    Column("voucher_values", Text, nullable=False, default="[]"),  # JSON list of cents
    Column("priority", Integer, nullable=False, default=0),
    Column("waitlist_rank", Integer, nullable=True),
    Column("reason", Text, nullable=True),  # in clear: rejections recorded before 2026-11-25
    Column("sealed_reason", Text, nullable=True),
    Column("voucher_ids", Text, nullable=False, default="[]"),  # JSON list of ids
    Column("sealed_personal_data", Text, nullable=False),
    Column("sealed_codes", Text, nullable=False, default=""),
    Index("ix_applications_applicant", "applicant", "seq"),
    Index("ix_applications_round", "round_id", "seq"),
    Index("ix_applications_round_status", "round_id", "status", "seq"),
    # The ranking: priority, then need (lower ISEE first), then submission time.
    Index(
        "ix_applications_ranking",
        "round_id",
        "status",
        "priority",
        "isee_cents",
        "submitted_at",
        "seq",
    ),
)

vouchers = Table(
    "vouchers",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("voucher_id", String(36), nullable=False, unique=True),
    Column("round_id", String(36), nullable=False),
    Column("application_id", String(36), nullable=False, index=True),
    Column("household_id", String(36), nullable=False),
    Column("holder", String(140), nullable=False, index=True),
    Column("value_cents", BigInteger, nullable=False),
    Column("remaining_cents", BigInteger, nullable=False),
    Column("held_cents", BigInteger, nullable=False, default=0),  # held for bookings
    Column("status", String(20), nullable=False),
    Column("expires_at", String(40), nullable=False),  # ISO 8601, as the event has it
    Column("delegate_id", String(140), nullable=True, index=True),
    Index("ix_vouchers_round_status", "round_id", "status", "seq"),
)

# Who was named delegate of which voucher, in the order first named: "vouchers delegated to".
delegations = Table(
    "voucher_delegations",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("voucher_id", String(36), nullable=False),
    Column("delegate_id", String(140), nullable=False),
    UniqueConstraint("voucher_id", "delegate_id", name="uq_voucher_delegations"),
)

funds = Table(
    "funds",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("fund_id", String(36), nullable=False, unique=True),
    Column("municipality_istat", String(6), nullable=False, index=True),
)

rounds = Table(
    "rounds",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("round_id", String(36), nullable=False, unique=True),
    Column("fund_id", String(36), nullable=False),
    Column("fund_seq", Integer, nullable=False),
    Column("municipality_istat", String(6), nullable=False, index=True),
    Column("opens_at", BigInteger, nullable=False),  # micros()
    Column("closed", Boolean, nullable=False, default=False),
)

merchant_accounts = Table(
    "merchant_accounts",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("account_id", String(36), nullable=False, unique=True),
    Column("round_id", String(36), nullable=False, index=True),
    Column("merchant_id", String(64), nullable=False, index=True),
)

programme_shops = Table(
    "programme_shops",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("shop_id", String(36), nullable=False, unique=True),
    Column("merchant_id", String(64), nullable=False),
)

programme_providers = Table(
    "programme_providers",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("provider_key", String(36), nullable=False, unique=True),
    Column("provider_id", String(128), nullable=False),
)

# Each shop's sales at its tills, for its own sales list ("today's sales"): what the till took,
# on which voucher (the end of its code only: codes are never stored), whether it was voided
# and until when it may be. A claimed sale may no longer be voided.
redemptions = Table(
    "redemptions",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("redemption_id", String(36), nullable=False, unique=True),
    Column("merchant_id", String(64), nullable=False),
    Column("round_id", String(36), nullable=False),
    Column("voucher_id", String(36), nullable=False),
    Column("code_hint", String(8), nullable=True),  # none for sales recorded before 2026-12-07
    Column("amount_cents", BigInteger, nullable=False),
    Column("goods_category", String(40), nullable=False),
    Column("at", BigInteger, nullable=False),  # micros(): the till's time
    Column("voided", Boolean, nullable=False, default=False),
    Column("claimed", Boolean, nullable=False, default=False),
    Index("ix_redemptions_merchant_at", "merchant_id", "at", "seq"),
)

# Redeemed cents net of voids, per municipality and calendar day (the territory's zone) and
# per municipality and shop (in the order each shop first redeemed).
spending_by_day = Table(
    "spending_by_day",
    metadata,
    Column("municipality_istat", String(6), primary_key=True),
    Column("day", String(10), primary_key=True),
    Column("cents", BigInteger, nullable=False),
)
spending_by_merchant = Table(
    "spending_by_merchant",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("municipality_istat", String(6), nullable=False),
    Column("merchant_id", String(64), nullable=False),
    Column("cents", BigInteger, nullable=False),
    UniqueConstraint("municipality_istat", "merchant_id", name="uq_spending_by_merchant"),
)
