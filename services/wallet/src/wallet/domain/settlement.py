"""The rules a booking's hold lives by (the booking saga asks for holds, captures and releases
by event), and the plan's end they must fit.

A plan's credit pays for services delivered while the plan runs, but a booking is paid only
once the family confirmed the delivery (or 48 hours passed) and a dispute had its 30 days: the
booking asks its hold to last until the last slot + 48 h + 30 days. So a **booking's hold may
run past its plan's last day by the settlement grace** (``SETTLEMENT_GRACE``, 45 days): a
service on the plan's last day can still be captured. A later expiry is refused
(``hold_outlives_plan``: the service would fall after the plan), as is a hold asked once the
plan's credit has expired. An employee's own hold (HTTP) still ends with its plan.

The plan cannot close while a booking's hold is open in that grace
(``holds_await_settlement``): closing would release money a provider is about to be paid.
Every such hold ends captured, released, or at its expiry by the hold-expiry job
(``HoldExpired``), by the end of the grace at the latest.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import UUID

from wallet.domain.errors import HoldMismatch, HoldNotFound, HoldsAwaitSettlement, ProviderMismatch
from wallet.domain.plausible import end_of
from wallet.domain.wallet import Wallet

SETTLEMENT_GRACE = timedelta(days=45)
"""How long after its plan's last day a booking's hold may still run (and be captured)."""


def find_hold(wallet: Wallet, hold_id: str | None, hold_request_id: str | None) -> UUID:
    """The hold a capture or release names: by the request that made it, and by its id if
    given (both must agree)."""
    made = wallet.requests.get(f"hold:{hold_request_id}") if hold_request_id else None
    if hold_id is None:
        if made is None:
            raise HoldNotFound(f"no hold was made for request {hold_request_id}")
        return UUID(made)
    try:
        named = UUID(hold_id)
    except ValueError:
        raise HoldNotFound(f"no hold {hold_id} in this wallet") from None
    if made is not None and str(named) != made:
        raise HoldMismatch(f"hold {hold_id} is not the hold of request {hold_request_id}")
    wallet.get_hold(named)
    return named


def check_provider(hold: dict[str, Any], provider_id: str | None) -> None:
    if provider_id is not None and hold["provider_id"] != provider_id:
        raise ProviderMismatch(
            f"the hold was made for provider {hold['provider_id']}, not {provider_id}"
        )


def check_no_holds_in_grace(plan_ends_on: date, wallets: Iterable[Wallet], today: date) -> None:
    """Refuse to close a plan while a hold that outlives its last day is still open."""
    end, start_of_today = end_of(plan_ends_on), datetime.combine(today, time.min, UTC)
    pending = [
        (hold["amount"], expiry)
        for wallet in wallets
        for hold in wallet.holds.values()
        if hold["status"] == "held"
        and (expiry := datetime.fromisoformat(hold["expires_at"])) > max(end, start_of_today)
    ]
    if pending:
        held = sum(cents for cents, _ in pending)
        until = max(expiry for _, expiry in pending)
        raise HoldsAwaitSettlement(
            f"{held} cents are held for bookings in the plan's settlement grace, until "
            f"{until.isoformat()} at the latest: close the plan once they are captured, "
            "released or expired",
            held_cents=held,
            until=until.isoformat(),
        )
