"""Issuing a round's vouchers down its ranking, waitlisting who the budget cannot cover, and
the value that comes back (expiry, revocation) serving the waitlist. The rules are in
``vouchers.domain.issuing``; each handler here changes one household or one voucher and saves."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from uuid import UUID

import structlog
from servicekit.store import retried

from vouchers.application import commands as cmd
from vouchers.application import views
from vouchers.application.store import VouchersStore
from vouchers.domain import issuing
from vouchers.domain.codes import new_code

log = structlog.get_logger(__name__)


def issue_vouchers(store: VouchersStore, round_id: UUID, now: datetime) -> dict[str, int]:
    """Serve the ranking while the round's budget lasts; waitlist the rest in rank order.
    The ranking's rows give the order; each change is made on the aggregates got by id."""
    ranking = store.ranking(round_id)
    outcome = issuing.serve_in_rank_order(
        (row.id for row in ranking),
        serve=partial(serve_household, store, now=now),
        waitlist=partial(waitlist_household, store),
    )
    return outcome.as_dict()


@retried
def serve_household(store: VouchersStore, application_id: UUID, now: datetime) -> bool:
    """The household's vouchers, if what is left of the budget covers it (False otherwise)."""
    application = store.get_application(application_id)
    if application.status == "served":
        # Served meanwhile by a concurrent issue (an operator's, or the clock job's in
        # another process): a retry finds it done, not an error.
        return True
    round_ = store.get_round(application.round_id)
    if not issuing.covers(round_, application):
        return False
    codes = [new_code() for _ in application.voucher_values]
    # The codes are the household's to read; they are sealed like its personal data.
    sealed_codes = store.vault.seal(str(application.household_id), {"codes": codes})
    vouchers = issuing.issue_to_household(round_, application, codes, sealed_codes, now)
    store.save(round_, application, *vouchers)
    return True


@retried
def waitlist_household(store: VouchersStore, application_id: UUID, rank: int) -> None:
    application = store.get_application(application_id)
    application.waitlist(rank)
    store.save(application)


def revoke_application(
    store: VouchersStore, application_id: UUID, command: cmd.Revoke, now: datetime
) -> int:
    """Revoke every voucher of a household (e.g. a false declaration); their unspent value
    returns to the round, and serves its waitlist. Returns the cents returned."""
    application = store.get_application(application_id)
    for voucher_id in application.voucher_ids:  # all or none: a held one stops them all
        store.get_voucher(UUID(voucher_id)).check_holds_nothing()
    returned = sum(
        revoke_voucher(store, UUID(voucher_id), command.reason_code)
        for voucher_id in application.voucher_ids
    )
    serve_waitlist(store, application.round_id, returned, now)
    return returned


@retried
def revoke_voucher(store: VouchersStore, voucher_id: UUID, reason_code: str) -> int:
    voucher = store.get_voucher(voucher_id)
    if voucher.status != "active":
        return 0
    round_ = store.get_round(voucher.round_id)
    amount = issuing.revoke(voucher, round_, reason_code)
    store.save(voucher, round_)
    return amount


def expire_vouchers(store: VouchersStore, round_id: UUID, now: datetime) -> int:
    """Expire the round's vouchers past their date; their unspent value returns to the
    round, and serves its waitlist. Returns the cents returned."""
    store.get_round(round_id)  # an unknown round is a 404, not nothing to expire
    active = views.voucher_ids_of_round(store.fresh_read_model(), round_id, "active")
    returned = sum(expire_voucher(store, voucher_id, round_id, now) for voucher_id in active)
    serve_waitlist(store, round_id, returned, now)
    return returned


@retried
def expire_voucher(store: VouchersStore, voucher_id: UUID, round_id: UUID, now: datetime) -> int:
    """Expire the voucher if it is due; first, the booking holds on it past their deadline
    lapse (a voucher with holds open does not expire: they keep their value)."""
    voucher = store.get_voucher(voucher_id)
    lapsed = voucher.lapse_holds(now) if voucher.held_cents else 0
    if not voucher.due_to_expire(now):
        if lapsed:
            store.save(voucher)
        return 0
    round_ = store.get_round(round_id)
    amount = issuing.expire(voucher, round_, now)
    store.save(voucher, *([round_] if amount else []))
    return amount


def expire_due_vouchers(store: VouchersStore, now: datetime) -> int:
    """Expire every round's vouchers past their date (the service's clock job); returns
    the cents that went back to the rounds."""
    round_ids = views.round_ids(store.fresh_read_model())
    return sum(expire_vouchers(store, round_id, now) for round_id in round_ids)


def serve_waitlist(
    store: VouchersStore, round_id: UUID, returned_cents: int, now: datetime
) -> dict[str, int] | None:
    """``returned_cents`` came back to the round: if households wait for it, serve the
    ranking again (as ``issue_vouchers``). Nothing happens where nobody was waitlisted."""

    def households_waiting() -> bool:
        return views.has_waitlisted(store.fresh_read_model(), round_id)

    if not issuing.waitlist_is_due(returned_cents, households_waiting):
        return None
    outcome = issue_vouchers(store, round_id, now)
    log.info("waitlist_served", round_id=str(round_id), **outcome)
    return outcome
