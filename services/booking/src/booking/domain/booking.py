"""The Booking: the saga of :mod:`booking.domain.booking_saga` and what follows confirmation,
per component — delivery, its confirmation (by the family, or automatically after 48 hours
unless disputed), the operator's decision on a dispute, settlement (each funding source
captures its share, to the cent; the co-payment is recorded as due to the provider),
cancellation with the offering's policy, no-show, rescheduling — and the deadlines, fired
once each by :meth:`Booking.fire_due_deadlines`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from booking.domain.booking_saga import TIMINGS, BookingSaga, Timings
from booking.domain.components import Component, FundsHold, check_slot_times, request_id_for
from booking.domain.errors import InvalidAmount, InvalidBooking, InvalidTransition, RequestReused
from booking.domain.funding import CO_PAYMENT, apportion, percent_of

Decision = Literal["capture", "partial_capture", "refund"]
CancelledBy = Literal["family", "provider"]


class Booking(BookingSaga):
    # --- delivery -------------------------------------------------------------------------------

    def check_confirmed(self) -> None:
        if self.status != "confirmed":
            raise InvalidTransition(f"the booking is {self.status}, not confirmed")

    def deliver(
        self,
        index: int,
        provider_id: str,
        note: str | None,
        now: datetime,
        timings: Timings = TIMINGS,
    ) -> None:
        component = self.check_provider(index, provider_id)
        if component.stage in ("delivered", "disputed", "settling", "captured"):
            return  # marked before: a retry
        self.check_confirmed()
        self.check_stage(component, "booked")
        if now < component.slot.starts_at:
            raise InvalidTransition(
                f"component {index} starts at {component.slot.starts_at.isoformat()}: it is "
                "delivered once its slot has started"
            )
        due = now + timings.confirmation_window
        self._delivered(index, provider_id, note, due, now)

    def check_stage(self, component: Component, *stages: str) -> None:
        if component.stage not in stages:
            raise InvalidTransition(
                f"component {component.index} is {component.stage}, not {' or '.join(stages)}"
            )

    def check_component(self, index: int) -> Component:
        if not 1 <= index <= len(self.components):
            raise InvalidBooking(f"the booking has no component {index}")
        return self.component(index)

    def confirm_delivery(self, index: int, by: str, now: datetime) -> None:
        component = self.check_component(index)
        if component.stage in ("settling", "captured") and not component.dispute_reason:
            return  # confirmed before
        self.check_stage(component, "delivered")
        self._delivery_confirmed(index, by, now)
        self._settle(component, "delivery", dict(component.shares), now)

    def dispute(self, index: int, reason: str, now: datetime) -> None:
        component = self.check_component(index)
        if component.stage == "disputed":
            return
        self.check_stage(component, "delivered")
        self._disputed(index, reason, now)

    def resolve(
        self,
        index: int,
        decision: Decision,
        amount_cents: int | None,
        note: str | None,
        now: datetime,
    ) -> None:
        """The operator's decision on a disputed component: capture its price, capture part of
        it (shared across the sources in proportion to the split), or capture nothing."""
        component = self.check_component(index)
        self.check_stage(component, "disputed")
        price = component.spec.price_cents
        if decision == "capture":
            amount = price
        elif decision == "refund":
            amount = 0
        else:
            if amount_cents is None or not 0 < amount_cents < price:
                raise InvalidAmount(
                    f"a partial capture is more than 0 and less than the price ({price} cents)",
                    price_cents=price,
                )
            amount = amount_cents
        self._dispute_resolved(index, decision, amount, note, now)
        self._settle(component, "resolution", apportion(amount, component.shares), now)

    # --- settlement -----------------------------------------------------------------------------

    def _settle(self, c: Component, why: str, settlement: dict[str, int], now: datetime) -> None:
        """Each held source captures its part of ``settlement`` (the participant releases the
        rest of its hold) or, for nothing, is released; the co-payment's part is due."""
        self._settlement_started(c.index, why, settlement, now)
        for source, funds in c.funds.items():
            if funds.status != "held":
                continue  # refused, or the participant's hold expired: nothing to take
            cents = settlement.get(source, 0)
            if cents:
                request_id = request_id_for(
                    self.id, f"c{c.index}:{self.funds_step(source)}:capture"
                )
                self._funds_capture_requested(
                    c.index, source, request_id, funds.hold_id, funds.request_id,
                    c.provider_id, cents, now,
                )  # fmt: skip
            else:
                self._request_funds_release(c, funds, now)
        if settlement.get(CO_PAYMENT):
            self._co_payment_due(c.index, c.provider_id, settlement[CO_PAYMENT], why, now)
        self._check_settled(c, now)

    def funds_captured(
        self, hold_id: str, amount_cents: int, now: datetime, source: str | None = None
    ) -> None:
        found = self.find_funds(hold_id=hold_id, source=source)
        if found is None or found[1].status != "capture_requested":
            return
        component, funds = found
        self._funds_captured(component.index, funds.source, amount_cents, now)
        self._check_settled(component, now)

    def funds_released(
        self, hold_id: str, how: str, now: datetime, source: str | None = None
    ) -> None:
        """The participant released the hold (asked, or at its own expiry)."""
        found = self.find_funds(hold_id=hold_id, source=source)
        if found is None or found[1].status in ("released", "refused", "captured"):
            return
        self._release_done(found[0], found[1], how, now)

    def _release_done(
        self, component: Component, funds: FundsHold, how: str, now: datetime
    ) -> None:
        self._funds_released(component.index, funds.source, how, now)
        self._check_compensated(now)
        self._check_settled(component, now)

    def funds_request_refused(
        self,
        hold_request_id: str,
        request: Literal["capture", "release"],
        reason_code: str,
        not_held: bool,
        now: datetime,
        source: str | None = None,
    ) -> None:
        """The participant refused a capture or a release of the hold ``hold_request_id``.
        ``not_held``: it holds nothing any more (the hold was released or lapsed, its money went
        back; or it never knew it): the source pays nothing, as if released, and the booking
        goes on. Otherwise the money stays held and the booking cannot settle by itself: the
        component's funds are marked refused with the reason, and the operator sees the
        booking as stuck (``GET /operator/bookings?view=stuck``) at once."""
        found = self.find_funds(request_id=hold_request_id, source=source)
        if found is None or found[1].status != f"{request}_requested":
            return  # answered before, or not ours
        component, funds = found
        if not_held:
            self._release_done(component, funds, f"not_held:{reason_code}", now)
        else:
            self._funds_request_refused(component.index, funds.source, request, reason_code, now)

    def _check_settled(self, c: Component, now: datetime) -> None:
        if not c.settlement or c.settled:
            return
        if all(f.status in ("captured", "released", "refused") for f in c.funds.values()):
            paid = {
                source: (c.funds[source].captured_cents if source in c.funds else cents)
                for source, cents in c.settlement.items()
            }
            self._component_captured(c.index, c.provider_id, paid, now)
        everything_cancelled = all(x.stage == "cancelled" for x in self.components)
        all_settled = all(x.settled for x in self.components)
        if self.status == "confirmed" and all_settled and not everything_cancelled:
            self._completed(now)

    def mark_co_payment_paid(self, index: int, provider_id: str, now: datetime) -> None:
        component = self.check_provider(index, provider_id)
        if component.co_payment_paid:
            return
        if not component.co_payment_due_cents:
            raise InvalidTransition(f"no co-payment is due for component {index}")
        self._co_payment_paid(index, now)

    # --- cancellation and no-show ---------------------------------------------------------------

    def check_request(self, client_request_id: str, asked: str) -> bool:
        """True when this request id already did this (a retry); refused if it did another."""
        done = self.requests.get(client_request_id)
        if done is None:
            return False
        if done != asked:
            raise RequestReused(f"request {client_request_id} already asked for {done}")
        return True

    def cancellable(
        self, by: CancelledBy, provider_id: str | None, now: datetime
    ) -> list[Component]:
        return [
            c
            for c in self.components
            if c.stage == "booked"
            and now < c.slot.starts_at
            and (by == "family" or c.provider_id == provider_id)
        ]

    def cancellation_fees(
        self, by: CancelledBy, provider_id: str | None, now: datetime
    ) -> list[dict[str, Any]]:
        """What cancelling now would cost, per component and per source (the preview)."""
        fees = []
        for c in self.cancellable(by, provider_id, now):
            fee = (
                0
                if by == "provider"
                else c.spec.policy.fee_cents(c.spec.price_cents, c.slot.starts_at, now)
            )
            fees.append({"index": c.index, "fee_cents": fee, "by_source": apportion(fee, c.shares)})
        return fees

    def cancel(
        self, client_request_id: str, by: CancelledBy, now: datetime, provider_id: str | None = None
    ) -> None:
        if self.check_request(client_request_id, f"cancel:{by}"):
            return
        if self.status == "requested" and by == "family":
            self.compensate("cancelled_by_requester", None, now, client_request_id)
            return
        self.check_confirmed()
        fees = self.cancellation_fees(by, provider_id, now)
        if not fees:
            raise InvalidTransition("nothing left to cancel: every component has started or ended")
        for fee in fees:
            c = self.component(fee["index"])
            self._component_cancelled(c.index, c.provider_id, by, fee["fee_cents"], now)
            if c.reschedule is not None:
                self._fail_reschedule(c, "cancelled", now)
            self._slot_release_requested(c.index, c.slot.request_id, c.slot.slot_id, now)
            self._settle(c, "cancellation", fee["by_source"], now)
        fee_total = sum(f["fee_cents"] for f in fees)
        self._cancelled(client_request_id, self.beneficiary_id, by, fee_total, now)

    def no_show(self, index: int, provider_id: str, now: datetime) -> None:
        component = self.check_provider(index, provider_id)
        if component.stage == "no_show":
            return
        self.check_confirmed()
        self.check_stage(component, "booked")
        if now < component.slot.starts_at:
            raise InvalidTransition(f"component {index} has not started yet: no no-show before")
        fee = percent_of(component.spec.price_cents, component.spec.policy.no_show_fee_percent)
        self._no_show(index, provider_id, fee, now)
        self._settle(component, "no_show", apportion(fee, component.shares), now)

    # --- rescheduling ---------------------------------------------------------------------------

    def reschedule(
        self,
        index: int,
        client_request_id: str,
        slot_id: str,
        starts_at: datetime,
        ends_at: datetime,
        now: datetime,
        timings: Timings = TIMINGS,
    ) -> None:
        """Move a component to another slot of its offering: the new slot is held first, and
        only once it is held is the old one released (a refusal leaves it as it was)."""
        if self.check_request(client_request_id, f"reschedule:{index}:{slot_id}"):
            return
        component = self.check_component(index)
        self.check_confirmed()
        self.check_stage(component, "booked")
        if component.reschedule is not None:
            raise InvalidTransition(f"component {index} is already being moved")
        if now >= component.slot.starts_at:
            raise InvalidTransition(f"component {index} has started: it cannot be moved")
        if slot_id == component.slot.slot_id or any(
            h.slot_id == slot_id for h in component.old_slots
        ):
            raise InvalidBooking("move to a slot the component has not held before")
        check_slot_times(starts_at, ends_at, now)
        if ends_at + timings.confirmation_window > self.funds_expire_at:
            raise InvalidBooking(
                "the new slot ends after the money is held until: cancel and book again"
            )
        attempt = component.reschedules + 1
        request_id = request_id_for(self.id, f"c{index}:slot:r{attempt}")
        due = now + timings.hold_answers
        self._reschedule_requested(
            index, attempt, client_request_id, request_id, slot_id, starts_at, ends_at, due, now
        )
        self._slot_hold_requested(
            index, request_id, slot_id, component.spec.offering_id, component.provider_id,
            min(due + timings.hold_margin, starts_at), now,
        )  # fmt: skip

    def _reschedule_succeeded(self, component: Component, now: datetime) -> None:
        assert component.reschedule is not None
        old, new = component.slot, component.reschedule.hold
        self._rescheduled(
            component.index, component.reschedule.attempt, component.provider_id, new.slot_id,
            new.starts_at, now,
        )  # fmt: skip
        self._slot_release_requested(component.index, old.request_id, old.slot_id, now)
        self._slot_confirm_requested(component.index, new.request_id, new.slot_id, now)

    def _fail_reschedule(self, component: Component, reason: str, now: datetime) -> None:
        assert component.reschedule is not None
        hold = component.reschedule.hold
        self._reschedule_failed(component.index, component.reschedule.attempt, reason, now)
        if hold.status in ("requested", "held"):
            self._slot_release_requested(component.index, hold.request_id, hold.slot_id, now)

    # --- deadlines ------------------------------------------------------------------------------

    def due_deadlines(self, now: datetime) -> list[str]:
        due = [
            (d["due_at"], k)
            for k, d in self.deadlines.items()
            if not d["fired"] and d["due_at"] <= now
        ]
        return [key for _, key in sorted(due)]

    def next_deadline(self) -> datetime | None:
        pending = [d["due_at"] for d in self.deadlines.values() if not d["fired"]]
        return min(pending) if pending else None

    def fire_due_deadlines(self, now: datetime) -> list[str]:
        """Apply every deadline due at ``now`` that has not fired yet, once: the hold answers,
        the slot hold's expiry and the providers' acceptance (compensate unless confirmed),
        the delivery confirmation window (confirm unless disputed), a move's answer (fail it).
        Returns the keys fired."""
        fired = self.due_deadlines(now)
        for key in fired:
            effect = self._effect_of(key)
            self._deadline_fired(key, effect, now)
            rest = key.partition(":")[2]
            if effect.startswith("compensate:"):
                self.compensate(effect.partition(":")[2], None, now)
            elif effect == "confirm_delivery":
                self.confirm_delivery(int(rest), "automatic", now)
            elif effect == "fail_reschedule":
                self._fail_reschedule(self.component(int(rest.partition(":")[0])), "no_answer", now)
        return fired

    def _effect_of(self, key: str) -> str:
        kind, _, rest = key.partition(":")
        if kind == "holds" and self.status == "requested" and not self.holds_answered():
            return "compensate:holds_unanswered"
        if kind == "hold_expiry" and self.status == "requested":
            return "compensate:hold_expired"
        if (
            kind == "acceptance"
            and self.status == "requested"
            and self.component(int(rest)).acceptance == "requested"
        ):
            return "compensate:provider_no_answer"
        if kind == "confirmation" and self.component(int(rest)).stage == "delivered":
            return "confirm_delivery"
        if kind == "reschedule":
            index, _, attempt = rest.partition(":")
            pending = self.component(int(index)).reschedule
            if pending is not None and pending.attempt == int(attempt):
                return "fail_reschedule"
        return "none"
