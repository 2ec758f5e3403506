"""Funds: public or donated money allocated to a municipality, topped up later."""

from __future__ import annotations

from uuid import UUID

from servicekit.store import retried

from vouchers.application import commands as cmd
from vouchers.application.store import VouchersStore
from vouchers.domain.fund import Fund


def allocate_fund(store: VouchersStore, command: cmd.AllocateFund) -> UUID:
    store.check_municipality(command.municipality_istat)
    fund = Fund.allocate(
        command.municipality_istat,
        command.source_kind,
        command.source_reference,
        command.amount_cents,
    )
    store.save(fund)
    return fund.id


@retried
def top_up_fund(store: VouchersStore, fund_id: UUID, command: cmd.TopUpFund) -> None:
    fund = store.get_fund(fund_id)
    fund.top_up(command.source_kind, command.source_reference, command.amount_cents)
    store.save(fund)
