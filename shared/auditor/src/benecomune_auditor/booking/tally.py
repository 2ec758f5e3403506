"""The auditor's own tally of the booking saga, from the public topics alone: the booking's
requests and facts (``benecomune.booking``), the wallet's and the vouchers service's answers
(``benecomune.wallet``, ``benecomune.vouchers``) and, when read, the catalog's slot answers
(``benecomune.catalog``).

The topics are read one after the other, so an answer may be added before the request it
answers: :meth:`BookingTally.add` only records facts, keyed by the ids the contracts carry, and
:meth:`BookingTally.finish` joins them and checks the rules (its own copy of each):

* ``capture_mismatch``: a captured component's wallet and voucher shares equal what the wallet
  and the vouchers service captured of its holds, its co-payment what was declared due for it,
  and its total their sum, to the cent; ``capture_without_settlement``: a hold of a component
  was captured but the component was never declared captured;
* ``release_unexplained``: a released (or lapsed) hold belongs to a compensated or cancelled
  booking, a cancelled component, or a component whose capture took less than was held;
* ``hold_open_past_deadline``: no hold the booking took is still open past its expiry, at the
  end of the replay (the topics' last event time, or the time given);
* ``slot_not_confirmed``: every component of a confirmed booking had its slot confirmed by the
  catalog (checked only when the catalog topic was read).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from benecomune_contracts import booking as b
from benecomune_contracts import catalog, vouchers, wallet

__all__ = ["BookingTally", "Hold", "Violation"]

Key = tuple[str, int]  # booking id, component


@dataclass(frozen=True)
class Violation:
    rule: str
    booking_id: str
    component: int | None
    detail: str

    def describe(self) -> str:
        where = f"booking {self.booking_id}"
        if self.component is not None:
            where += f" component {self.component}"
        return f"{self.rule}: {where}: {self.detail}"


@dataclass
class Hold:
    """A hold the booking asked for, as its participant answered it."""

    source: str  # wallet | voucher
    account_id: str
    booking_id: str
    component: int
    request_id: str
    asked_cents: int
    hold_id: str | None = None
    held_cents: int = 0
    expires_at: datetime | None = None
    captured_cents: int = 0
    ended: str | None = None  # captured | released | expired


@dataclass
class BookingTally:
    asks: dict[str, b.FundsHoldRequested] = field(default_factory=dict)
    requested: dict[str, b.BookingRequested] = field(default_factory=dict)
    slot_asks: dict[str, Key] = field(default_factory=dict)
    confirmed: set[str] = field(default_factory=set)
    compensated: dict[str, str] = field(default_factory=dict)
    cancelled: set[str] = field(default_factory=set)
    cancelled_components: set[Key] = field(default_factory=set)
    captured: dict[Key, b.ComponentCaptured] = field(default_factory=dict)
    co_payment_due: Counter[Key] = field(default_factory=Counter)
    held: dict[tuple[str, str], Any] = field(default_factory=dict)  # (source, request id)
    captures: dict[tuple[str, str], int] = field(default_factory=dict)  # (source, hold id)
    releases: dict[tuple[str, str], str] = field(default_factory=dict)
    slots_confirmed: set[str] = field(default_factory=set)
    read_catalog: bool = False
    last_event_at: datetime | None = None
    events: int = 0

    # --- recording ---------------------------------------------------------------------------

    def add(self, event: Any) -> None:
        self.events += 1
        handler = getattr(self, f"_on_{type(event).__name__}", None)
        if handler is not None:
            handler(event)
        self._saw(event)

    def _saw(self, event: Any) -> None:
        for name in (
            "requested_at",
            "confirmed_at",
            "compensated_at",
            "cancelled_at",
            "captured_at",
            "held_at",
            "released_at",
            "expired_at",
            "delivered_at",
            "refused_at",
            "due_at",
        ):
            at = getattr(event, name, None)
            if isinstance(at, datetime):
                if self.last_event_at is None or at > self.last_event_at:
                    self.last_event_at = at
                return

    def _on_BookingRequested(self, e: b.BookingRequested) -> None:
        self.requested[e.booking_id] = e

    def _on_SlotHoldRequested(self, e: b.SlotHoldRequested) -> None:
        self.slot_asks[e.request_id] = (e.booking_id, e.component)

    def _on_FundsHoldRequested(self, e: b.FundsHoldRequested) -> None:
        self.asks[e.request_id] = e

    def _on_BookingConfirmed(self, e: b.BookingConfirmed) -> None:
        self.confirmed.add(e.booking_id)

    def _on_BookingCompensated(self, e: b.BookingCompensated) -> None:
        self.compensated[e.booking_id] = e.reason_code

    def _on_BookingCancelled(self, e: b.BookingCancelled) -> None:
        self.cancelled.add(e.booking_id)

    def _on_ComponentCancelled(self, e: b.ComponentCancelled) -> None:
        self.cancelled_components.add((e.booking_id, e.component))

    def _on_ComponentCaptured(self, e: b.ComponentCaptured) -> None:
        self.captured[(e.booking_id, e.component)] = e

    def _on_CoPaymentDue(self, e: b.CoPaymentDue) -> None:
        self.co_payment_due[(e.booking_id, e.component)] += e.amount_cents

    def _on_FundsHeld(self, e: wallet.FundsHeld) -> None:
        self.held[("wallet", e.request_id)] = e

    def _on_HoldCaptured(self, e: wallet.HoldCaptured) -> None:
        self.captures[("wallet", e.hold_id)] = e.amount_cents

    def _on_HoldReleased(self, e: wallet.HoldReleased) -> None:
        self.releases.setdefault(("wallet", e.hold_id), "released")

    def _on_HoldExpired(self, e: wallet.HoldExpired) -> None:
        self.releases.setdefault(("wallet", e.hold_id), "expired")

    def _on_ServiceVoucherHeld(self, e: vouchers.ServiceVoucherHeld) -> None:
        self.held[("voucher", e.request_id)] = e

    def _on_ServiceVoucherCaptured(self, e: vouchers.ServiceVoucherCaptured) -> None:
        self.captures[("voucher", e.hold_id)] = e.amount_cents

    def _on_ServiceVoucherReleased(self, e: vouchers.ServiceVoucherReleased) -> None:
        self.releases.setdefault(("voucher", e.hold_id), "expired" if e.lapsed else "released")

    def _on_SlotHoldConfirmed(self, e: catalog.SlotHoldConfirmed) -> None:
        self.slots_confirmed.add(e.request_id)

    # --- joining -----------------------------------------------------------------------------

    def holds(self) -> list[Hold]:
        """Every hold the booking asked for, with what its participant did with it."""
        found = []
        for request_id, ask in self.asks.items():
            hold = Hold(
                ask.source,
                ask.account_id,
                ask.booking_id,
                ask.component,
                request_id,
                ask.amount_cents,
            )
            answer = self.held.get((ask.source, request_id))
            if answer is not None and _account_of(answer) == ask.account_id:
                hold.hold_id = answer.hold_id
                hold.held_cents = answer.amount_cents
                hold.expires_at = answer.expires_at
                key = (ask.source, answer.hold_id)
                if key in self.captures:
                    hold.captured_cents, hold.ended = self.captures[key], "captured"
                elif key in self.releases:
                    hold.ended = self.releases[key]
            found.append(hold)
        return found

    def finish(self, as_of: datetime | None = None) -> tuple[list[Violation], dict[str, Any]]:
        """The violations found and the figures, at ``as_of`` (default: the last event)."""
        as_of = as_of or self.last_event_at
        holds = self.holds()
        by_component: dict[Key, list[Hold]] = defaultdict(list)
        for hold in holds:
            by_component[(hold.booking_id, hold.component)].append(hold)
        violations = [
            *self._check_captures(by_component),
            *self._check_releases(holds),
            *self._check_open(holds, as_of),
            *self._check_slots(),
        ]
        return violations, self._figures(holds, as_of)

    def _check_captures(self, by_component: dict[Key, list[Hold]]) -> list[Violation]:
        found = []
        for (booking_id, index), e in sorted(self.captured.items()):
            paid: Counter[tuple[str, str | None]] = Counter()
            for share in e.paid:
                paid[(share.source, share.account_id)] += share.amount_cents
            if sum(paid.values()) != e.total_cents:
                found.append(
                    Violation(
                        "capture_mismatch",
                        booking_id,
                        index,
                        f"total {e.total_cents} cents is not the sum of its shares "
                        f"{sum(paid.values())}",
                    )
                )
            took: Counter[tuple[str, str | None]] = Counter()
            for hold in by_component.get((booking_id, index), []):
                took[(hold.source, hold.account_id)] += hold.captured_cents
            for key in sorted(set(paid) | set(took), key=str):
                if key[0] == "co_payment":
                    due = self.co_payment_due[(booking_id, index)]
                    if paid[key] != due:
                        found.append(
                            Violation(
                                "capture_mismatch",
                                booking_id,
                                index,
                                f"co-payment {paid[key]} cents, declared due {due}",
                            )
                        )
                elif paid[key] != took[key]:
                    found.append(
                        Violation(
                            "capture_mismatch",
                            booking_id,
                            index,
                            f"{key[0]} {key[1]} paid {paid[key]} cents, its holds captured "
                            f"{took[key]}",
                        )
                    )
            if (
                "co_payment" not in {k[0] for k in paid}
                and self.co_payment_due[(booking_id, index)]
            ):
                found.append(
                    Violation(
                        "capture_mismatch",
                        booking_id,
                        index,
                        f"co-payment declared due {self.co_payment_due[(booking_id, index)]} "
                        "cents, none in the capture",
                    )
                )
        for (booking_id, index), component_holds in sorted(by_component.items()):
            took_any = [h for h in component_holds if h.ended == "captured"]
            if took_any and (booking_id, index) not in self.captured:
                found.append(
                    Violation(
                        "capture_without_settlement",
                        booking_id,
                        index,
                        f"{len(took_any)} hold(s) captured, the component never declared captured",
                    )
                )
        return found

    def _check_releases(self, holds: list[Hold]) -> list[Violation]:
        found = []
        for hold in holds:
            if hold.ended not in ("released", "expired"):
                continue
            key = (hold.booking_id, hold.component)
            if hold.booking_id in self.compensated or hold.booking_id in self.cancelled:
                continue
            if key in self.cancelled_components:
                continue
            capture = self.captured.get(key)
            if capture is not None:
                share = sum(
                    s.amount_cents
                    for s in capture.paid
                    if s.source == hold.source and s.account_id == hold.account_id
                )
                if share < hold.held_cents:
                    continue
            found.append(
                Violation(
                    "release_unexplained",
                    hold.booking_id,
                    hold.component,
                    f"{hold.source} {hold.account_id} hold {hold.hold_id} {hold.ended} "
                    f"({hold.held_cents} cents) for a booking neither compensated nor cancelled",
                )
            )
        return found

    def _check_open(self, holds: list[Hold], as_of: datetime | None) -> list[Violation]:
        if as_of is None:
            return []
        return [
            Violation(
                "hold_open_past_deadline",
                h.booking_id,
                h.component,
                f"{h.source} {h.account_id} hold {h.hold_id} of {h.held_cents} cents expired "
                f"at {h.expires_at.isoformat()}, still open at {as_of.isoformat()}",
            )
            for h in holds
            if h.hold_id is not None
            and h.ended is None
            and h.expires_at is not None
            and h.expires_at < as_of
        ]

    def _check_slots(self) -> list[Violation]:
        if not self.read_catalog:
            return []
        confirmed_components = {
            self.slot_asks[r] for r in self.slots_confirmed if r in self.slot_asks
        }
        found = []
        for booking_id in sorted(self.confirmed):
            request = self.requested.get(booking_id)
            if request is None:
                found.append(
                    Violation(
                        "slot_not_confirmed",
                        booking_id,
                        None,
                        "confirmed, but its request was never seen",
                    )
                )
                continue
            for c in request.components:
                if (booking_id, c.component) not in confirmed_components:
                    found.append(
                        Violation(
                            "slot_not_confirmed",
                            booking_id,
                            c.component,
                            f"slot {c.slot_id} never confirmed by the catalog",
                        )
                    )
        return found

    def _figures(self, holds: list[Hold], as_of: datetime | None) -> dict[str, Any]:
        paid: Counter[str] = Counter()
        for e in self.captured.values():
            for share in e.paid:
                paid[share.source] += share.amount_cents
        open_holds = [h for h in holds if h.hold_id is not None and h.ended is None]
        return {
            "events": self.events,
            "as_of": as_of.isoformat() if as_of else None,
            "bookings_requested": len(self.requested),
            "bookings_confirmed": len(self.confirmed),
            "bookings_compensated": len(self.compensated),
            "bookings_cancelled": len(self.cancelled),
            "components_captured": len(self.captured),
            "captured_wallet_cents": paid["wallet"],
            "captured_voucher_cents": paid["voucher"],
            "co_payment_cents": paid["co_payment"],
            "holds_asked": len(holds),
            "holds_open": len(open_holds),
            "held_open_cents": sum(h.held_cents for h in open_holds),
        }


def _account_of(answer: Any) -> str:
    return str(getattr(answer, "wallet_id", None) or getattr(answer, "voucher_id", ""))
