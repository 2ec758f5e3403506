"""The Booking's state and its events, the hold phase: what each event records and how it
changes the booking. No rule is checked here: the commands that trigger these events
(:mod:`booking.domain.booking_saga`, :mod:`booking.domain.booking`) check them first.

Every event records the moment it happened (``at``, the command's clock) and adds a line to
the booking's timeline, which ``GET /bookings/{id}`` shows step by step.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import event
from servicekit.domain import Aggregate

from booking.domain.components import (
    Component,
    ComponentSpec,
    FundsHold,
    SlotHold,
    request_id_for,
)

BOOKING_NAMESPACE = UUID("5d0c7a7e-2f4b-4b1e-9d57-7f1a3c2b9e10")


class BookingState(Aggregate):
    class Requested(Aggregate.Created):
        client_request_id: str
        caller: str
        beneficiary_id: str
        for_member_id: str | None
        requester: dict[str, Any]
        package_id: str | None
        components: list[dict[str, Any]]
        split: dict[str, int]
        confirm_taxable: bool
        fingerprint: str
        answers_due: datetime
        hold_expires_at: datetime
        funds_expire_at: datetime
        at: datetime

    @staticmethod
    def create_id(caller: str, client_request_id: str) -> UUID:
        """One booking per caller and request id: a retried request finds the first one."""
        return uuid.uuid5(BOOKING_NAMESPACE, f"{caller}/{client_request_id}")

    @event(Requested)
    def __init__(
        self,
        client_request_id: str,
        caller: str,
        beneficiary_id: str,
        for_member_id: str | None,
        requester: dict[str, Any],
        package_id: str | None,
        components: list[dict[str, Any]],
        split: dict[str, int],
        confirm_taxable: bool,
        fingerprint: str,
        answers_due: datetime,
        hold_expires_at: datetime,
        funds_expire_at: datetime,
        at: datetime,
    ) -> None:
        self.client_request_id = client_request_id
        self.caller = caller
        self.beneficiary_id = beneficiary_id
        self.for_member_id = for_member_id
        self.requester = dict(requester)
        self.package_id = package_id
        self.split = dict(split)
        self.confirm_taxable = confirm_taxable
        self.fingerprint = fingerprint  # what the request asked, to recognise a retry
        self.hold_expires_at = hold_expires_at
        self.funds_expire_at = funds_expire_at
        self.requested_at = at
        self.updated_at = at
        self.status = "requested"
        self.reason_code: str | None = None
        self.reason_detail: str | None = None
        self.components: list[Component] = []
        for index, data in enumerate(components, start=1):
            spec = ComponentSpec.from_dict({k: v for k, v in data.items() if k != "shares"})
            slot = SlotHold(
                spec.slot_id,
                spec.starts_at,
                spec.ends_at,
                request_id_for(self.id, f"c{index}:slot"),
            )
            self.components.append(Component(index, spec, dict(data["shares"]), slot))
        self.deadlines: dict[str, dict[str, Any]] = {}
        self._deadline("holds", answers_due)
        self._deadline("hold_expiry", hold_expires_at)
        self.requests: dict[str, str] = {}  # a client's request id → what it asked
        self.held_counter = 0
        # captures or releases a participant refused while still holding the money: the
        # booking cannot settle by itself, the operator sees it stuck with the reason
        self.stuck: list[dict[str, Any]] = []
        self.timeline: list[dict[str, Any]] = []
        self._log("requested", at, detail=f"{len(components)} component(s)")

    # --- helpers for the appliers ---------------------------------------------------------------

    def _log(
        self,
        step: str,
        at: datetime,
        index: int | None = None,
        source: str | None = None,
        detail: str | None = None,
    ) -> None:
        self.updated_at = at
        self.timeline.append(
            {"at": at, "step": step, "component": index, "source": source, "detail": detail}
        )

    def _deadline(self, key: str, due_at: datetime) -> None:
        self.deadlines[key] = {"due_at": due_at, "fired": False}

    def component(self, index: int) -> Component:
        return self.components[index - 1]

    def _next_held(self) -> int:
        self.held_counter += 1
        return self.held_counter

    def slot_hold(self, index: int, request_id: str) -> SlotHold | None:
        """The slot hold of component ``index`` sent under ``request_id`` (its current one, a
        reschedule's, or one it moved away from)."""
        component = self.component(index)
        if component.slot.request_id == request_id:
            return component.slot
        if component.reschedule and component.reschedule.hold.request_id == request_id:
            return component.reschedule.hold
        for old in component.old_slots:
            if old.request_id == request_id:
                return old
        return None

    # --- the hold phase -------------------------------------------------------------------------

    class SlotHoldRequested(Aggregate.Event):
        index: int
        request_id: str
        slot_id: str
        offering_id: str
        provider_id: str
        expires_at: datetime
        at: datetime

    @event(SlotHoldRequested)
    def _slot_hold_requested(
        self,
        index: int,
        request_id: str,
        slot_id: str,
        offering_id: str,
        provider_id: str,
        expires_at: datetime,
        at: datetime,
    ) -> None:
        self._log("slot_hold_requested", at, index, detail=slot_id)

    class FundsHoldRequested(Aggregate.Event):
        index: int
        source: str
        request_id: str
        amount_cents: int
        category: str
        provider_id: str
        for_member_id: str | None
        confirm_taxable: bool
        expires_at: datetime
        at: datetime
        beneficiary_id: str | None = None  # for the wallet to check it holds the wallet

    @event(FundsHoldRequested)
    def _funds_hold_requested(
        self,
        index: int,
        source: str,
        request_id: str,
        amount_cents: int,
        category: str,
        provider_id: str,
        for_member_id: str | None,
        confirm_taxable: bool,
        expires_at: datetime,
        at: datetime,
        beneficiary_id: str | None = None,
    ) -> None:
        self.component(index).funds[source] = FundsHold(source, amount_cents, request_id)
        self._log("funds_hold_requested", at, index, source, f"{amount_cents} cents")

    class SlotHeld(Aggregate.Event):
        index: int
        request_id: str
        at: datetime

    @event(SlotHeld)
    def _slot_held(self, index: int, request_id: str, at: datetime) -> None:
        hold = self.slot_hold(index, request_id)
        assert hold is not None
        hold.status = "held"
        hold.held_seq = self._next_held()
        self._log("slot_held", at, index, detail=hold.slot_id)

    class SlotHoldRefused(Aggregate.Event):
        index: int
        request_id: str
        reason: str
        at: datetime

    @event(SlotHoldRefused)
    def _slot_hold_refused(self, index: int, request_id: str, reason: str, at: datetime) -> None:
        hold = self.slot_hold(index, request_id)
        assert hold is not None
        hold.status = "refused"
        self._log("slot_hold_refused", at, index, detail=reason)

    class FundsHeld(Aggregate.Event):
        index: int
        source: str
        hold_id: str | None
        at: datetime

    @event(FundsHeld)
    def _funds_held(self, index: int, source: str, hold_id: str | None, at: datetime) -> None:
        funds = self.component(index).funds[source]
        funds.status = "held" if funds.status == "requested" else funds.status
        funds.hold_id = hold_id
        funds.held_seq = self._next_held()
        self._log("funds_held", at, index, source)

    class FundsHoldRefused(Aggregate.Event):
        index: int
        source: str
        reason_code: str
        at: datetime

    @event(FundsHoldRefused)
    def _funds_hold_refused(self, index: int, source: str, reason_code: str, at: datetime) -> None:
        self.component(index).funds[source].status = "refused"
        self._log("funds_hold_refused", at, index, source, reason_code)

    class AcceptanceRequested(Aggregate.Event):
        index: int
        request_id: str
        provider_id: str
        offering_id: str
        starts_at: datetime
        due_at: datetime
        at: datetime

    @event(AcceptanceRequested)
    def _acceptance_requested(
        self,
        index: int,
        request_id: str,
        provider_id: str,
        offering_id: str,
        starts_at: datetime,
        due_at: datetime,
        at: datetime,
    ) -> None:
        self.component(index).acceptance = "requested"
        self._deadline(f"acceptance:{index}", due_at)
        self._log("provider_acceptance_requested", at, index, detail=provider_id)

    class Accepted(Aggregate.Event):
        index: int
        by: str  # "provider", or "instant": accepted on hold
        at: datetime

    @event(Accepted)
    def _accepted(self, index: int, by: str, at: datetime) -> None:
        self.component(index).acceptance = "accepted"
        self._log("provider_accepted", at, index, detail=by)

    class Declined(Aggregate.Event):
        index: int
        reason: str | None
        at: datetime

    @event(Declined)
    def _declined(self, index: int, reason: str | None, at: datetime) -> None:
        self.component(index).acceptance = "declined"
        self._log("provider_declined", at, index, detail=reason)

    class Confirmed(Aggregate.Event):
        beneficiary_id: str
        total_cents: int
        at: datetime

    @event(Confirmed)
    def _confirmed(self, beneficiary_id: str, total_cents: int, at: datetime) -> None:
        self.status = "confirmed"
        for component in self.components:
            component.stage = "booked"
        self._log("confirmed", at)

    class SlotConfirmRequested(Aggregate.Event):
        index: int
        request_id: str
        slot_id: str
        at: datetime

    @event(SlotConfirmRequested)
    def _slot_confirm_requested(
        self, index: int, request_id: str, slot_id: str, at: datetime
    ) -> None:
        hold = self.slot_hold(index, request_id)
        assert hold is not None
        hold.status = "confirm_requested"
        self._log("slot_confirm_requested", at, index, detail=slot_id)

    class SlotConfirmed(Aggregate.Event):
        index: int
        request_id: str
        at: datetime

    @event(SlotConfirmed)
    def _slot_confirmed(self, index: int, request_id: str, at: datetime) -> None:
        hold = self.slot_hold(index, request_id)
        assert hold is not None
        hold.status = "confirmed"
        self._log("slot_confirmed", at, index, detail=hold.slot_id)
