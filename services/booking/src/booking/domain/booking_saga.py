"""The booking saga's hold phase: a booking is requested, every slot and every funding source
is held (in parallel), every provider accepts (an instant offering is accepted on hold), and
the booking is confirmed. Any refusal, a decline or a deadline passing compensates: what was
held is released, in the reverse order it was held, and the requester is told why.

Participants answer by events; each answer is applied once (a repeated or late answer changes
nothing, or releases what it held if the booking is already compensating).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from booking.domain.aftercare_state import AftercareState
from booking.domain.components import (
    MAX_COMPONENTS,
    REASONS,
    Component,
    ComponentSpec,
    FundsHold,
    SlotHold,
    request_id_for,
)
from booking.domain.errors import ConsentMissing, InvalidBooking, InvalidTransition, NotAParty
from booking.domain.funding import CO_PAYMENT, split_by_component, validate_split

REQUESTER_ROLES = ("beneficiary", "delegate", "social_worker")


@dataclass(frozen=True)
class Timings:
    """The saga's clocks: how long participants have to answer a hold, the margin a slot
    hold keeps past the last acceptance deadline, the delivery confirmation window, how long
    money stays held after the last slot for a dispute to be decided."""

    hold_answers: timedelta = timedelta(minutes=30)
    hold_margin: timedelta = timedelta(hours=1)
    max_slot_hold: timedelta = timedelta(days=7)
    confirmation_window: timedelta = timedelta(hours=48)
    dispute_days: timedelta = timedelta(days=30)
    max_funds_hold: timedelta = timedelta(days=365)


TIMINGS = Timings()


def check_requester(requester: dict[str, Any]) -> None:
    if requester.get("role") not in REQUESTER_ROLES:
        raise InvalidBooking(f"a booking is requested by one of {', '.join(REQUESTER_ROLES)}")
    if requester["role"] == "social_worker" and not requester.get("consent_reference"):
        raise ConsentMissing(
            "a social worker books on a beneficiary's behalf with the reference of their consent"
        )


class BookingSaga(AftercareState):
    @classmethod
    def request(
        cls,
        *,
        client_request_id: str,
        caller: str,
        beneficiary_id: str,
        for_member_id: str | None,
        requester: dict[str, Any],
        package_id: str | None,
        specs: Sequence[ComponentSpec],
        split: dict[str, int],
        confirm_taxable: bool,
        now: datetime,
        fingerprint: str = "",
        timings: Timings = TIMINGS,
    ) -> Any:
        """A new booking, with its hold requests sent: one slot hold per component and one
        funds hold per component and paying source (the co-payment is not held)."""
        check_requester(requester)
        if not 1 <= len(specs) <= MAX_COMPONENTS:
            raise InvalidBooking(f"a booking has 1 to {MAX_COMPONENTS} components")
        if len({s.slot_id for s in specs}) != len(specs):
            raise InvalidBooking("a slot appears twice in the booking")
        for spec in specs:
            spec.check(now)
        ordered = sorted(specs, key=lambda s: (s.order, s.starts_at))
        prices = [s.price_cents for s in ordered]
        split = validate_split(sum(prices), split)
        shares = split_by_component(split, prices)
        answers_due = now + timings.hold_answers
        longest = max(timedelta(hours=s.acceptance_hours) for s in ordered)
        hold_expires_at = now + min(
            timings.hold_answers + longest + timings.hold_margin, timings.max_slot_hold
        )
        last_end = max(s.ends_at for s in ordered)
        funds_expire_at = min(
            last_end + timings.confirmation_window + timings.dispute_days,
            now + timings.max_funds_hold,
        )
        booking = cls(
            client_request_id=client_request_id,
            caller=caller,
            beneficiary_id=beneficiary_id,
            for_member_id=for_member_id,
            requester=requester,
            package_id=package_id,
            components=[
                {**s.as_dict(), "shares": share} for s, share in zip(ordered, shares, strict=True)
            ],
            split=split,
            confirm_taxable=confirm_taxable,
            fingerprint=fingerprint,
            answers_due=answers_due,
            hold_expires_at=hold_expires_at,
            funds_expire_at=funds_expire_at,
            at=now,
        )
        booking._send_holds(now)
        return booking

    def _send_holds(self, now: datetime) -> None:
        for c in self.components:
            s = c.spec
            self._slot_hold_requested(
                c.index, c.slot.request_id, s.slot_id, s.offering_id, s.provider_id,
                self.hold_expires_at, now,
            )  # fmt: skip
        for c in self.components:
            for source, cents in c.shares.items():
                if source == CO_PAYMENT or not cents:
                    continue
                request_id = request_id_for(self.id, f"c{c.index}:{self.funds_step(source)}:hold")
                self._funds_hold_requested(
                    c.index, source, request_id, cents, c.spec.category, c.provider_id,
                    self.for_member_id, self.confirm_taxable, self.funds_expire_at, now,
                    self.beneficiary_id,
                )  # fmt: skip

    def funds_step(self, source: str) -> str:
        """A source's short name in request ids (``f1``, ``f2``...: its place in the split):
        account ids may hold characters a request id does not."""
        return f"f{list(self.split).index(source) + 1}"

    # --- finding what an answer is about --------------------------------------------------------

    def find_slot_hold(self, request_id: str) -> tuple[Component, SlotHold] | None:
        for component in self.components:
            hold = self.slot_hold(component.index, request_id)
            if hold is not None:
                return component, hold
        return None

    def find_funds(
        self,
        *,
        request_id: str | None = None,
        hold_id: str | None = None,
        source: str | None = None,
    ) -> tuple[Component, FundsHold] | None:
        """The funds hold an answer names (by the hold's request id or the participant's hold
        id), of ``source`` only when given (hold ids of two participants may be alike)."""
        for component in self.components:
            for funds in component.funds.values():
                if source is not None and funds.source != source:
                    continue
                if (request_id is not None and funds.request_id == request_id) or (
                    hold_id is not None and funds.hold_id == hold_id
                ):
                    return component, funds
        return None

    def all_slot_holds(self) -> Iterator[tuple[Component, SlotHold]]:
        for component in self.components:
            yield component, component.slot
            if component.reschedule is not None:
                yield component, component.reschedule.hold
            for old in component.old_slots:
                yield component, old

    # --- the participants' answers --------------------------------------------------------------

    def slot_held(self, request_id: str, now: datetime) -> None:
        found = self.find_slot_hold(request_id)
        if found is None or found[1].status != "requested":
            return  # not ours, or answered before
        component, hold = found
        self._slot_held(component.index, request_id, now)
        if component.reschedule is not None and component.reschedule.hold is hold:
            self._reschedule_succeeded(component, now)
        elif self.status == "requested":
            self._advance(now)

    def slot_hold_refused(self, request_id: str, reason: str, now: datetime) -> None:
        found = self.find_slot_hold(request_id)
        if found is None or found[1].status not in ("requested", "release_requested"):
            return
        component, hold = found
        self._slot_hold_refused(component.index, request_id, reason[:300], now)
        if component.reschedule is not None and component.reschedule.hold is hold:
            self._reschedule_failed(component.index, component.reschedule.attempt, reason, now)
        elif self.status == "requested":
            self.compensate("slot_unavailable", reason, now)
        self._check_compensated(now)

    def funds_held(
        self, request_id: str, hold_id: str | None, now: datetime, source: str | None = None
    ) -> None:
        found = self.find_funds(request_id=request_id, source=source)
        if found is None or found[1].status not in ("requested", "release_pending"):
            return
        component, funds = found
        self._funds_held(component.index, funds.source, hold_id, now)
        if funds.status == "release_pending":
            self._request_funds_release(component, funds, now)
        elif self.status == "requested":
            self._advance(now)

    def funds_hold_refused(
        self, request_id: str, reason_code: str, now: datetime, source: str | None = None
    ) -> None:
        found = self.find_funds(request_id=request_id, source=source)
        if found is None or found[1].status not in ("requested", "release_pending"):
            return
        component, funds = found
        self._funds_hold_refused(component.index, funds.source, reason_code, now)
        if self.status == "requested":
            self.compensate("funds_refused", reason_code, now)
        self._check_compensated(now)

    def slot_released(self, request_id: str, now: datetime) -> None:
        found = self.find_slot_hold(request_id)
        if found is None or found[1].status != "release_requested":
            return
        self._slot_released(found[0].index, request_id, now)
        self._check_compensated(now)

    def slot_confirmed(self, request_id: str, now: datetime) -> None:
        found = self.find_slot_hold(request_id)
        if found is not None and found[1].status == "confirm_requested":
            self._slot_confirmed(found[0].index, request_id, now)

    # --- providers ------------------------------------------------------------------------------

    def check_provider(self, index: int, provider_id: str) -> Component:
        if not 1 <= index <= len(self.components):
            raise InvalidBooking(f"the booking has no component {index}")
        component = self.component(index)
        if component.provider_id != provider_id:
            raise NotAParty(f"component {index} is not provided by {provider_id}")
        return component

    def accept(self, index: int, provider_id: str, now: datetime) -> None:
        component = self.check_provider(index, provider_id)
        if component.acceptance == "accepted":
            return  # accepted before: a retry
        self.check_awaiting_answer(component)
        self._accepted(index, "provider", now)
        self._advance(now)

    def decline(self, index: int, provider_id: str, reason: str | None, now: datetime) -> None:
        component = self.check_provider(index, provider_id)
        if component.acceptance == "declined":
            return
        self.check_awaiting_answer(component)
        self._declined(index, reason, now)
        self.compensate("provider_declined", reason, now)

    def check_awaiting_answer(self, component: Component) -> None:
        if self.status != "requested" or component.acceptance != "requested":
            raise InvalidTransition(
                f"component {component.index} is not waiting for the provider's answer "
                f"(booking {self.status}, acceptance {component.acceptance})"
            )

    # --- progress -------------------------------------------------------------------------------

    def holds_answered(self) -> bool:
        return all(c.slot.status != "requested" for c in self.components) and all(
            f.status != "requested" for c in self.components for f in c.funds.values()
        )

    def _advance(self, now: datetime) -> None:
        """Once every slot and every source is held, ask the providers (instant offerings are
        accepted on hold); once every provider accepted, confirm."""
        everything_held = all(c.slot.status == "held" for c in self.components) and all(
            f.status == "held" for c in self.components for f in c.funds.values()
        )
        if self.status != "requested" or not everything_held:
            return
        for c in self.components:
            if c.acceptance != "awaiting":
                continue
            if c.spec.instant:
                self._accepted(c.index, "instant", now)
            else:
                due = min(
                    now + timedelta(hours=c.spec.acceptance_hours),
                    c.spec.starts_at,
                    self.hold_expires_at,
                )
                self._acceptance_requested(
                    c.index, request_id_for(self.id, f"c{c.index}:acceptance"), c.provider_id,
                    c.spec.offering_id, c.spec.starts_at, due, now,
                )  # fmt: skip
        if all(c.acceptance == "accepted" for c in self.components):
            total = sum(c.spec.price_cents for c in self.components)
            self._confirmed(self.beneficiary_id, total, now)
            for c in self.components:
                self._slot_confirm_requested(c.index, c.slot.request_id, c.slot.slot_id, now)

    # --- compensation ---------------------------------------------------------------------------

    def compensate(
        self,
        reason_code: str,
        detail: str | None,
        now: datetime,
        client_request_id: str | None = None,
    ) -> None:
        """Release everything held, the last held first; holds not answered yet are released
        as soon as they are (a slot's release goes at once: the catalog refuses a late hold)."""
        if self.status != "requested":
            return
        assert reason_code in REASONS
        self._compensation_started(reason_code, detail, client_request_id, now)
        held: list[tuple[int, Component, SlotHold | FundsHold]] = []
        for c in self.components:
            held.append((c.slot.held_seq, c, c.slot))
            held.extend((f.held_seq, c, f) for f in c.funds.values())
        for seq, component, item in sorted(held, key=lambda h: -h[0]):
            if seq and item.status == "held":
                self._request_release(component, item, now)
        for _, component, item in held:
            if item.status == "requested":
                if isinstance(item, SlotHold):
                    self._request_release(component, item, now)
                else:
                    self._funds_release_pending(component.index, item.source, now)
        self._check_compensated(now)

    def _request_release(
        self, component: Component, item: SlotHold | FundsHold, now: datetime
    ) -> None:
        if isinstance(item, SlotHold):
            self._slot_release_requested(component.index, item.request_id, item.slot_id, now)
        else:
            self._request_funds_release(component, item, now)

    def _request_funds_release(self, component: Component, funds: FundsHold, now: datetime) -> None:
        request_id = request_id_for(
            self.id, f"c{component.index}:{self.funds_step(funds.source)}:release"
        )
        self._funds_release_requested(
            component.index, funds.source, request_id, funds.hold_id, funds.request_id, now
        )

    def _check_compensated(self, now: datetime) -> None:
        if self.status != "compensating":
            return
        slots_done = all(h.status in ("refused", "released") for _, h in self.all_slot_holds())
        funds_done = all(
            f.status in ("refused", "released") for c in self.components for f in c.funds.values()
        )
        if slots_done and funds_done:
            assert self.reason_code is not None
            self._compensated(self.beneficiary_id, self.reason_code, now)

    # --- hooks the after-care part defines ------------------------------------------------------

    def _reschedule_succeeded(self, component: Component, now: datetime) -> None:
        raise NotImplementedError
