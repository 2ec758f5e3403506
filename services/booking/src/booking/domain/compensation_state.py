"""The Booking's compensation events: releases requested (in the reverse order things were
held), released, the booking compensated with the reason its requester is told; and the
firing of a deadline (once each). Appliers only change state; the commands check."""

from __future__ import annotations

from datetime import datetime

from eventsourcing.domain import event
from servicekit.domain import Aggregate

from booking.domain.booking_state import BookingState


class CompensationState(BookingState):
    # --- compensation ---------------------------------------------------------------------------

    class CompensationStarted(Aggregate.Event):
        reason_code: str
        detail: str | None
        client_request_id: str | None  # the requester's cancellation, if it was one
        at: datetime

    @event(CompensationStarted)
    def _compensation_started(
        self, reason_code: str, detail: str | None, client_request_id: str | None, at: datetime
    ) -> None:
        if client_request_id is not None:
            self.requests[client_request_id] = "cancel:family"
        self.status = "compensating"
        self.reason_code = reason_code
        self.reason_detail = detail
        self._log("compensating", at, detail=reason_code)

    class SlotReleaseRequested(Aggregate.Event):
        index: int
        request_id: str
        slot_id: str
        at: datetime

    @event(SlotReleaseRequested)
    def _slot_release_requested(
        self, index: int, request_id: str, slot_id: str, at: datetime
    ) -> None:
        hold = self.slot_hold(index, request_id)
        assert hold is not None
        hold.status = "release_requested"
        self._log("slot_release_requested", at, index, detail=slot_id)

    class SlotReleased(Aggregate.Event):
        index: int
        request_id: str
        at: datetime

    @event(SlotReleased)
    def _slot_released(self, index: int, request_id: str, at: datetime) -> None:
        hold = self.slot_hold(index, request_id)
        assert hold is not None
        hold.status = "released"
        self._log("slot_released", at, index, detail=hold.slot_id)

    class FundsReleaseRequested(Aggregate.Event):
        index: int
        source: str
        request_id: str
        hold_id: str | None
        hold_request_id: str
        at: datetime

    @event(FundsReleaseRequested)
    def _funds_release_requested(
        self,
        index: int,
        source: str,
        request_id: str,
        hold_id: str | None,
        hold_request_id: str,
        at: datetime,
    ) -> None:
        self.component(index).funds[source].status = "release_requested"
        self._log("funds_release_requested", at, index, source)

    class FundsReleasePending(Aggregate.Event):
        index: int
        source: str
        at: datetime

    @event(FundsReleasePending)
    def _funds_release_pending(self, index: int, source: str, at: datetime) -> None:
        self.component(index).funds[source].status = "release_pending"
        self._log("funds_release_pending", at, index, source)

    class FundsReleased(Aggregate.Event):
        index: int
        source: str
        how: str  # "released" or "expired" (the participant's own hold expiry)
        at: datetime

    @event(FundsReleased)
    def _funds_released(self, index: int, source: str, how: str, at: datetime) -> None:
        self.component(index).funds[source].status = "released"
        self._log("funds_released", at, index, source, how)

    class FundsRequestRefused(Aggregate.Event):
        index: int
        source: str
        request: str  # "capture" or "release"
        reason_code: str
        at: datetime

    @event(FundsRequestRefused)
    def _funds_request_refused(
        self, index: int, source: str, request: str, reason_code: str, at: datetime
    ) -> None:
        funds = self.component(index).funds[source]
        funds.status = "capture_refused" if request == "capture" else "release_refused"
        self.stuck.append(
            {"index": index, "source": source, "request": request, "reason_code": reason_code}
        )
        self._log(f"funds_{request}_refused", at, index, source, reason_code)

    class Compensated(Aggregate.Event):
        beneficiary_id: str
        reason_code: str
        at: datetime

    @event(Compensated)
    def _compensated(self, beneficiary_id: str, reason_code: str, at: datetime) -> None:
        self.status = "compensated"
        for component in self.components:
            component.stage = "compensated"
        self._log("compensated", at, detail=reason_code)

    class DeadlineFired(Aggregate.Event):
        key: str
        effect: str
        at: datetime

    @event(DeadlineFired)
    def _deadline_fired(self, key: str, effect: str, at: datetime) -> None:
        self.deadlines[key]["fired"] = True
        if effect != "none":
            self._log("deadline_passed", at, detail=f"{key}: {effect}")
