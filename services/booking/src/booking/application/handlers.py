"""The booking's commands, one small handler each: get the booking, check who asks, change it,
save it (run again on fresh state if another command saved it first)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TypeVar
from uuid import UUID

from servicekit.domain import Conflict, NotFound

from booking.application import commands as cmd
from booking.application.parties import Caller, family_role, provider_of
from booking.domain.booking import Booking, CancelledBy
from booking.domain.errors import InvalidBooking, InvalidSplit, NotAParty, RequestReused
from booking.domain.funding import Offer, default_split, source_key, validate_split

if TYPE_CHECKING:
    from booking.application.app import BookingApplication

T = TypeVar("T")


class FeeChanged(Conflict):
    """The cancellation fee is no longer the one the caller accepted (a free window ended)."""

    code = "fee_changed"


def now_utc() -> datetime:
    return datetime.now(UTC)


def change(app: BookingApplication, booking_id: UUID, command: Callable[[Booking], T]) -> T:
    """Get → change → save, again on fresh state after a concurrent save."""

    def attempt() -> T:
        booking = app.get_booking(booking_id)
        result = command(booking)
        app.save(booking)
        return result

    return app.retrying(attempt)


# --- requesting a booking ---------------------------------------------------------------------


def split_of(funding: cmd.FundingInput, price_cents: int) -> dict[str, int]:
    """The split the caller asked for, or the default one (vouchers, credit, co-payment)."""
    if funding.split is None:
        offers = [
            Offer(source_key("voucher", v.voucher_id), v.available_cents) for v in funding.vouchers
        ]
        if funding.wallet is not None:
            offers.append(
                Offer(
                    source_key("wallet", funding.wallet.wallet_id), funding.wallet.available_cents
                )
            )
        return default_split(price_cents, offers)
    split: dict[str, int] = {}
    for part in funding.split:
        key = source_key(part.source, part.account_id)
        if key in split:
            raise InvalidSplit(f"the split names {key} twice")
        split[key] = part.amount_cents
    return validate_split(price_cents, split)


def requester_of(
    app: BookingApplication, command: cmd.RequestBooking, caller: Caller
) -> tuple[str, dict[str, str | None]]:
    """Who the booking is for, and who asks: the beneficiary, their current delegate, or a
    social worker on their behalf (with the consent's reference)."""
    if caller.role == "beneficiary" and caller.subject_id is not None:
        beneficiary = command.beneficiary_id or caller.subject_id
        if beneficiary == caller.subject_id:
            return beneficiary, {"role": "beneficiary", "subject": caller.subject}
        if app.is_delegate(beneficiary, caller.subject_id):
            return beneficiary, {"role": "delegate", "subject": caller.subject}
        raise NotAParty(f"you are not the current delegate of {beneficiary}")
    if caller.role == "social_worker":
        if command.beneficiary_id is None:
            raise InvalidBooking("a social worker names the beneficiary the booking is for")
        requester = {
            "role": "social_worker",
            "subject": caller.subject,
            "consent_reference": command.consent_reference,
        }
        return command.beneficiary_id, requester
    raise NotAParty("bookings are requested by beneficiaries, their delegates and social workers")


def fingerprint(command: cmd.RequestBooking) -> str:
    return hashlib.sha256(command.model_dump_json(exclude={"request_id"}).encode()).hexdigest()


def request_booking(
    app: BookingApplication, command: cmd.RequestBooking, caller: Caller, now: datetime
) -> Booking:
    """A new booking, or the one this caller's request id already made (the same request)."""
    booking_id = Booking.create_id(caller.subject, command.request_id)
    asked = fingerprint(command)

    def attempt() -> Booking:
        try:
            existing = app.get_booking(booking_id)
        except NotFound:
            pass
        else:
            if existing.fingerprint != asked:
                raise RequestReused(
                    f"request {command.request_id} already made another booking: use a new "
                    "request id for a different booking"
                )
            return existing
        beneficiary_id, requester = requester_of(app, command, caller)
        specs = [app.offerings.spec_for(item, now) for item in command.components]
        wallet = command.funding.wallet
        booking: Booking = Booking.request(
            client_request_id=command.request_id,
            caller=caller.subject,
            beneficiary_id=beneficiary_id,
            for_member_id=command.for_member_id,
            requester=requester,
            package_id=command.package_id,
            specs=specs,
            split=split_of(command.funding, sum(s.price_cents for s in specs)),
            confirm_taxable=wallet.confirm_taxable if wallet is not None else False,
            now=now,
            fingerprint=asked,
        )
        app.save(booking)
        return booking

    return app.retrying(attempt)


# --- the family -------------------------------------------------------------------------------


def confirm_delivery(
    app: BookingApplication, booking_id: UUID, index: int, caller: Caller, now: datetime
) -> Booking:
    def do(b: Booking) -> Booking:
        b.confirm_delivery(index, family_role(b, caller, app.is_delegate), now)
        return b

    return change(app, booking_id, do)


def dispute(
    app: BookingApplication,
    booking_id: UUID,
    index: int,
    reason: str,
    caller: Caller,
    now: datetime,
) -> Booking:
    def do(b: Booking) -> Booking:
        family_role(b, caller, app.is_delegate)
        b.dispute(index, reason, now)
        return b

    return change(app, booking_id, do)


def cancel(
    app: BookingApplication, booking_id: UUID, command: cmd.Cancel, caller: Caller, now: datetime
) -> Booking:
    def do(b: Booking) -> Booking:
        provider_id = None
        if caller.role == "provider":
            provider_id = provider_of(caller)
            if not any(c.provider_id == provider_id for c in b.components):
                raise NotAParty("this booking has no component of yours")
        else:
            family_role(b, caller, app.is_delegate)
        by: CancelledBy = "provider" if provider_id else "family"
        if command.accept_fee_cents is not None and command.request_id not in b.requests:
            fee = sum(f["fee_cents"] for f in b.cancellation_fees(by, provider_id, now))
            if fee != command.accept_fee_cents:
                raise FeeChanged(
                    f"cancelling now costs {fee} cents, not {command.accept_fee_cents}",
                    fee_cents=fee,
                )
        b.cancel(command.request_id, by, now, provider_id)
        return b

    return change(app, booking_id, do)


def reschedule(
    app: BookingApplication,
    booking_id: UUID,
    command: cmd.Reschedule,
    caller: Caller,
    now: datetime,
) -> Booking:
    def do(b: Booking) -> Booking:
        family_role(b, caller, app.is_delegate)
        asked = f"reschedule:{command.component}:{command.slot_id}"
        if b.check_request(command.request_id, asked):  # a retry: done once already
            return b
        component = b.check_component(command.component)
        starts_at, ends_at = app.offerings.slot_times(
            component.spec.offering_id, command.slot_id, (command.starts_at, command.ends_at)
        )
        b.reschedule(
            command.component, command.request_id, command.slot_id, starts_at, ends_at, now
        )
        return b

    return change(app, booking_id, do)


# --- providers and the operator --------------------------------------------------------------


def provider_command(
    app: BookingApplication,
    booking_id: UUID,
    index: int,
    caller: Caller,
    act: Callable[[Booking, int, str], None],
) -> Booking:
    """A provider's command on its component: accept, decline, delivered, no-show, paid."""
    provider_id = provider_of(caller)

    def do(b: Booking) -> Booking:
        b.check_provider(index, provider_id)
        act(b, index, provider_id)
        return b

    return change(app, booking_id, do)


def resolve(
    app: BookingApplication, booking_id: UUID, index: int, command: cmd.Resolve, now: datetime
) -> Booking:
    def do(b: Booking) -> Booking:
        b.resolve(index, command.decision, command.amount_cents, command.note, now)
        return b

    return change(app, booking_id, do)


def fire_due_deadlines(app: BookingApplication, now: datetime) -> int:
    """Fire every deadline due at ``now`` (the periodic job): each booking with one due, once
    each; returns how many fired. Safe to run twice or in two processes at once."""
    fired = 0
    for booking_id in app.bookings_with_deadlines_due(now):
        fired += change(app, booking_id, lambda b: len(b.fire_due_deadlines(now)))
    return fired
