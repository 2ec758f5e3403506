"""What a booking is made of: its components (one offering, one slot, one provider each), the
holds it takes at the participants, its cancellation policy, and the reasons a requester is
told. Plain values and small state holders; the Booking aggregate changes them only through
its events."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal
from uuid import UUID

from booking.domain.errors import InvalidBooking
from booking.domain.funding import check_cents, percent_of

MAX_COMPONENTS = 10
MAX_ACCEPTANCE_HOURS = 72
MAX_FREE_UNTIL_HOURS = 24 * 30
MAX_DAYS_AHEAD = 365
MAX_SLOT_DAYS = 31

SlotStatus = Literal[
    "requested",
    "held",
    "refused",
    "confirm_requested",
    "confirmed",
    "release_requested",
    "released",
]
FundsStatus = Literal[
    "requested",
    "held",
    "refused",
    "release_pending",  # released as soon as the participant answers the hold
    "release_requested",
    "released",
    "capture_requested",
    "captured",
    "capture_refused",  # the participant refused the capture and still holds the money
    "release_refused",  # the participant refused the release and still holds the money
]
Acceptance = Literal["instant", "awaiting", "requested", "accepted", "declined"]
Stage = Literal[
    "booking",  # the saga is holding and asking
    "booked",  # confirmed, waiting for its slot
    "delivered",
    "disputed",
    "settling",  # captures and releases requested
    "captured",
    "cancelled",
    "no_show",
    "compensated",
]
TERMINAL_STAGES = frozenset({"captured", "cancelled", "no_show", "compensated"})


def request_id_for(booking_id: UUID, step: str) -> str:
    """The id of a request the booking sends a participant: the same booking and step always
    give the same id, so a request sent again is recognised (idempotent at the participant),
    and the answer names the booking it belongs to."""
    return f"booking:{booking_id}:{step}"


def booking_of(request_id: str) -> UUID | None:
    """The booking a participant's answer belongs to, from its request id (None: not ours)."""
    prefix, _, rest = request_id.partition(":")
    if prefix != "booking":
        return None
    try:
        return UUID(rest.partition(":")[0])
    except ValueError:
        return None


@dataclass(frozen=True)
class CancellationPolicy:
    """Free until ``free_until_hours`` before the slot starts, then ``fee_percent`` of the
    component's price; a no-show costs ``no_show_fee_percent``. A provider's cancellation is
    always free for the family."""

    free_until_hours: int = 48
    fee_percent: int = 50
    no_show_fee_percent: int = 100

    def __post_init__(self) -> None:
        if not 0 <= self.free_until_hours <= MAX_FREE_UNTIL_HOURS:
            raise InvalidBooking(
                f"free cancellation ends 0 to {MAX_FREE_UNTIL_HOURS} hours before the slot"
            )
        for percent in (self.fee_percent, self.no_show_fee_percent):
            if not 0 <= percent <= 100:
                raise InvalidBooking(f"a fee is 0 to 100 percent, not {percent}")

    def fee_cents(self, price_cents: int, starts_at: datetime, now: datetime) -> int:
        """The family's fee for cancelling at ``now`` a component starting at ``starts_at``."""
        if starts_at - now >= timedelta(hours=self.free_until_hours):
            return 0
        return percent_of(price_cents, self.fee_percent)

    def as_dict(self) -> dict[str, int]:
        return {
            "free_until_hours": self.free_until_hours,
            "fee_percent": self.fee_percent,
            "no_show_fee_percent": self.no_show_fee_percent,
        }


@dataclass(frozen=True)
class ComponentSpec:
    """One offering of the booking as requested: its provider, slot, price and rules (today
    from the request; later from the catalog's events)."""

    offering_id: str
    provider_id: str
    slot_id: str
    starts_at: datetime
    ends_at: datetime
    price_cents: int
    category: str
    instant: bool
    acceptance_hours: int
    policy: CancellationPolicy
    order: int = 1

    def check(self, now: datetime) -> None:
        check_cents(self.price_cents, "a component's price")
        check_slot_times(self.starts_at, self.ends_at, now)
        if self.instant and self.acceptance_hours:
            raise InvalidBooking("an instant offering needs no acceptance deadline")
        if not self.instant and not 1 <= self.acceptance_hours <= MAX_ACCEPTANCE_HOURS:
            raise InvalidBooking(
                f"a provider accepts within 1 to {MAX_ACCEPTANCE_HOURS} hours, "
                f"not {self.acceptance_hours}"
            )

    def as_dict(self) -> dict[str, Any]:
        return {
            "offering_id": self.offering_id,
            "provider_id": self.provider_id,
            "slot_id": self.slot_id,
            "starts_at": self.starts_at,
            "ends_at": self.ends_at,
            "price_cents": self.price_cents,
            "category": self.category,
            "instant": self.instant,
            "acceptance_hours": self.acceptance_hours,
            "policy": self.policy.as_dict(),
            "order": self.order,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ComponentSpec:
        return cls(**{**data, "policy": CancellationPolicy(**data["policy"])})


def check_slot_times(starts_at: datetime, ends_at: datetime, now: datetime) -> None:
    """A slot starts in the future, at most a year ahead, and lasts at most a month."""
    if starts_at.utcoffset() is None or ends_at.utcoffset() is None:
        raise InvalidBooking("slot times must carry their time zone")
    if starts_at <= now:
        raise InvalidBooking("the slot has already started")
    if starts_at > now + timedelta(days=MAX_DAYS_AHEAD):
        raise InvalidBooking(f"a slot is booked at most {MAX_DAYS_AHEAD} days ahead")
    if not starts_at < ends_at <= starts_at + timedelta(days=MAX_SLOT_DAYS):
        raise InvalidBooking(f"a slot ends after it starts, within {MAX_SLOT_DAYS} days")


@dataclass
class SlotHold:
    slot_id: str
    starts_at: datetime
    ends_at: datetime
    request_id: str
    status: SlotStatus = "requested"
    held_seq: int = 0  # the order it was held in: releases go in reverse


@dataclass
class FundsHold:
    source: str
    amount_cents: int
    request_id: str
    status: FundsStatus = "requested"
    hold_id: str | None = None
    held_seq: int = 0
    captured_cents: int = 0


@dataclass
class Reschedule:
    attempt: int
    hold: SlotHold
    client_request_id: str


@dataclass
class Component:
    index: int
    spec: ComponentSpec
    shares: dict[str, int]
    slot: SlotHold
    funds: dict[str, FundsHold] = field(default_factory=dict)
    acceptance: Acceptance = "awaiting"
    stage: Stage = "booking"
    note: str | None = None
    dispute_reason: str | None = None
    settlement: dict[str, int] = field(default_factory=dict)  # what each source finally pays
    co_payment_due_cents: int = 0
    reschedule: Reschedule | None = None
    reschedules: int = 0
    old_slots: list[SlotHold] = field(default_factory=list)  # slots it moved away from
    settled: bool = False  # every capture and release of its settlement answered
    co_payment_paid: bool = False

    @property
    def provider_id(self) -> str:
        return self.spec.provider_id

    @property
    def co_payment_cents(self) -> int:
        return self.shares.get("co_payment", 0)


# Reasons a requester is told when a booking is compensated (Italian, English).
REASONS: dict[str, tuple[str, str]] = {
    "slot_unavailable": (
        "Il posto richiesto non è più disponibile.",
        "The slot asked for is no longer available.",
    ),
    "funds_refused": (
        "Il pagamento non è stato autorizzato (credito o buono insufficiente o non valido).",
        "The payment was not authorised (credit or voucher insufficient or not valid).",
    ),
    "provider_declined": (
        "Il fornitore non può accettare la prenotazione.",
        "The provider cannot accept the booking.",
    ),
    "provider_no_answer": (
        "Il fornitore non ha risposto entro il termine.",
        "The provider did not answer in time.",
    ),
    "holds_unanswered": (
        "Non è stato possibile riservare il posto e il pagamento in tempo.",
        "The slot and the payment could not be reserved in time.",
    ),
    "hold_expired": (
        "La prenotazione non è stata confermata prima della scadenza.",
        "The booking was not confirmed before its hold expired.",
    ),
    "cancelled_by_requester": (
        "La prenotazione è stata annullata su richiesta.",
        "The booking was cancelled on request.",
    ),
}
