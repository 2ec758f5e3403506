"""Rounds: a call for applications with its rules and a budget assigned from a fund."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from servicekit.store import retried

from vouchers.application import commands as cmd
from vouchers.application.handlers.providers import programme_providers, provider_account
from vouchers.application.handlers.shops import affiliation, programme_shops
from vouchers.application.store import VouchersStore
from vouchers.domain.fund import Fund
from vouchers.domain.merchant import MerchantAccount
from vouchers.domain.round import Round
from vouchers.domain.rules import EntitlementRules


@retried
def open_round(store: VouchersStore, command: cmd.OpenRound, now: datetime) -> UUID:
    """The round is opened on its fund, which assigns it its budget; the catalogue's shops of
    the municipality join a food round, its accredited care providers a services round."""
    rules = EntitlementRules(**command.rules.model_dump())
    fund = store.get_fund(UUID(command.fund_id))
    round_ = new_round(store, fund, command, rules, now)
    fund.assign_budget(round_.id, command.budget_cents)
    places: list[MerchantAccount]
    if round_.kind == "services":
        providers = programme_providers(store)
        places = [
            provider_account(p, round_) for p in providers if p.serves(round_.municipality_istat)
        ]
    else:
        shops = programme_shops(store)
        places = [affiliation(s, round_) for s in shops if s.serves(round_.municipality_istat)]
    store.save(fund, round_, *places)
    return round_.id


def new_round(
    store: VouchersStore,
    fund: Fund,
    command: cmd.OpenRound,
    rules: EntitlementRules,
    now: datetime,
) -> Round:
    """The round the command describes; what it leaves out is the territory's default."""
    defaults = store.territory.rules.vouchers
    return Round.open(
        fund_id=fund.id,
        municipality_istat=fund.municipality_istat,
        title=command.title,
        opens_at=command.opens_at.astimezone(UTC),
        closes_at=command.closes_at.astimezone(UTC),
        budget_cents=command.budget_cents,
        rules=rules,
        denominations_cents=command.denominations_cents or list(defaults.denominations_cents),
        validity_days=command.validity_days or defaults.validity_days,
        excluded_categories=command.excluded_categories,
        now=now,
        service_categories=(
            [str(c) for c in command.service_categories] if command.kind == "services" else None
        ),
    )


@retried
def close_round(store: VouchersStore, round_id: UUID) -> None:
    round_ = store.get_round(round_id)
    round_.close()
    store.save(round_)
