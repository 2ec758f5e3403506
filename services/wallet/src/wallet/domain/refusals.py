"""A request of the booking saga that the wallet refused with no wallet stream to record the
refusal on (an unknown wallet or category) or that is not a hold (every refused capture or
release): one small aggregate per request, its id derived from the kind of request and the
request id, so the same request is answered once however often it arrives. Public as the
wallet's ``RequestRefused`` (not a ledger event: it moves no money)."""

from __future__ import annotations

import uuid
from typing import Any
from uuid import UUID

from eventsourcing.domain import event
from servicekit.domain import Aggregate

REFUSAL_NAMESPACE = uuid.UUID("9c2e7f14-3b8a-4d51-a6e0-1f5b7c3d9e82")
REASON_MAX = 300


class RequestRefusal(Aggregate):
    class Refused(Aggregate.Created):
        request: str  # "hold", "capture" or "release"
        request_id: str
        booking_id: str | None
        wallet_id: str
        hold_id: str | None
        hold_request_id: str | None
        hold_status: str | None
        amount_cents: int | None
        reason_code: str
        reason: str

    @event(Refused)
    def __init__(
        self,
        request: str,
        request_id: str,
        booking_id: str | None,
        wallet_id: str,
        hold_id: str | None,
        hold_request_id: str | None,
        hold_status: str | None,
        amount_cents: int | None,
        reason_code: str,
        reason: str,
    ) -> None:
        self.request = request
        self.request_id = request_id
        self.reason_code = reason_code

    @staticmethod
    def create_id(request: str, request_id: str, **_: Any) -> UUID:
        return RequestRefusal.id_for(request, request_id)

    @staticmethod
    def id_for(request: str, request_id: str) -> UUID:
        return uuid.uuid5(REFUSAL_NAMESPACE, f"{request}/{request_id}")

    @classmethod
    def record(
        cls,
        request: str,
        request_id: str,
        wallet_id: str,
        reason_code: str,
        reason: str,
        *,
        booking_id: str | None = None,
        hold_id: str | None = None,
        hold_request_id: str | None = None,
        hold_status: str | None = None,
        amount_cents: int | None = None,
    ) -> RequestRefusal:
        return cls(
            request,
            request_id,
            booking_id,
            wallet_id,
            hold_id,
            hold_request_id,
            hold_status,
            amount_cents,
            reason_code,
            reason[:REASON_MAX],
        )
