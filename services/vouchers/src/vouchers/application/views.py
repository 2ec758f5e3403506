"""The read side (cosmicpython's ``views.py``): queries answered from the read model
(:mod:`vouchers.adapters.read_model`), never by scanning the event log. Each function takes the
read model's store, caught up by its caller (``VouchersApplication.fresh_read_model``), and
returns plain data: rows carrying the attribute names of the aggregates they mirror (``id``,
``created_on``, ``rank``...), so a response built from an aggregate is built the same way from
a row.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from servicekit.projection import ReadModelStore
from sqlalchemy import Select, and_, exists, select

from vouchers.adapters import read_model as rm
from vouchers.domain.household_application import Status as ApplicationStatus
from vouchers.domain.issuing import RANKED
from vouchers.domain.voucher import Status as VoucherStatus


@dataclass(frozen=True)
class ApplicationRow:
    id: UUID
    round_id: UUID
    household_id: UUID
    applicant: str
    status: ApplicationStatus
    created_on: datetime  # when it was submitted
    members: int
    minors: int
    isee_cents: int
    other_support: bool
    entitlement_cents: int
    voucher_values: list[int]
    priority: int
    rank: int | None
    reason: str | None
    sealed_reason: str | None
    voucher_ids: list[str]
    sealed_personal_data: str
    sealed_codes: str


@dataclass(frozen=True)
class VoucherRow:
    id: UUID
    round_id: UUID
    application_id: UUID
    household_id: UUID
    holder: str
    value_cents: int
    remaining_cents: int
    status: VoucherStatus
    expires_at: datetime
    delegate_id: str | None
    held_cents: int = 0  # held by bookings (service vouchers)

    def may_be_spent_by(self, beneficiary: str) -> bool:
        return beneficiary in (self.holder, self.delegate_id)


def _application(r: Any) -> ApplicationRow:
    return ApplicationRow(
        id=UUID(r.application_id),
        round_id=UUID(r.round_id),
        household_id=UUID(r.household_id),
        applicant=r.applicant,
        status=r.status,
        created_on=rm.from_micros(r.submitted_at),
        members=r.members,
        minors=r.minors,
        isee_cents=r.isee_cents,
        other_support=bool(r.other_support),
        entitlement_cents=r.entitlement_cents,
        voucher_values=json.loads(r.voucher_values),
        priority=r.priority,
        rank=r.waitlist_rank,
        reason=r.reason,
        sealed_reason=r.sealed_reason,
        voucher_ids=json.loads(r.voucher_ids),
        sealed_personal_data=r.sealed_personal_data,
        sealed_codes=r.sealed_codes,
    )


def _voucher(r: Any) -> VoucherRow:
    return VoucherRow(
        id=UUID(r.voucher_id),
        round_id=UUID(r.round_id),
        application_id=UUID(r.application_id),
        household_id=UUID(r.household_id),
        holder=r.holder,
        value_cents=r.value_cents,
        remaining_cents=r.remaining_cents,
        status=r.status,
        expires_at=datetime.fromisoformat(r.expires_at),
        delegate_id=r.delegate_id,
        held_cents=r.held_cents,
    )


def _rows(model: ReadModelStore, query: Select[Any]) -> Sequence[Any]:
    with model.engine.connect() as connection:
        return connection.execute(query).all()


def _ids(model: ReadModelStore, query: Select[Any]) -> list[UUID]:
    return [UUID(r[0]) for r in _rows(model, query)]


# --- applications -------------------------------------------------------------------------------


def applications_of(model: ReadModelStore, applicant: str) -> list[ApplicationRow]:
    """A beneficiary's applications, oldest first ("my applications")."""
    a = rm.applications
    query = select(a).where(a.c.applicant == applicant).order_by(a.c.seq)
    return [_application(r) for r in _rows(model, query)]


def applications_in_round(
    model: ReadModelStore,
    round_id: UUID,
    status: ApplicationStatus | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[ApplicationRow]:
    """A round's applications in submission order, one page of them with ``limit``."""
    a = rm.applications
    conditions = [a.c.round_id == str(round_id)]
    if status is not None:
        conditions.append(a.c.status == status)
    query = select(a).where(*conditions).order_by(a.c.seq).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return [_application(r) for r in _rows(model, query)]


def ranking(model: ReadModelStore, round_id: UUID) -> list[ApplicationRow]:
    """Approved and waitlisted applications in the order they are served, the domain's
    (``issuing.rank``: priority, then need, lower ISEE first, then submission time), read in
    the order of the read model's index: only the round's candidates are read."""
    a = rm.applications
    query = (
        select(a)
        .where(a.c.round_id == str(round_id), a.c.status.in_(RANKED))
        .order_by(a.c.priority, a.c.isee_cents, a.c.submitted_at, a.c.seq)
    )
    return [_application(r) for r in _rows(model, query)]


def has_waitlisted(model: ReadModelStore, round_id: UUID) -> bool:
    a = rm.applications
    found = exists().where(and_(a.c.round_id == str(round_id), a.c.status == "waitlisted"))
    return bool(_rows(model, select(found))[0][0])


def application(model: ReadModelStore, application_id: UUID) -> ApplicationRow | None:
    a = rm.applications
    rows = _rows(model, select(a).where(a.c.application_id == str(application_id)))
    return _application(rows[0]) if rows else None


def application_ids_of_household(model: ReadModelStore, household_id: UUID) -> list[UUID]:
    a = rm.applications
    query = select(a.c.application_id).where(a.c.household_id == str(household_id))
    return _ids(model, query.order_by(a.c.seq))


# --- vouchers -----------------------------------------------------------------------------------


def vouchers(model: ReadModelStore, voucher_ids: Iterable[UUID]) -> dict[UUID, VoucherRow]:
    """The vouchers of the given ids that the read model holds."""
    wanted = [str(v) for v in voucher_ids]
    if not wanted:
        return {}
    v = rm.vouchers
    rows = _rows(model, select(v).where(v.c.voucher_id.in_(wanted)))
    return {row.id: row for row in map(_voucher, rows)}


def voucher_ids_of_round(
    model: ReadModelStore, round_id: UUID, status: VoucherStatus | None = None
) -> list[UUID]:
    """A round's vouchers in the order they were issued (of one status, if given)."""
    v = rm.vouchers
    conditions = [v.c.round_id == str(round_id)]
    if status is not None:
        conditions.append(v.c.status == status)
    return _ids(model, select(v.c.voucher_id).where(*conditions).order_by(v.c.seq))


def vouchers_delegated_to(model: ReadModelStore, delegate_id: str) -> list[VoucherRow]:
    """The vouchers whose current delegate is this beneficiary, in the order first named."""
    v, d = rm.vouchers, rm.delegations
    query = (
        select(v)
        .join(d, and_(d.c.voucher_id == v.c.voucher_id, d.c.delegate_id == delegate_id))
        .where(v.c.delegate_id == delegate_id)
        .order_by(d.c.seq)
    )
    return [_voucher(r) for r in _rows(model, query)]


# --- a shop's sales ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RedemptionRow:
    id: UUID
    merchant_id: str
    round_id: UUID
    voucher_id: UUID
    code_hint: str | None
    amount_cents: int
    goods_category: str
    at: datetime
    voided: bool
    claimed: bool


def redemptions_of(
    model: ReadModelStore, merchant_id: str, since: datetime | None, limit: int
) -> list[RedemptionRow]:
    """A shop's sales at its tills, newest first (since a moment, if given; at most ``limit``)."""
    r = rm.redemptions
    conditions = [r.c.merchant_id == merchant_id]
    if since is not None:
        conditions.append(r.c.at >= rm.micros(since))
    query = select(r).where(*conditions).order_by(r.c.at.desc(), r.c.seq.desc()).limit(limit)
    return [
        RedemptionRow(
            id=UUID(row.redemption_id),
            merchant_id=row.merchant_id,
            round_id=UUID(row.round_id),
            voucher_id=UUID(row.voucher_id),
            code_hint=row.code_hint,
            amount_cents=row.amount_cents,
            goods_category=row.goods_category,
            at=rm.from_micros(row.at),
            voided=bool(row.voided),
            claimed=bool(row.claimed),
        )
        for row in _rows(model, query)
    ]


# --- funds, rounds, shops -----------------------------------------------------------------------


def fund_ids(model: ReadModelStore, municipality_istat: str | None = None) -> list[UUID]:
    """Funds in the order they were allocated."""
    f = rm.funds
    query = select(f.c.fund_id).order_by(f.c.seq)
    if municipality_istat is not None:
        query = query.where(f.c.municipality_istat == municipality_istat)
    return _ids(model, query)


def round_ids(
    model: ReadModelStore, municipality_istat: str | None = None, *, open_only: bool = False
) -> list[UUID]:
    """Rounds in the order they were opened."""
    r = rm.rounds
    query = select(r.c.round_id).order_by(r.c.seq)
    if municipality_istat is not None:
        query = query.where(r.c.municipality_istat == municipality_istat)
    if open_only:
        query = query.where(r.c.closed.is_(False))
    return _ids(model, query)


def round_ids_by_opening(model: ReadModelStore, municipality_istat: str | None) -> list[UUID]:
    """Rounds newest last: by opening time, then fund by fund, in the order they were opened."""
    r = rm.rounds
    query = select(r.c.round_id).order_by(r.c.opens_at, r.c.fund_seq, r.c.seq)
    if municipality_istat is not None:
        query = query.where(r.c.municipality_istat == municipality_istat)
    return _ids(model, query)


def merchant_account_ids(
    model: ReadModelStore, *, round_id: UUID | None = None, merchant_id: str | None = None
) -> list[UUID]:
    """Shop accounts (one per shop and round) in the order of affiliation."""
    m = rm.merchant_accounts
    query = select(m.c.account_id).order_by(m.c.seq)
    if round_id is not None:
        query = query.where(m.c.round_id == str(round_id))
    if merchant_id is not None:
        query = query.where(m.c.merchant_id == merchant_id)
    return _ids(model, query)


def programme_provider_ids(model: ReadModelStore) -> list[UUID]:
    p = rm.programme_providers
    return _ids(model, select(p.c.provider_key).order_by(p.c.seq))


def programme_shop_ids(model: ReadModelStore) -> list[UUID]:
    s = rm.programme_shops
    return _ids(model, select(s.c.shop_id).order_by(s.c.seq))


def spending(model: ReadModelStore, municipality_istat: str) -> dict[str, dict[str, int]]:
    """Redeemed cents (net of voids) by day (the territory's calendar day) and by shop."""
    d, m = rm.spending_by_day, rm.spending_by_merchant
    days = _rows(
        model,
        select(d.c.day, d.c.cents)
        .where(d.c.municipality_istat == municipality_istat)
        .order_by(d.c.day),
    )
    shops = _rows(
        model,
        select(m.c.merchant_id, m.c.cents)
        .where(m.c.municipality_istat == municipality_istat)
        .order_by(m.c.seq),
    )
    return {
        "by_day": {day: int(cents) for day, cents in days},
        "by_merchant": {shop: int(cents) for shop, cents in shops},
    }
