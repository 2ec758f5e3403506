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
from datetime import datetime
from functools import singledispatchmethod
from uuid import UUID
from zoneinfo import ZoneInfo

from servicekit.projection import Projection
from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from vouchers.adapters.read_model_tables import (
    EPOCH,
    applications,
    delegations,
    from_micros,
    funds,
    merchant_accounts,
    metadata,
    micros,
    programme_providers,
    programme_shops,
    redemptions,
    rounds,
    spending_by_day,
    spending_by_merchant,
    vouchers,
)
from vouchers.domain.fund import Fund
from vouchers.domain.household_application import HouseholdApplication
from vouchers.domain.merchant import MerchantAccount
from vouchers.domain.programme_provider import ProgrammeProvider
from vouchers.domain.programme_shop import ProgrammeShop
from vouchers.domain.round import Round
from vouchers.domain.voucher import Voucher

NAME = "vouchers"
# Bump when a table or a handler changes: the tables are then dropped and filled again.
# 2: vouchers in issue order (seq), indexed by round; 3: service vouchers; 4: shops' sales
VERSION = 4


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
        connection.execute(
            insert(redemptions).values(
                redemption_id=str(e.redemption_id),
                merchant_id=e.merchant_id,
                round_id=str(e.round_id),
                voucher_id=str(e.originator_id),
                code_hint=e.code_hint,
                amount_cents=e.amount_cents,
                goods_category=e.goods_category,
                at=micros(e.redeemed_at or e.timestamp),
                voided=False,
                claimed=False,
            )
        )

    @apply.register
    def _(self, e: Voucher.Held, connection: Connection) -> None:
        self._voucher(connection, e.originator_id, held_cents=e.held_cents)

    @apply.register
    def _(self, e: Voucher.HoldCaptured, connection: Connection) -> None:
        self._voucher(
            connection,
            e.originator_id,
            remaining_cents=e.remaining_cents,
            held_cents=e.held_cents,
        )
        self._spent(connection, e.round_id, e.provider_id, e.timestamp, e.amount_cents)

    @apply.register
    def _(self, e: Voucher.HoldReleased, connection: Connection) -> None:
        self._voucher(connection, e.originator_id, held_cents=e.held_cents)

    @apply.register
    def _(self, e: Voucher.RedemptionVoided, connection: Connection) -> None:
        self._voucher(
            connection,
            e.originator_id,
            remaining_cents=vouchers.c.remaining_cents + e.amount_cents,
        )
        self._spent(connection, e.round_id, e.merchant_id, e.timestamp, -e.amount_cents)
        connection.execute(
            update(redemptions)
            .where(redemptions.c.redemption_id == str(e.redemption_id))
            .values(voided=True)
        )

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
    def _(self, e: MerchantAccount.ProviderOpened, connection: Connection) -> None:
        connection.execute(
            insert(merchant_accounts).values(
                account_id=str(e.originator_id),
                round_id=str(e.round_id),
                merchant_id=e.merchant_id,
            )
        )

    @apply.register
    def _(self, e: MerchantAccount.ClaimSubmitted, connection: Connection) -> None:
        connection.execute(
            update(redemptions)
            .where(redemptions.c.redemption_id.in_(e.redemption_ids))
            .values(claimed=True)
        )

    @apply.register
    def _(self, e: ProgrammeProvider.Accredited, connection: Connection) -> None:
        connection.execute(
            insert(programme_providers).values(
                provider_key=str(e.originator_id), provider_id=e.provider_id
            )
        )

    @apply.register
    def _(self, e: ProgrammeShop.Joined, connection: Connection) -> None:
        connection.execute(
            insert(programme_shops).values(shop_id=str(e.originator_id), merchant_id=e.merchant_id)
        )


__all__ = [
    "EPOCH",
    "NAME",
    "VERSION",
    "VouchersProjection",
    "applications",
    "delegations",
    "from_micros",
    "funds",
    "merchant_accounts",
    "metadata",
    "micros",
    "programme_providers",
    "programme_shops",
    "redemptions",
    "rounds",
    "spending_by_day",
    "spending_by_merchant",
    "vouchers",
]
