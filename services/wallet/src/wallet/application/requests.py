"""What the wallet does when another service asks it by event (the booking saga, a later issue):
hold, capture, release. The booking service's contract events are translated into these
requests by its policy handlers (registered on ``WalletApplication.policy`` once booking
publishes them); the effects are stored with the consumer's tracking positions in one
transaction, so each request has its effect exactly once — and each is idempotent by its
request id besides, as the HTTP commands are.

A request the wallet refuses (not enough credit, a category the plan does not allow, the
fringe cap without the employee's confirmation) is recorded as ``HoldRefused`` on the wallet
stream, so the saga hears why and compensates; it never blocks the consumer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID


@dataclass(frozen=True)
class HoldRequest:
    wallet_id: UUID
    request_id: str
    provider_id: str
    category: str
    amount_cents: int
    expires_at: datetime
    confirm_taxable: bool = False
    for_member_id: str | None = None


@dataclass(frozen=True)
class CaptureRequest:
    wallet_id: UUID
    hold_id: UUID
    request_id: str
    amount_cents: int | None = None


@dataclass(frozen=True)
class ReleaseRequest:
    wallet_id: UUID
    hold_id: UUID
    request_id: str
