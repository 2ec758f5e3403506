"""The money figures the service reports (and the auditor's independent tally must match):
each fund's and each shop account's, now or as they were at a point of the notification log."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any
from uuid import UUID

from vouchers.application import views
from vouchers.application.store import VouchersStore
from vouchers.domain.fund import Fund
from vouchers.domain.merchant import MerchantAccount
from vouchers.domain.round import Round


@dataclass(frozen=True)
class FundFigures:
    fund_id: str
    municipality_istat: str
    allocated_cents: int
    assigned_to_rounds_cents: int
    issued_cents: int
    redeemed_cents: int
    reimbursed_cents: int
    returned_cents: int
    available_cents: int
    sources: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def of(
        cls, fund: Fund, rounds: Sequence[Round], merchants: Sequence[MerchantAccount]
    ) -> FundFigures:
        issued = sum(r.issued_cents for r in rounds)
        returned = sum(r.returned_cents for r in rounds)
        return cls(
            fund_id=str(fund.id),
            municipality_istat=fund.municipality_istat,
            allocated_cents=fund.allocated_cents,
            assigned_to_rounds_cents=fund.assigned_cents,
            issued_cents=issued,
            redeemed_cents=sum(m.redeemed_cents for m in merchants),
            reimbursed_cents=sum(m.reimbursed_cents for m in merchants),
            returned_cents=returned,
            available_cents=fund.allocated_cents - issued + returned,
            sources=[
                {"kind": kind, "reference": reference, "amount_cents": amount}
                for kind, reference, amount in fund.sources
            ],
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class MerchantFigures:
    merchant_id: str
    round_id: str
    redeemed_cents: int
    claimed_cents: int
    approved_cents: int
    reimbursed_cents: int
    unclaimed_cents: int
    claims: dict[str, dict[str, Any]]

    @classmethod
    def of(cls, account: MerchantAccount) -> MerchantFigures:
        return cls(
            merchant_id=account.merchant_id,
            round_id=str(account.round_id),
            redeemed_cents=account.redeemed_cents,
            claimed_cents=account.claimed_cents,
            approved_cents=account.approved_cents,
            reimbursed_cents=account.reimbursed_cents,
            unclaimed_cents=account.redeemed_cents - account.claimed_cents,
            claims=account.claims,
        )


def fund_figures(store: VouchersStore, fund_id: UUID) -> FundFigures:
    fund = store.get_fund(fund_id)
    rounds = [store.get_round(r) for r in fund.round_ids]
    merchants = [m for r in rounds for m in merchant_accounts(store, r.id)]
    return FundFigures.of(fund, rounds, merchants)


def merchant_figures(store: VouchersStore, round_id: UUID, merchant_id: str) -> MerchantFigures:
    return MerchantFigures.of(store.merchant_account(round_id, merchant_id))


def figures_upto(
    store: VouchersStore, notification_id: int
) -> tuple[list[FundFigures], list[MerchantFigures]]:
    """Every fund's and shop account's figures as they were once the events up to
    ``notification_id`` were stored: the point an auditor's replay reached (the topic's
    messages and the store's notifications carry the same ids). A live service keeps
    changing while the replay runs; compared at the same point, only a real difference
    remains — an event the replay lacks, up to that point, still shows. Raises
    ``LedgerBehind`` (the kit's) when the store does not reach ``notification_id``."""
    store.check_reaches(notification_id)
    versions = store.versions_upto(notification_id, Fund, Round, MerchantAccount)
    accounts_of: dict[UUID, list[UUID]] = {}
    for e in opened_accounts(store):
        if e.originator_id in versions:
            accounts_of.setdefault(e.round_id, []).append(e.originator_id)
    funds: list[FundFigures] = []
    merchants: list[MerchantFigures] = []
    for e in store.events_of(Fund.Allocated):
        if e.originator_id not in versions:
            continue
        fund = store.get_as_of(e.originator_id, versions, Fund, "fund")
        rounds = [
            store.get_as_of(r, versions, Round, "round") for r in fund.round_ids if r in versions
        ]
        accounts = [
            store.get_as_of(a, versions, MerchantAccount, "merchant account")
            for r in rounds
            for a in accounts_of.get(r.id, ())
        ]
        funds.append(FundFigures.of(fund, rounds, accounts))
        merchants.extend(MerchantFigures.of(a) for a in accounts)
    return funds, merchants


def funds(store: VouchersStore, municipality_istat: str | None = None) -> list[Fund]:
    """Funds in the order they were allocated (of one municipality, if given)."""
    if store.ledger_only:  # an audit reads the log (see VouchersStore.__init__)
        allocated = (store.get_fund(e.originator_id) for e in store.events_of(Fund.Allocated))
        return [f for f in allocated if municipality_istat in (None, f.municipality_istat)]
    ids = views.fund_ids(store.fresh_read_model(), municipality_istat)
    return [store.get_fund(i) for i in ids]


def merchant_accounts(store: VouchersStore, round_id: UUID) -> list[MerchantAccount]:
    """The round's shop accounts, in the order they joined."""
    if store.ledger_only:  # an audit reads the log (see VouchersStore.__init__)
        ids = [e.originator_id for e in opened_accounts(store) if e.round_id == round_id]
    else:
        ids = views.merchant_account_ids(store.fresh_read_model(), round_id=round_id)
    return [store.get_aggregate(i, MerchantAccount, "merchant account") for i in ids]


def opened_accounts(store: VouchersStore) -> list[Any]:
    """Every account's first event, in the order they were stored: a shop's affiliation or a
    care provider's account in a services round."""
    return list(store.events_of(MerchantAccount.Affiliated, MerchantAccount.ProviderOpened))
