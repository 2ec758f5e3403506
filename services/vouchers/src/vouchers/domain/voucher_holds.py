"""What a booking's hold does to a service voucher, and how each event changes it (its
``apply``). The ``Voucher`` aggregate (``voucher.py``) decides, and names these classes: the
aggregate's metaclass makes each one ``Voucher.<Name>``, so they are stored under
``vouchers.domain.voucher:Voucher.<Name>``.

A hold is not a redemption: the balance (``remaining_cents``) stays and what is available
drops. A capture is one: the balance drops by what was captured, and the hold ends."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

from servicekit.chain import ChainedAggregate

if TYPE_CHECKING:
    from vouchers.domain.voucher import Voucher


class Held(ChainedAggregate.Event):
    round_id: UUID
    hold_id: str
    request_id: str
    booking_id: str
    provider_id: str
    category: str
    amount_cents: int
    held_cents: int
    remaining_cents: int
    expires_at: datetime

    def apply(self, voucher: Voucher) -> None:
        voucher.held_cents = self.held_cents
        voucher.holds[self.hold_id] = {
            "request_id": self.request_id,
            "booking_id": self.booking_id,
            "provider_id": self.provider_id,
            "category": self.category,
            "amount_cents": self.amount_cents,
            "expires_at": self.expires_at,
            "status": "held",
        }


class HoldCaptured(ChainedAggregate.Event):
    round_id: UUID
    hold_id: str
    request_id: str
    booking_id: str
    redemption_id: UUID
    provider_id: str
    category: str
    amount_cents: int
    released_cents: int
    held_cents: int
    remaining_cents: int

    def apply(self, voucher: Voucher) -> None:
        voucher.held_cents = self.held_cents
        voucher.remaining_cents = self.remaining_cents
        voucher.holds[self.hold_id]["status"] = "captured"
        voucher.redemptions[str(self.redemption_id)] = {
            "merchant_id": self.provider_id,
            "amount_cents": self.amount_cents,
            "goods_category": self.category,
            "voided": False,
            "captured": True,
        }


class HoldReleased(ChainedAggregate.Event):
    round_id: UUID
    hold_id: str
    request_id: str | None
    booking_id: str
    amount_cents: int
    held_cents: int
    lapsed: bool

    def apply(self, voucher: Voucher) -> None:
        voucher.held_cents = self.held_cents
        voucher.holds[self.hold_id]["status"] = "lapsed" if self.lapsed else "released"
