"""The participants' answers to the booking's requests, as the catalog, the wallet and the
vouchers service send them (contract events), for the tests to feed the policy."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from benecomune_contracts import booking as contract
from benecomune_contracts import catalog, vouchers, wallet

CHAIN: dict[str, Any] = {"sequence": 2, "prev_hash": "0" * 64, "event_hash": "0" * 64}


def at() -> datetime:
    return datetime.now(UTC)


def holder(request_id: str) -> str:
    return ":".join(request_id.split(":")[:2])


def slot_held(ask: contract.SlotHoldRequested, **changes: Any) -> catalog.SlotHeld:
    fields: dict[str, Any] = {
        "slot_id": ask.slot_id, "offering_id": ask.offering_id, "provider_id": ask.provider_id,
        "request_id": ask.request_id, "quantity": 1, "expires_at": ask.expires_at,
        "held_at": at(), "holder": holder(ask.request_id),
    }  # fmt: skip
    return catalog.SlotHeld(**{**fields, **changes})


def funds_held(ask: contract.FundsHoldRequested) -> Any:
    """The wallet's ``FundsHeld`` or the vouchers service's ``ServiceVoucherHeld``."""
    hold_id = f"h-{ask.component}" if ask.source == "wallet" else f"hv-{ask.component}"
    if ask.source == "voucher":
        return vouchers.ServiceVoucherHeld(
            stream_id=ask.account_id, **CHAIN, voucher_id=ask.account_id, round_id="r-1",
            hold_id=hold_id, request_id=ask.request_id, booking_id=ask.booking_id,
            provider_id=ask.provider_id, category=ask.category, amount_cents=ask.amount_cents,
            held_cents=ask.amount_cents, remaining_cents=ask.amount_cents,
            expires_at=ask.expires_at, held_at=at(),
        )  # fmt: skip
    return wallet.FundsHeld(
        stream_id=ask.account_id, **CHAIN, transfers=[], wallet_id=ask.account_id,
        employee_id="b-1", hold_id=hold_id, request_id=ask.request_id,
        provider_id=ask.provider_id, category=ask.category, amount_cents=ask.amount_cents,
        expires_at=ask.expires_at, held_at=at(),
    )  # fmt: skip
