"""The Booking's events after confirmation: delivery, disputes, settlement (captures and
releases per funding source, the co-payment due), cancellation, no-show and rescheduling.
As in :mod:`booking.domain.booking_state`, appliers only change state; the commands check."""

from __future__ import annotations

from datetime import datetime

from eventsourcing.domain import event
from servicekit.domain import Aggregate

from booking.domain.compensation_state import CompensationState
from booking.domain.components import Reschedule, SlotHold


class AftercareState(CompensationState):
    class Delivered(Aggregate.Event):
        index: int
        provider_id: str
        note: str | None
        confirmation_due: datetime
        at: datetime

    @event(Delivered)
    def _delivered(
        self,
        index: int,
        provider_id: str,
        note: str | None,
        confirmation_due: datetime,
        at: datetime,
    ) -> None:
        component = self.component(index)
        component.stage = "delivered"
        component.note = note
        self._deadline(f"confirmation:{index}", confirmation_due)
        self._log("delivered", at, index, detail=note)

    class DeliveryConfirmed(Aggregate.Event):
        index: int
        by: str  # "beneficiary", "delegate", "automatic"
        at: datetime

    @event(DeliveryConfirmed)
    def _delivery_confirmed(self, index: int, by: str, at: datetime) -> None:
        self._log("delivery_confirmed", at, index, detail=by)

    class Disputed(Aggregate.Event):
        index: int
        reason: str
        at: datetime

    @event(Disputed)
    def _disputed(self, index: int, reason: str, at: datetime) -> None:
        component = self.component(index)
        component.stage = "disputed"
        component.dispute_reason = reason
        self._log("disputed", at, index, detail=reason)  # the family's words, for the timeline

    class DisputeResolved(Aggregate.Event):
        index: int
        decision: str  # "capture", "partial_capture", "refund"
        amount_cents: int
        note: str | None
        at: datetime

    @event(DisputeResolved)
    def _dispute_resolved(
        self, index: int, decision: str, amount_cents: int, note: str | None, at: datetime
    ) -> None:
        self._log("dispute_resolved", at, index, detail=f"{decision}: {amount_cents} cents")

    # --- settlement: what each source finally pays --------------------------------------------

    class SettlementStarted(Aggregate.Event):
        index: int
        why: str  # "delivery", "resolution", "cancellation", "no_show"
        settlement: dict[str, int]
        at: datetime

    @event(SettlementStarted)
    def _settlement_started(
        self, index: int, why: str, settlement: dict[str, int], at: datetime
    ) -> None:
        component = self.component(index)
        component.settlement = dict(settlement)
        if component.stage not in ("cancelled", "no_show"):
            component.stage = "settling"
        total = sum(settlement.values())
        self._log("settlement_started", at, index, detail=f"{why}: {total} cents")

    class FundsCaptureRequested(Aggregate.Event):
        index: int
        source: str
        request_id: str
        hold_id: str | None
        hold_request_id: str
        provider_id: str
        amount_cents: int
        at: datetime

    @event(FundsCaptureRequested)
    def _funds_capture_requested(
        self,
        index: int,
        source: str,
        request_id: str,
        hold_id: str | None,
        hold_request_id: str,
        provider_id: str,
        amount_cents: int,
        at: datetime,
    ) -> None:
        self.component(index).funds[source].status = "capture_requested"
        self._log("funds_capture_requested", at, index, source, f"{amount_cents} cents")

    class FundsCaptured(Aggregate.Event):
        index: int
        source: str
        amount_cents: int
        at: datetime

    @event(FundsCaptured)
    def _funds_captured(self, index: int, source: str, amount_cents: int, at: datetime) -> None:
        funds = self.component(index).funds[source]
        funds.status = "captured"
        funds.captured_cents = amount_cents
        self._log("funds_captured", at, index, source, f"{amount_cents} cents")

    class CoPaymentDue(Aggregate.Event):
        index: int
        provider_id: str
        amount_cents: int
        why: str
        at: datetime

    @event(CoPaymentDue)
    def _co_payment_due(
        self, index: int, provider_id: str, amount_cents: int, why: str, at: datetime
    ) -> None:
        self.component(index).co_payment_due_cents += amount_cents
        self._log("co_payment_due", at, index, "co_payment", f"{amount_cents} cents")

    class ComponentCaptured(Aggregate.Event):
        index: int
        provider_id: str
        settlement: dict[str, int]
        at: datetime

    @event(ComponentCaptured)
    def _component_captured(
        self, index: int, provider_id: str, settlement: dict[str, int], at: datetime
    ) -> None:
        component = self.component(index)
        if component.stage == "settling":
            component.stage = "captured"
        component.settled = True
        self._log("settled", at, index, detail=f"{sum(settlement.values())} cents")

    class Completed(Aggregate.Event):
        at: datetime

    @event(Completed)
    def _completed(self, at: datetime) -> None:
        self.status = "completed"
        self._log("completed", at)

    # --- cancellation and no-show -------------------------------------------------------------

    class ComponentCancelled(Aggregate.Event):
        index: int
        provider_id: str
        by: str  # "family" or "provider"
        fee_cents: int
        at: datetime

    @event(ComponentCancelled)
    def _component_cancelled(
        self, index: int, provider_id: str, by: str, fee_cents: int, at: datetime
    ) -> None:
        self.component(index).stage = "cancelled"
        self._log("component_cancelled", at, index, detail=f"by {by}, fee {fee_cents} cents")

    class Cancelled(Aggregate.Event):
        client_request_id: str
        beneficiary_id: str
        by: str
        fee_cents: int
        at: datetime

    @event(Cancelled)
    def _cancelled(
        self, client_request_id: str, beneficiary_id: str, by: str, fee_cents: int, at: datetime
    ) -> None:
        self.requests[client_request_id] = f"cancel:{by}"
        if all(c.stage == "cancelled" for c in self.components):
            self.status = "cancelled"
        self._log("cancelled", at, detail=f"by {by}, fee {fee_cents} cents")

    class NoShow(Aggregate.Event):
        index: int
        provider_id: str
        fee_cents: int
        at: datetime

    @event(NoShow)
    def _no_show(self, index: int, provider_id: str, fee_cents: int, at: datetime) -> None:
        self.component(index).stage = "no_show"
        self._log("no_show", at, index, detail=f"fee {fee_cents} cents")

    # --- rescheduling -------------------------------------------------------------------------

    class RescheduleRequested(Aggregate.Event):
        index: int
        attempt: int
        client_request_id: str
        request_id: str
        slot_id: str
        starts_at: datetime
        ends_at: datetime
        due_at: datetime
        at: datetime

    @event(RescheduleRequested)
    def _reschedule_requested(
        self,
        index: int,
        attempt: int,
        client_request_id: str,
        request_id: str,
        slot_id: str,
        starts_at: datetime,
        ends_at: datetime,
        due_at: datetime,
        at: datetime,
    ) -> None:
        component = self.component(index)
        hold = SlotHold(slot_id, starts_at, ends_at, request_id)
        component.reschedule = Reschedule(attempt, hold, client_request_id)
        component.reschedules = attempt
        self.requests[client_request_id] = f"reschedule:{index}:{slot_id}"
        self._deadline(f"reschedule:{index}:{attempt}", due_at)
        self._log("reschedule_requested", at, index, detail=slot_id)

    class Rescheduled(Aggregate.Event):
        index: int
        attempt: int
        provider_id: str
        slot_id: str
        starts_at: datetime
        at: datetime

    @event(Rescheduled)
    def _rescheduled(
        self,
        index: int,
        attempt: int,
        provider_id: str,
        slot_id: str,
        starts_at: datetime,
        at: datetime,
    ) -> None:
        component = self.component(index)
        assert component.reschedule is not None
        component.old_slots.append(component.slot)
        component.slot = component.reschedule.hold
        component.reschedule = None
        self._log("rescheduled", at, index, detail=slot_id)

    class RescheduleFailed(Aggregate.Event):
        index: int
        attempt: int
        reason: str
        at: datetime

    @event(RescheduleFailed)
    def _reschedule_failed(self, index: int, attempt: int, reason: str, at: datetime) -> None:
        component = self.component(index)
        assert component.reschedule is not None
        component.old_slots.append(component.reschedule.hold)
        component.reschedule = None
        self._log("reschedule_failed", at, index, detail=reason)

    class CoPaymentPaid(Aggregate.Event):
        index: int
        at: datetime

    @event(CoPaymentPaid)
    def _co_payment_paid(self, index: int, at: datetime) -> None:
        self.component(index).co_payment_paid = True
        self._log("co_payment_paid", at, index, "co_payment")
