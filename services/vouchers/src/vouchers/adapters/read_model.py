"""The vouchers read model: the service's own events projected into SQL tables, for every list
and lookup query (a beneficiary's applications and vouchers, a round's applications and
ranking, the rounds, funds and shop accounts to look up), so that no query reads the whole
event log. The kit keeps the tables and their position (:mod:`servicekit.projection`); the
queries are in :mod:`vouchers.application.views`.

The rows hold what the lists show and what the ranking orders by; sealed personal data, reasons
and voucher codes are kept sealed as in the events (the vault opens them, and erasing a
household's key makes them unreadable here too). Commands still change aggregates got by id.

Each table's ``seq`` (an autoincremented key, in event order) keeps the order the event-scanning
queries had: submission order, allocation order, the order of affiliations.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from functools import singledispatchmethod
from uuid import UUID
from zoneinfo import ZoneInfo

from servicekit.projection import Projection
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
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection

from vouchers.domain.fund import Fund
from vouchers.domain.household_application import HouseholdApplication
from vouchers.domain.merchant import MerchantAccount
from vouchers.domain.programme_shop import ProgrammeShop
from vouchers.domain.round import Round
from vouchers.domain.voucher import Voucher

NAME = "vouchers"
# Bump when a table or a handler changes: the tables are then dropped and filled again.
VERSION = 2  # 2: vouchers in issue order (seq), indexed by round

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


class VouchersProjection(Projection):
    """How the vouchers' events change the read model's rows."""

    name = NAME
    version = VERSION
    metadata = metadata

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone  # the territory's: spending is reported by its calendar days

    # Its own dispatcher: ``Projection.apply.register`` would add these handlers to the one
    # registry every projection of the process shares.
    @singledispatchmethod
    def apply(self, domain_event: object, connection: Connection) -> None:
        """Events no query needs (index entries, a shop's credits and claims) are skipped."""

    # --- applications ---------------------------------------------------------------------------

    @apply.register
    def _(self, e: HouseholdApplication.Submitted, connection: Connection) -> None:
        connection.execute(
            insert(applications).values(
                application_id=str(e.originator_id),
                round_id=str(e.round_id),
                household_id=str(e.household_id),
                applicant=e.applicant,
                status="submitted",
                submitted_at=micros(e.timestamp),
                members=e.members,
                minors=e.minors,
                isee_cents=e.isee_cents,
                other_support=e.other_support,
                sealed_personal_data=e.sealed_personal_data,
            )
        )

    @apply.register
    def _(self, e: HouseholdApplication.Approved, connection: Connection) -> None:
        self._application(
            connection,
            e.originator_id,
            status="approved",
            entitlement_cents=e.entitlement_cents,
            voucher_values=json.dumps(e.voucher_values),
            priority=e.priority,
        )

    @apply.register
    def _(self, e: HouseholdApplication.Rejected, connection: Connection) -> None:
        self._application(
            connection,
            e.originator_id,
            status="rejected",
            reason=e.reason or None,
            sealed_reason=e.sealed_reason,
        )

    @apply.register
    def _(self, e: HouseholdApplication.Waitlisted, connection: Connection) -> None:
        self._application(connection, e.originator_id, status="waitlisted", waitlist_rank=e.rank)

    @apply.register
    def _(self, e: HouseholdApplication.Served, connection: Connection) -> None:
        self._application(
            connection,
            e.originator_id,
            status="served",
            voucher_ids=json.dumps(e.voucher_ids),
            sealed_codes=e.sealed_codes,
        )

    @staticmethod
    def _application(connection: Connection, application_id: UUID, **values: object) -> None:
        connection.execute(
            update(applications)
            .where(applications.c.application_id == str(application_id))
            .values(**values)
        )

    # --- vouchers -------------------------------------------------------------------------------

    @apply.register
    def _(self, e: Voucher.Issued, connection: Connection) -> None:
        connection.execute(
            insert(vouchers).values(
                voucher_id=str(e.originator_id),
                round_id=str(e.round_id),
                application_id=str(e.application_id),
                household_id=str(e.household_id),
                holder=e.holder,
                value_cents=e.value_cents,
                remaining_cents=e.value_cents,
                status="active",
                expires_at=e.expires_at.isoformat(),
            )
        )

    @apply.register
    def _(self, e: Voucher.DelegateNamed, connection: Connection) -> None:
        voucher_id = str(e.originator_id)
        self._voucher(connection, e.originator_id, delegate_id=e.delegate_id)
        named = connection.execute(
            select(delegations.c.seq).where(
                delegations.c.voucher_id == voucher_id,
                delegations.c.delegate_id == e.delegate_id,
            )
        ).first()
        if named is None:
            connection.execute(
                insert(delegations).values(voucher_id=voucher_id, delegate_id=e.delegate_id)
            )

    @apply.register
    def _(self, e: Voucher.Redeemed, connection: Connection) -> None:
        self._voucher(connection, e.originator_id, remaining_cents=e.remaining_cents)
        self._spent(connection, e.round_id, e.merchant_id, e.timestamp, e.amount_cents)

    @apply.register
    def _(self, e: Voucher.RedemptionVoided, connection: Connection) -> None:
        self._voucher(
            connection,
            e.originator_id,
            remaining_cents=vouchers.c.remaining_cents + e.amount_cents,
        )
        self._spent(connection, e.round_id, e.merchant_id, e.timestamp, -e.amount_cents)

    @apply.register
    def _(self, e: Voucher.Expired, connection: Connection) -> None:
        self._voucher(connection, e.originator_id, status="expired", remaining_cents=0)

    @apply.register
    def _(self, e: Voucher.Revoked, connection: Connection) -> None:
        self._voucher(connection, e.originator_id, status="revoked", remaining_cents=0)

    @staticmethod
    def _voucher(connection: Connection, voucher_id: UUID, **values: object) -> None:
        connection.execute(
            update(vouchers).where(vouchers.c.voucher_id == str(voucher_id)).values(**values)
        )

    def _spent(
        self, connection: Connection, round_id: UUID, merchant_id: str, at: datetime, cents: int
    ) -> None:
        municipality = connection.execute(
            select(rounds.c.municipality_istat).where(rounds.c.round_id == str(round_id))
        ).scalar_one()
        day = at.astimezone(self.zone).date().isoformat()
        for table, key in (
            (spending_by_day, spending_by_day.c.day == day),
            (spending_by_merchant, spending_by_merchant.c.merchant_id == merchant_id),
        ):
            where = (table.c.municipality_istat == municipality, key)
            if connection.execute(select(table.c.cents).where(*where)).first() is None:
                row = {"day": day} if table is spending_by_day else {"merchant_id": merchant_id}
                connection.execute(
                    insert(table).values(municipality_istat=municipality, cents=cents, **row)
                )
            else:
                connection.execute(update(table).where(*where).values(cents=table.c.cents + cents))

    # --- funds, rounds, shops -------------------------------------------------------------------

    @apply.register
    def _(self, e: Fund.Allocated, connection: Connection) -> None:
        connection.execute(
            insert(funds).values(
                fund_id=str(e.originator_id), municipality_istat=e.municipality_istat
            )
        )

    @apply.register
    def _(self, e: Round.Opened, connection: Connection) -> None:
        fund_seq = connection.execute(
            select(funds.c.seq).where(funds.c.fund_id == str(e.fund_id))
        ).scalar_one()
        connection.execute(
            insert(rounds).values(
                round_id=str(e.originator_id),
                fund_id=str(e.fund_id),
                fund_seq=fund_seq,
                municipality_istat=e.municipality_istat,
                opens_at=micros(e.opens_at),
                closed=False,
            )
        )

    @apply.register
    def _(self, e: Round.Closed, connection: Connection) -> None:
        connection.execute(
            update(rounds).where(rounds.c.round_id == str(e.originator_id)).values(closed=True)
        )

    @apply.register
    def _(self, e: MerchantAccount.Affiliated, connection: Connection) -> None:
        connection.execute(
            insert(merchant_accounts).values(
                account_id=str(e.originator_id),
                round_id=str(e.round_id),
                merchant_id=e.merchant_id,
            )
        )

    @apply.register
    def _(self, e: ProgrammeShop.Joined, connection: Connection) -> None:
        connection.execute(
            insert(programme_shops).values(shop_id=str(e.originator_id), merchant_id=e.merchant_id)
        )
