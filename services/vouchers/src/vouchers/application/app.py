"""The vouchers application: get → change → save on the event-sourced aggregates."""

from __future__ import annotations

from uuid import UUID

from servicekit.store import ServiceApplication

from vouchers.application.commands import AllocateFund, TopUpFund
from vouchers.domain.errors import UnknownMunicipality
from vouchers.domain.fund import Fund


class VouchersApplication(ServiceApplication):
    def allocate_fund(self, command: AllocateFund) -> UUID:
        self.check_municipality(command.municipality_istat)
        fund = Fund.allocate(
            command.municipality_istat,
            command.source_kind,
            command.source_reference,
            command.amount_cents,
        )
        self.save(fund)
        return fund.id

    def top_up_fund(self, fund_id: UUID, command: TopUpFund) -> None:
        fund = self.get_fund(fund_id)
        fund.top_up(command.source_kind, command.source_reference, command.amount_cents)
        self.save(fund)

    def get_fund(self, fund_id: UUID) -> Fund:
        return self.get_aggregate(fund_id, Fund, "fund")

    def check_municipality(self, istat_code: str) -> None:
        known = {m.istat_code for m in self.territory.municipalities}
        if istat_code not in known:
            raise UnknownMunicipality(
                f"municipality {istat_code} is not part of territory {self.territory.id}"
            )
